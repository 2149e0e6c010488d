#include "bridge/verify/webhook_signer.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bridge/verify/crypto.h"

namespace refir::bridge {
namespace {

using verify_internal::DecodeBase64;
using verify_internal::Hmac;

constexpr absl::string_view kStandardSecretPrefix = "whsec_";

}  // namespace

absl::StatusOr<SignedWebhook> SignWebhook(const VerifierConfig& config, absl::string_view body,
                                          absl::string_view message_id, absl::Time now) {
  SignedWebhook signed_webhook;
  if (config.kind == VerificationKind::kNone) return signed_webhook;
  if (config.secrets.empty() || config.secrets[0].empty()) {
    return absl::InvalidArgumentError(
        "the source verifies webhooks but has no secret to sign with");
  }
  const std::string& secret = config.secrets[0];
  switch (config.kind) {
    case VerificationKind::kNone:
      break;
    case VerificationKind::kToken:
      if (!config.token_query_parameter.empty()) {
        signed_webhook.query_parameters.emplace_back(config.token_query_parameter, secret);
      } else if (absl::EqualsIgnoreCase(config.token_header, "authorization")) {
        signed_webhook.headers.emplace_back(config.token_header, absl::StrCat("Bearer ", secret));
      } else {
        signed_webhook.headers.emplace_back(config.token_header, secret);
      }
      break;
    case VerificationKind::kHmac: {
      absl::StatusOr<std::string> mac = Hmac(config.algorithm, secret, body);
      if (!mac.ok()) return mac.status();
      const std::string encoded = config.encoding == SignatureEncoding::kHex
                                      ? absl::BytesToHexString(*mac)
                                      : absl::Base64Escape(*mac);
      signed_webhook.headers.emplace_back(config.signature_header,
                                          absl::StrCat(config.signature_prefix, encoded));
      break;
    }
    case VerificationKind::kStandardWebhooks: {
      absl::string_view text = absl::StripAsciiWhitespace(secret);
      absl::ConsumePrefix(&text, kStandardSecretPrefix);
      std::optional<std::string> key = DecodeBase64(text);
      if (!key.has_value()) {
        return absl::InvalidArgumentError("the source's secret is not whsec_<base64>");
      }
      const std::string timestamp = absl::StrCat(absl::ToUnixSeconds(now));
      absl::StatusOr<std::string> mac =
          Hmac(HmacAlgorithm::kSha256, *key, absl::StrCat(message_id, ".", timestamp, ".", body));
      if (!mac.ok()) return mac.status();
      signed_webhook.headers.emplace_back("webhook-id", std::string(message_id));
      signed_webhook.headers.emplace_back("webhook-timestamp", timestamp);
      signed_webhook.headers.emplace_back("webhook-signature",
                                          absl::StrCat("v1,", absl::Base64Escape(*mac)));
      break;
    }
  }
  return signed_webhook;
}

}  // namespace refir::bridge
