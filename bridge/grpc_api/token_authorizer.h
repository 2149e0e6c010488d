// TokenAuthorizer: the bearer tokens of the EventStream API and the consumer
// groups each may use. Authenticate() turns a call's `authorization` metadata
// into an Access; Access::CheckGroup() decides whether that caller may use a
// consumer group. Knows nothing of gRPC (the service hands the metadata in).
// Tokens are kept only as SHA-256 digests and compared in constant time; no
// error message or log line ever contains a token.
#ifndef REFIR_BRIDGE_GRPC_API_TOKEN_AUTHORIZER_H_
#define REFIR_BRIDGE_GRPC_API_TOKEN_AUTHORIZER_H_

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace refir::bridge {

// One configured token (a line of the tokens file).
struct TokenGrant {
  // Names the token in logs and error messages (the token itself never is).
  std::string name;
  // The secret.
  std::string token;
  // Consumer groups the token may use; {"*"} means every group.
  std::vector<std::string> groups;
};

// What a token may do once it is known.
struct TokenScope {
  std::string name;
  bool all_groups = false;
  absl::flat_hash_set<std::string> groups;
};

// What one authenticated call may do. Copyable; points into the
// TokenAuthorizer that made it, which must outlive it.
class Access {
 public:
  // Tokens are off: every group is allowed.
  static Access Unrestricted() { return Access(nullptr); }

  bool restricted() const { return scope_ != nullptr; }
  // The token's name; "" when unrestricted.
  absl::string_view name() const;
  bool AllowsGroup(absl::string_view group) const;
  // OK, or PERMISSION_DENIED naming `group` and the token's name.
  absl::Status CheckGroup(absl::string_view group) const;

 private:
  friend class TokenAuthorizer;
  explicit Access(const TokenScope* scope) : scope_(scope) {}
  const TokenScope* scope_;
};

class TokenAuthorizer {
 public:
  // Checks the grants (at least one; names and tokens unique; tokens of the
  // RFC 6750 character set, at least kMinTokenLength long; groups valid
  // consumer group names, or "*" alone). INVALID_ARGUMENT naming the grant
  // otherwise.
  static absl::StatusOr<std::unique_ptr<TokenAuthorizer>> Create(std::vector<TokenGrant> grants);

  static constexpr size_t kMinTokenLength = 16;

  // `authorization_values`: every `authorization` metadata value the call
  // carried. UNAUTHENTICATED unless there is exactly one, of the form
  // "Bearer <token>", with a configured token.
  absl::StatusOr<Access> Authenticate(
      absl::Span<const absl::string_view> authorization_values) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::array<unsigned char, 32> digest;  // SHA-256 of the token.
    TokenScope scope;
  };
  explicit TokenAuthorizer(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  const std::vector<Entry> entries_;
};

// Checks one token's characters and length; the message never shows it.
absl::Status ValidateToken(absl::string_view token);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_TOKEN_AUTHORIZER_H_
