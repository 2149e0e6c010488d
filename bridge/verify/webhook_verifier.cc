#include "bridge/verify/webhook_verifier.h"

namespace refir::bridge {
namespace {

class AcceptAllVerifier : public WebhookVerifier {
 public:
  absl::Status Verify(const VerificationInput&) const override { return absl::OkStatus(); }
};

}  // namespace

absl::StatusOr<std::unique_ptr<WebhookVerifier>> MakeWebhookVerifier(const VerifierConfig& config) {
  if (config.kind == VerificationKind::kNone) return std::make_unique<AcceptAllVerifier>();
  return absl::UnimplementedError("only verification kind none is implemented so far");
}

}  // namespace refir::bridge
