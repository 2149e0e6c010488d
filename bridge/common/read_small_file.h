// Reads a small file (a config or sources file, a secret, a PEM certificate
// or key, the tokens file) whole, with errors that say why: missing,
// unreadable, not a regular file, too large. The one way the bridge reads
// its configuration files.
#ifndef REFIR_BRIDGE_COMMON_READ_SMALL_FILE_H_
#define REFIR_BRIDGE_COMMON_READ_SMALL_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace refir::bridge {

// The contents of `path` (symlinks followed), which must be a regular file of
// at most `max_bytes`. NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION or
// INVALID_ARGUMENT otherwise, with a message that does not repeat the path.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_COMMON_READ_SMALL_FILE_H_
