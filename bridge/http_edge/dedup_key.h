// Dedup keys of webhooks: which part of a request identifies "the same
// webhook sent again" (the webhook-id header or its Svix name svix-id, a
// JSON field of the body, or the body's SHA-256), and for how long. Pure
// functions, no I/O.
#ifndef REFIR_BRIDGE_HTTP_EDGE_DEDUP_KEY_H_
#define REFIR_BRIDGE_HTTP_EDGE_DEDUP_KEY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/convert/webhook_request.h"
#include "bridge/journal/journal.h"

namespace refir::bridge {

struct DedupConfig {
  enum class By { kNone, kWebhookId, kJsonField, kBodySha256 };
  By by = By::kWebhookId;
  // For kJsonField: a JSON pointer (RFC 6901) into the body, e.g. "/event_id".
  std::string json_field;
  absl::Duration window = absl::Minutes(10);
};

// The dedup key of `request` under `config`: "<source>|<kind>|<value>", so
// that sources and kinds never share keys. An empty key (no dedup) for
// kNone, when both webhook-id and svix-id are absent (webhook-id wins when
// both are sent), or when the JSON field is
// absent. INVALID_ARGUMENT with reason "invalid_dedup_field" when the JSON
// field is present but neither a string nor a number, "invalid_json" when
// the body does not parse.
absl::StatusOr<DedupKey> DedupKeyFor(const DedupConfig& config, const WebhookRequest& request);

// INVALID_ARGUMENT unless `config` is usable: a positive window, and for
// kJsonField a well-formed, non-empty JSON pointer.
absl::Status ValidateDedupConfig(const DedupConfig& config);

// "none", "webhook_id", "json_field", "body_sha256" <-> DedupConfig::By.
absl::StatusOr<DedupConfig::By> ParseDedupBy(absl::string_view text);
absl::string_view DedupByName(DedupConfig::By by);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_DEDUP_KEY_H_
