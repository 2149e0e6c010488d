#include "bridge/verify/token_verifier.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/verify/crypto.h"
#include "bridge/verify/verifier_support.h"

namespace refir::bridge::verify_internal {
namespace {

constexpr absl::string_view kBearer = "bearer ";

class TokenVerifier : public WebhookVerifier {
 public:
  // `secret_digests` are SHA-256 digests of the accepted tokens: comparing
  // fixed-size digests keeps the comparison constant-time even when the
  // token presented has another length than the secret.
  TokenVerifier(std::vector<std::string> secret_digests, std::string header,
                std::string query_parameter)
      : secret_digests_(std::move(secret_digests)),
        header_(std::move(header)),
        query_parameter_(std::move(query_parameter)),
        where_(header_.empty() ? absl::StrCat("query parameter ", query_parameter_)
                               : absl::StrCat("header ", header_)),
        bearer_allowed_(absl::EqualsIgnoreCase(header_, "authorization")) {}

  absl::Status Verify(const VerificationInput& input) const override {
    const std::string* value =
        header_.empty() ? FindQueryParameter(input, query_parameter_) : FindHeader(input, header_);
    if (value == nullptr) return Unauthenticated(absl::StrCat("missing ", where_));
    absl::string_view token = *value;
    if (bearer_allowed_ && absl::StartsWithIgnoreCase(token, kBearer)) {
      token.remove_prefix(kBearer.size());
      token = absl::StripAsciiWhitespace(token);
    }
    if (token.empty()) return Unauthenticated(absl::StrCat("empty token in ", where_));
    absl::StatusOr<std::string> digest = Sha256(token);
    if (!digest.ok()) return digest.status();
    bool matched = false;
    for (const std::string& secret_digest : secret_digests_) {
      matched |= ConstantTimeEquals(*digest, secret_digest);
    }
    if (!matched) {
      return Unauthenticated(
          absl::StrCat("the token in ", where_, " matches no configured secret"));
    }
    return absl::OkStatus();
  }

 private:
  const std::vector<std::string> secret_digests_;
  const std::string header_;
  const std::string query_parameter_;
  const std::string where_;
  const bool bearer_allowed_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WebhookVerifier>> MakeTokenVerifier(const VerifierConfig& config) {
  if (config.token_header.empty() == config.token_query_parameter.empty()) {
    return absl::InvalidArgumentError(
        "token verification needs exactly one of token_header and token_query_parameter");
  }
  if (config.secrets.empty()) {
    return absl::InvalidArgumentError("token verification needs at least one secret");
  }
  std::vector<std::string> digests;
  for (size_t i = 0; i < config.secrets.size(); ++i) {
    if (config.secrets[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token verification: secret #", i + 1, " is empty"));
    }
    absl::StatusOr<std::string> digest = Sha256(config.secrets[i]);
    if (!digest.ok()) return digest.status();
    digests.push_back(*std::move(digest));
  }
  return std::make_unique<TokenVerifier>(std::move(digests), config.token_header,
                                         config.token_query_parameter);
}

}  // namespace refir::bridge::verify_internal
