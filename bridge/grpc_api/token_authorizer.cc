#include "bridge/grpc_api/token_authorizer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/delivery/consumer_groups.h"

namespace refir::bridge {
namespace {

constexpr absl::string_view kBearerHint = "send metadata \"authorization: Bearer <token>\"";

bool Sha256(absl::string_view data, std::array<unsigned char, 32>* digest) {
  unsigned int length = 0;
  return EVP_Digest(data.data(), data.size(), digest->data(), &length, EVP_sha256(), nullptr) ==
             1 &&
         length == digest->size();
}

// RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == '+' || c == '/';
}

}  // namespace

absl::Status ValidateToken(absl::string_view token) {
  size_t end = token.size();
  while (end > 0 && token[end - 1] == '=') --end;
  for (size_t i = 0; i < end; ++i) {
    if (!IsTokenChar(token[i])) {
      return absl::InvalidArgumentError(
          "the token may only contain letters, digits and -._~+/ (then '=' padding)");
    }
  }
  if (end == 0 || token.size() < TokenAuthorizer::kMinTokenLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the token must be at least ", TokenAuthorizer::kMinTokenLength, " characters long"));
  }
  return absl::OkStatus();
}

absl::string_view Access::name() const {
  return scope_ == nullptr ? absl::string_view() : absl::string_view(scope_->name);
}

bool Access::AllowsGroup(absl::string_view group) const {
  return scope_ == nullptr || scope_->all_groups || scope_->groups.contains(group);
}

absl::Status Access::CheckGroup(absl::string_view group) const {
  if (AllowsGroup(group)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("token \"", scope_->name, "\" may not use consumer group \"", group, "\""));
}

absl::StatusOr<std::unique_ptr<TokenAuthorizer>> TokenAuthorizer::Create(
    std::vector<TokenGrant> grants) {
  if (grants.empty()) return absl::InvalidArgumentError("no tokens are configured");
  std::vector<Entry> entries;
  entries.reserve(grants.size());
  absl::flat_hash_set<std::string> names;
  for (TokenGrant& grant : grants) {
    const std::string where = absl::StrCat("token \"", grant.name, "\": ");
    if (grant.name.empty()) return absl::InvalidArgumentError("a token has an empty name");
    if (!names.insert(grant.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("token name \"", grant.name, "\" is used twice"));
    }
    if (absl::Status valid = ValidateToken(grant.token); !valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, valid.message()));
    }
    Entry entry;
    const bool hashed = Sha256(grant.token, &entry.digest);
    OPENSSL_cleanse(grant.token.data(), grant.token.size());  // Only the digest is kept.
    if (!hashed) return absl::InternalError("SHA-256 failed");
    for (const Entry& other : entries) {
      if (CRYPTO_memcmp(other.digest.data(), entry.digest.data(), entry.digest.size()) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "has the same token as \"", other.scope.name, "\""));
      }
    }
    if (grant.groups.empty()) return absl::InvalidArgumentError(absl::StrCat(where, "no groups"));
    for (const std::string& group : grant.groups) {
      if (group == "*") {
        if (grant.groups.size() != 1) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, "\"*\" (every group) cannot be listed with other groups"));
        }
        entry.scope.all_groups = true;
        continue;
      }
      if (absl::Status valid = ValidateGroupName(group); !valid.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(where, valid.message()));
      }
      if (!entry.scope.groups.insert(group).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "consumer group \"", group, "\" is listed twice"));
      }
    }
    entry.scope.name = std::move(grant.name);
    entries.push_back(std::move(entry));
  }
  return std::unique_ptr<TokenAuthorizer>(new TokenAuthorizer(std::move(entries)));
}

absl::StatusOr<Access> TokenAuthorizer::Authenticate(
    absl::Span<const absl::string_view> authorization_values) const {
  if (authorization_values.empty()) {
    return absl::UnauthenticatedError(absl::StrCat("missing bearer token: ", kBearerHint));
  }
  if (authorization_values.size() > 1) {
    return absl::UnauthenticatedError("more than one authorization metadata entry");
  }
  absl::string_view value = authorization_values[0];
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError(
        absl::StrCat("the authorization metadata is not a bearer token: ", kBearerHint));
  }
  const absl::string_view token = absl::StripAsciiWhitespace(value.substr(kScheme.size()));
  std::array<unsigned char, 32> digest;
  if (!Sha256(token, &digest)) return absl::InternalError("SHA-256 failed");
  // Every entry is compared, in constant time, whichever matches.
  const Entry* match = nullptr;
  for (const Entry& entry : entries_) {
    if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0) match = &entry;
  }
  if (match == nullptr) return absl::UnauthenticatedError("unknown bearer token");
  return Access(&match->scope);
}

}  // namespace refir::bridge
