// Helpers shared by the webhook verifiers: looking up request headers and
// query parameters in a VerificationInput, and the UNAUTHENTICATED status
// every failed verification returns.
#ifndef REFIR_BRIDGE_VERIFY_VERIFIER_SUPPORT_H_
#define REFIR_BRIDGE_VERIFY_VERIFIER_SUPPORT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "bridge/verify/webhook_verifier.h"

namespace refir::bridge::verify_internal {

// The reason attached to every verification failure.
inline constexpr absl::string_view kUnauthenticatedReason = "unauthenticated";

// UNAUTHENTICATED with reason "unauthenticated" and `message`. The message
// must never contain a secret or an expected signature.
absl::Status Unauthenticated(absl::string_view message);

// The value of the first header named `name` (ASCII case-insensitive), or
// null when there is none (or input.headers is null).
const std::string* FindHeader(const VerificationInput& input, absl::string_view name);

// The value of the first query parameter named exactly `name`, or null.
const std::string* FindQueryParameter(const VerificationInput& input, absl::string_view name);

}  // namespace refir::bridge::verify_internal

#endif  // REFIR_BRIDGE_VERIFY_VERIFIER_SUPPORT_H_
