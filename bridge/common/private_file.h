// File permissions of what the bridge keeps private: secret files it reads
// (verification secrets, the tokens file, TLS keys) should not be readable
// by group or others, and the SQLite files it creates (webhook bodies hold
// personal data) are made 0600 whatever the umask.
#ifndef REFIR_BRIDGE_COMMON_PRIVATE_FILE_H_
#define REFIR_BRIDGE_COMMON_PRIVATE_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace refir::bridge {

// Checks the secret file at `path` (symlinks followed; `what` names it in
// messages, e.g. "--grpc_tokens_file"). When it is readable by group or
// others: with `refuse`, FAILED_PRECONDITION naming the file and its mode;
// otherwise a warning is logged and OK returned. OK when `path` cannot be
// stat'ed (whoever reads it reports why). Never reads the content.
absl::Status CheckSecretFileMode(const std::string& path, absl::string_view what, bool refuse);

// Prepares the SQLite database at `path` before SQLite opens it: a missing
// file is created empty with mode 0600 (set explicitly, so a looser umask
// does not matter; SQLite gives its -wal and -shm files the database's
// mode). An existing file, -wal or -shm readable by group or others is
// logged as a warning and left as it is. Errors other than "exists" are left
// for SQLite's open to report.
void CreatePrivateDbFile(const std::string& path);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_COMMON_PRIVATE_FILE_H_
