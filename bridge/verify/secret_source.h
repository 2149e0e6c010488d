// Loading verification secrets from where operators keep them: a file (a
// mounted Kubernetes/Docker secret, a systemd credential) or an environment
// variable. Secrets never come from flags (argv is visible to every local
// user). Errors name the file or the variable, never the content.
#ifndef REFIR_BRIDGE_VERIFY_SECRET_SOURCE_H_
#define REFIR_BRIDGE_VERIFY_SECRET_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refir::bridge {

// Files larger than this are refused (a secret is a few dozen bytes; this
// guards against pointing at a device or a log file by mistake).
inline constexpr size_t kMaxSecretFileBytes = 64 * 1024;

// The content of the file at `path`, without one trailing newline ("\n" or
// "\r\n"). INVALID_ARGUMENT naming the file when it cannot be read, is empty
// (or only that newline), or is larger than kMaxSecretFileBytes.
absl::StatusOr<std::string> ReadSecretFromFile(const std::string& path);

// The value of environment variable `name`. INVALID_ARGUMENT naming the
// variable when it is unset or empty. Reads the environment: call at startup,
// not while other threads may change it.
absl::StatusOr<std::string> ReadSecretFromEnv(const std::string& name);

// Where one secret comes from.
struct SecretSource {
  enum class Kind { kFile, kEnv };
  Kind kind = Kind::kFile;
  // A file path for kFile, a variable name for kEnv.
  std::string location;
};

// ReadSecretFromFile or ReadSecretFromEnv, as `source` says.
absl::StatusOr<std::string> LoadSecret(const SecretSource& source);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_VERIFY_SECRET_SOURCE_H_
