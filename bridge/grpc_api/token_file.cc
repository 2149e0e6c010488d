#include "bridge/grpc_api/token_file.h"

#include <openssl/crypto.h>

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bridge/common/read_small_file.h"
#include "bridge/common/status_macros.h"
#include "bridge/delivery/consumer_groups.h"

namespace refir::bridge {
namespace {

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxFileBytes = 1024 * 1024;
constexpr absl::string_view kFormat = "the fields are <name> <token> <group>[,<group>...]";

// No message here quotes a field of the file: with the columns in the wrong
// order, any of them may be a token, and errors end up in logs.
absl::Status LineError(int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", message));
}

absl::Status CheckName(absl::string_view name) {
  bool valid = name.size() <= kMaxNameLength;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      valid = false;
    }
  }
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "the name (first field) must be 1 to ", kMaxNameLength, " letters, digits, '.', '_' or '-'",
      ValidateToken(name).ok() ? " (it looks like a token: are the fields in the wrong order? "
                               : " (",
      kFormat, ")"));
}

absl::Status CheckGroups(const std::vector<std::string>& groups) {
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < groups.size(); ++i) {
    const std::string& group = groups[i];
    if (group == "*") {
      if (groups.size() != 1) {
        return absl::InvalidArgumentError(
            "the groups (third field): \"*\" (every group) cannot be listed with other groups");
      }
      continue;
    }
    if (!ValidateGroupName(group).ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the groups (third field): group ", i + 1,
          " is not a consumer group name (1 to 128 letters, digits, '.', '_' or '-'), nor \"*\" "
          "alone (",
          kFormat, ")"));
    }
    if (!seen.insert(group).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("the groups (third field): group ", i + 1, " is listed twice"));
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
                       absl::StrCat("expected 3 fields, got ", fields.size(), "; ", kFormat));
    }
    if (absl::Status valid = CheckName(fields[0]); !valid.ok()) {
      return LineError(line_number, valid.message());
    }
    if (absl::Status valid = ValidateToken(fields[1]); !valid.ok()) {
      return LineError(line_number, absl::StrCat("the token (second field): ", valid.message()));
    }
    TokenGrant grant;
    grant.name = std::string(fields[0]);
    grant.token = std::string(fields[1]);
    grant.groups = absl::StrSplit(fields[2], ',');
    if (absl::Status valid = CheckGroups(grant.groups); !valid.ok()) {
      return LineError(line_number, valid.message());
    }
    for (size_t i = 0; i < grants.size(); ++i) {
      if (grants[i].name == grant.name) {
        return LineError(
            line_number,
            absl::StrCat("the name (first field) is already used on line ", grant_lines[i]));
      }
      if (grants[i].token == grant.token) {
        return LineError(
            line_number,
            absl::StrCat("the token (second field) is the same as on line ", grant_lines[i]));
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
    // ParseTokenFile checked everything Create does; its message may quote
    // names or groups, so it is not repeated.
    return absl::InvalidArgumentError(absl::StrCat(where, "the tokens are not valid"));
  }
  return authorizer;
}

}  // namespace refir::bridge
