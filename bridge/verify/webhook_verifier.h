// WebhookVerifier: decides whether a received webhook really comes from the
// configured sender (shared token, HMAC over the body, or Standard Webhooks
// signatures). One verifier per source, built once from its config; Verify
// is const and thread-safe. Secrets live only inside the verifier: they are
// never logged and never part of an error message.
#ifndef REFIR_BRIDGE_VERIFY_WEBHOOK_VERIFIER_H_
#define REFIR_BRIDGE_VERIFY_WEBHOOK_VERIFIER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace refir::bridge {

enum class VerificationKind {
  // Every request is accepted.
  kNone,
  // A shared secret sent verbatim in a header or a query parameter.
  kToken,
  // HMAC over the raw body in a header (GitHub, adnanh/webhook, Convoy).
  kHmac,
  // https://www.standardwebhooks.com: webhook-id, webhook-timestamp and
  // webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>".
  // Svix's svix-id, svix-timestamp and svix-signature are read when the
  // webhook-* headers are absent (same scheme).
  kStandardWebhooks,
};

enum class HmacAlgorithm { kSha256, kSha512 };
enum class SignatureEncoding { kHex, kBase64 };

struct VerifierConfig {
  VerificationKind kind = VerificationKind::kNone;
  // Every accepted secret, already read from its file or environment
  // variable. Several secrets allow rotation: a request matching any one is
  // accepted. kToken and kHmac use the bytes as they are; kStandardWebhooks
  // takes "whsec_<base64>" (or bare base64) and decodes it.
  std::vector<std::string> secrets;

  // kToken: the header (case-insensitive) or the query parameter carrying
  // the token; exactly one is set. For the "authorization" header a
  // "Bearer " prefix is accepted and stripped.
  std::string token_header;
  std::string token_query_parameter;

  // kHmac: the header (case-insensitive) carrying the signature of the raw
  // body, e.g. "X-Hub-Signature-256" for GitHub.
  std::string signature_header = "x-signature";
  HmacAlgorithm algorithm = HmacAlgorithm::kSha256;
  SignatureEncoding encoding = SignatureEncoding::kHex;
  // Required at the start of the header value (ASCII case-insensitive) and
  // stripped before decoding, e.g. "sha256=". Empty: no prefix.
  std::string signature_prefix;

  // kStandardWebhooks: a webhook-timestamp further than this from now (in
  // the past or the future) is refused.
  absl::Duration tolerance = absl::Minutes(5);
};

// What a verifier looks at, independent of any HTTP library.
struct VerificationInput {
  absl::string_view body;
  // Request headers, names as sent (matching is case-insensitive).
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  // Query parameters of the request URL, decoded.
  const std::vector<std::pair<std::string, std::string>>* query_parameters = nullptr;
  // The receiving time, for kStandardWebhooks' timestamp check: the caller
  // sets absl::Now() (the default, the Unix epoch, makes every timestamp
  // stale).
  absl::Time now;
};

class WebhookVerifier {
 public:
  virtual ~WebhookVerifier() = default;

  // OK when the request is authentic. Otherwise UNAUTHENTICATED with reason
  // "unauthenticated" (bridge/common/error_reason.h) and a message naming
  // what failed (missing header, stale timestamp, no matching signature) for
  // the bridge's log; the HTTP edge answers 401 without that detail.
  virtual absl::Status Verify(const VerificationInput& input) const = 0;
};

// Builds the verifier `config` describes. INVALID_ARGUMENT naming the
// problem when the config is unusable (no secret, undecodable whsec_
// secret, both or neither of token_header and token_query_parameter).
absl::StatusOr<std::unique_ptr<WebhookVerifier>> MakeWebhookVerifier(const VerifierConfig& config);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_VERIFY_WEBHOOK_VERIFIER_H_
