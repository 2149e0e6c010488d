// The --grpc_tokens_file format. One token per line, fields separated by
// spaces or tabs:
//
//   # comment lines and blank lines are ignored
//   <name>  <token>  <group>[,<group>...]
//   billing  3q2+7w...  billing,billing-replay
//   ops      Zm9v...    *
//
// <name> ([A-Za-z0-9._-], 1 to 64) names the token in logs and errors;
// <token> is the secret a client sends as "authorization: Bearer <token>"
// (RFC 6750 characters, at least 16); the groups are consumer group names, or
// "*" alone for every group. Errors name the line and the field by position,
// and never quote a field: with the columns swapped, any may be a token.
#ifndef REFIR_BRIDGE_GRPC_API_TOKEN_FILE_H_
#define REFIR_BRIDGE_GRPC_API_TOKEN_FILE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/grpc_api/token_authorizer.h"

namespace refir::bridge {

// Parses the file's contents; INVALID_ARGUMENT "line N: ..." on the first
// bad line (also for a duplicate name or token, and for a file without tokens).
absl::StatusOr<std::vector<TokenGrant>> ParseTokenFile(absl::string_view contents);

// Reads and parses `path` and builds the authorizer. Errors start with
// "--grpc_tokens_file \"<path>\"".
absl::StatusOr<std::unique_ptr<TokenAuthorizer>> LoadTokenFile(const std::string& path);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_TOKEN_FILE_H_
