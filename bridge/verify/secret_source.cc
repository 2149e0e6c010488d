#include "bridge/verify/secret_source.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace refir::bridge {

absl::StatusOr<std::string> ReadSecretFromFile(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("secret file: empty path");
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open secret file ", path, ": ", std::strerror(errno)));
  }
  std::string content;
  char buffer[4096];
  while (file.read(buffer, sizeof(buffer)) || file.gcount() > 0) {
    content.append(buffer, static_cast<size_t>(file.gcount()));
    if (content.size() > kMaxSecretFileBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("secret file ", path, " is larger than ", kMaxSecretFileBytes, " bytes"));
    }
  }
  if (file.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read secret file ", path));
  }
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
