// SignWebhook: the sending side of a source's verification. Given the same
// VerifierConfig the bridge verifies with, it returns the headers (or the
// query parameter) that make a body pass that source's WebhookVerifier:
// the token, the HMAC of the body, or the Standard Webhooks signature.
// Signs with the first secret. For `refir-bridge send` and for tests.
#ifndef REFIR_BRIDGE_VERIFY_WEBHOOK_SIGNER_H_
#define REFIR_BRIDGE_VERIFY_WEBHOOK_SIGNER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/verify/webhook_verifier.h"

namespace refir::bridge {

struct SignedWebhook {
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> query_parameters;
};

// `message_id` becomes webhook-id (Standard Webhooks) and `now` its
// timestamp; both are ignored by the other kinds. kNone adds nothing.
// INVALID_ARGUMENT when a signing kind has no secret, or a Standard
// Webhooks secret is not whsec_<base64>.
absl::StatusOr<SignedWebhook> SignWebhook(const VerifierConfig& config, absl::string_view body,
                                          absl::string_view message_id, absl::Time now);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_VERIFY_WEBHOOK_SIGNER_H_
