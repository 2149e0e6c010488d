#include "bridge/verify/webhook_verifier.h"

#include "bridge/verify/hmac_verifier.h"
#include "bridge/verify/standard_webhooks_verifier.h"
#include "bridge/verify/token_verifier.h"

namespace refir::bridge {
namespace {

class AcceptAllVerifier : public WebhookVerifier {
 public:
  absl::Status Verify(const VerificationInput&) const override { return absl::OkStatus(); }
};

}  // namespace

absl::StatusOr<std::unique_ptr<WebhookVerifier>> MakeWebhookVerifier(const VerifierConfig& config) {
  switch (config.kind) {
    case VerificationKind::kNone:
      return std::make_unique<AcceptAllVerifier>();
    case VerificationKind::kToken:
      return verify_internal::MakeTokenVerifier(config);
    case VerificationKind::kHmac:
      return verify_internal::MakeHmacVerifier(config);
    case VerificationKind::kStandardWebhooks:
      return verify_internal::MakeStandardWebhooksVerifier(config);
  }
  return absl::InvalidArgumentError("unknown verification kind");
}

}  // namespace refir::bridge
