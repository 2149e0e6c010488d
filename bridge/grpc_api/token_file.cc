#include "bridge/grpc_api/token_file.h"

#include <openssl/crypto.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bridge/common/read_small_file.h"
#include "bridge/common/status_macros.h"

namespace refir::bridge {
namespace {

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxFileBytes = 1024 * 1024;

absl::Status LineError(int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", message));
}

absl::Status ValidateName(absl::string_view name) {
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("token name is longer than ", kMaxNameLength, " characters"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "token name \"", name, "\" may only contain letters, digits, '.', '_', '-'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<TokenGrant>> ParseTokenFile(absl::string_view contents) {
  std::vector<TokenGrant> grants;
  std::vector<int> grant_lines;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 3) {
      return LineError(line_number,
                       absl::StrCat("expected 3 fields \"<name> <token> <group>[,<group>...]\", "
                                    "got ",
                                    fields.size()));
    }
    TokenGrant grant;
    grant.name = std::string(fields[0]);
    if (absl::Status valid = ValidateName(grant.name); !valid.ok()) {
      return LineError(line_number, valid.message());
    }
    if (absl::Status valid = ValidateToken(fields[1]); !valid.ok()) {
      return LineError(line_number, absl::StrCat("token \"", grant.name, "\": ", valid.message()));
    }
    grant.token = std::string(fields[1]);
    grant.groups = absl::StrSplit(fields[2], ',');
    // Create() checks the rest (groups, duplicates); check one grant at a
    // time so its error can name this line.
    if (absl::StatusOr<std::unique_ptr<TokenAuthorizer>> one = TokenAuthorizer::Create({grant});
        !one.ok()) {
      return LineError(line_number, one.status().message());
    }
    for (size_t i = 0; i < grants.size(); ++i) {
      if (grants[i].name == grant.name) {
        return LineError(line_number, absl::StrCat("token name \"", grant.name,
                                                   "\" is already used on line ", grant_lines[i]));
      }
      if (grants[i].token == grant.token) {
        return LineError(
            line_number,
            absl::StrCat("token \"", grant.name, "\" has the same token as line ", grant_lines[i]));
      }
    }
    grants.push_back(std::move(grant));
    grant_lines.push_back(line_number);
  }
  if (grants.empty()) return absl::InvalidArgumentError("the file has no tokens");
  return grants;
}

absl::StatusOr<std::unique_ptr<TokenAuthorizer>> LoadTokenFile(const std::string& path) {
  const std::string where = absl::StrCat("--grpc_tokens_file \"", path, "\": ");
  absl::StatusOr<std::string> contents = ReadSmallFile(path, kMaxFileBytes);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(), absl::StrCat(where, contents.status().message()));
  }
  absl::StatusOr<std::vector<TokenGrant>> grants = ParseTokenFile(*contents);
  OPENSSL_cleanse(contents->data(), contents->size());  // Create() keeps digests only.
  if (!grants.ok())
    return absl::InvalidArgumentError(absl::StrCat(where, grants.status().message()));
  absl::StatusOr<std::unique_ptr<TokenAuthorizer>> authorizer =
      TokenAuthorizer::Create(*std::move(grants));
  if (!authorizer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, authorizer.status().message()));
  }
  return authorizer;
}

}  // namespace refir::bridge
