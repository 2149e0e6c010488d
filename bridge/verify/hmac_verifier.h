// The kHmac verifier: an HMAC-SHA256 or -SHA512 of the raw body, hex or
// base64, in a configured header with an optional prefix ("sha256=" as in
// GitHub's X-Hub-Signature-256).
#ifndef REFIR_BRIDGE_VERIFY_HMAC_VERIFIER_H_
#define REFIR_BRIDGE_VERIFY_HMAC_VERIFIER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "bridge/verify/webhook_verifier.h"

namespace refir::bridge::verify_internal {

// INVALID_ARGUMENT when no secret (or an empty one) is configured or
// signature_header is empty.
absl::StatusOr<std::unique_ptr<WebhookVerifier>> MakeHmacVerifier(const VerifierConfig& config);

}  // namespace refir::bridge::verify_internal

#endif  // REFIR_BRIDGE_VERIFY_HMAC_VERIFIER_H_
