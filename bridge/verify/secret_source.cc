#include "bridge/verify/secret_source.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/common/read_small_file.h"

namespace refir::bridge {

absl::StatusOr<std::string> ReadSecretFromFile(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("secret file: empty path");
  absl::StatusOr<std::string> read = ReadSmallFile(path, kMaxSecretFileBytes);
  if (!read.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot use secret file ", path, ": ", read.status().message()));
  }
  std::string content = *std::move(read);
  if (absl::EndsWith(content, "\r\n")) {
    content.resize(content.size() - 2);
  } else if (absl::EndsWith(content, "\n")) {
    content.pop_back();
  }
  if (content.empty())
    return absl::InvalidArgumentError(absl::StrCat("secret file ", path, " is empty"));
  return content;
}

absl::StatusOr<std::string> ReadSecretFromEnv(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("secret environment variable: empty name");
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("secret environment variable ", name, " is not set"));
  }
  if (*value == '\0') {
    return absl::InvalidArgumentError(
        absl::StrCat("secret environment variable ", name, " is empty"));
  }
  return std::string(value);
}

absl::StatusOr<std::string> LoadSecret(const SecretSource& source) {
  switch (source.kind) {
    case SecretSource::Kind::kFile:
      return ReadSecretFromFile(source.location);
    case SecretSource::Kind::kEnv:
      return ReadSecretFromEnv(source.location);
  }
  return absl::InvalidArgumentError("unknown secret source kind");
}

}  // namespace refir::bridge
