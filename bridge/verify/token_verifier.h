// The kToken verifier: a shared secret sent verbatim in a header or a query
// parameter ("authorization: Bearer <token>" accepted).
#ifndef REFIR_BRIDGE_VERIFY_TOKEN_VERIFIER_H_
#define REFIR_BRIDGE_VERIFY_TOKEN_VERIFIER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "bridge/verify/webhook_verifier.h"

namespace refir::bridge::verify_internal {

// INVALID_ARGUMENT when no secret (or an empty one) is configured, or not
// exactly one of token_header and token_query_parameter is set.
absl::StatusOr<std::unique_ptr<WebhookVerifier>> MakeTokenVerifier(const VerifierConfig& config);

}  // namespace refir::bridge::verify_internal

#endif  // REFIR_BRIDGE_VERIFY_TOKEN_VERIFIER_H_
