// The kStandardWebhooks verifier (https://www.standardwebhooks.com, v1
// symmetric signatures): webhook-id, webhook-timestamp and webhook-signature
// headers, HMAC-SHA256 of "<id>.<timestamp>.<body>" under a whsec_ secret.
// Svix's svix-id, svix-timestamp and svix-signature headers (same scheme) are
// read when the webhook-* ones are absent.
#ifndef REFIR_BRIDGE_VERIFY_STANDARD_WEBHOOKS_VERIFIER_H_
#define REFIR_BRIDGE_VERIFY_STANDARD_WEBHOOKS_VERIFIER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "bridge/verify/webhook_verifier.h"

namespace refir::bridge::verify_internal {

// INVALID_ARGUMENT when no secret is configured, a secret is not
// "whsec_<base64>" (or bare base64) of at least one byte, or the tolerance is
// negative.
absl::StatusOr<std::unique_ptr<WebhookVerifier>> MakeStandardWebhooksVerifier(
    const VerifierConfig& config);

}  // namespace refir::bridge::verify_internal

#endif  // REFIR_BRIDGE_VERIFY_STANDARD_WEBHOOKS_VERIFIER_H_
