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
#include "bridge/sources/source_config.h"

namespace refir::bridge {

// The dedup key of `request` under `config` (the one dedup policy, defined
// in bridge/sources/source_config.h): "<source>|<kind>|<value>", so that
// sources and kinds never share keys. An empty key (no dedup) for kNone, when
// both webhook-id and svix-id are absent (webhook-id wins when both are
// sent), or when the JSON field is absent. INVALID_ARGUMENT with reason
// "invalid_dedup_field" when the JSON field is present but neither a string
// nor a number, "invalid_json" when the body does not parse.
absl::StatusOr<DedupKey> DedupKeyFor(const SourceDedup& config, const WebhookRequest& request);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_DEDUP_KEY_H_
