// WebhookObserver: what happens after each webhook answer besides sending
// it: the request is counted and timed in the metrics (per source and HTTP
// status), and one access-log line is written at info level:
//
//   {"ts":..,"level":"info","msg":"webhook","source":"refir","id":"..",
//    "sequence":17,"status":200,"latency_ms":1.73,"remote_addr":"10.0.0.5:51234",
//    "body_bytes":312}
//
// plus "error" (the JSON error code) on failures, "duplicate":true for a
// repeated id, "unparsed":true for a body kept as "<source>.unparsed", and
// "body" only when the operator opted in. Request headers are never logged
// (they may carry secrets); only the webhook-id header is echoed as "id"
// when no event was stored.
#ifndef REFIR_BRIDGE_HTTP_EDGE_WEBHOOK_OBSERVER_H_
#define REFIR_BRIDGE_HTTP_EDGE_WEBHOOK_OBSERVER_H_

#include <cstddef>

#include "absl/time/time.h"
#include "bridge/convert/webhook_request.h"
#include "bridge/http_edge/http_reply.h"
#include "bridge/metrics/metrics.h"

namespace refir::bridge {

struct AccessLogOptions {
  // One line per webhook.
  bool enabled = true;
  // Adds the body (as a JSON string, cut at max_logged_body_bytes with
  // "body_truncated":true). Bodies may carry personal data: off by default.
  bool include_body = false;
  size_t max_logged_body_bytes = 64 * 1024;
};

class WebhookObserver {
 public:
  // `metrics` may be null (no metrics); it must outlive the observer.
  WebhookObserver(AccessLogOptions options, WebhookMetrics* metrics);

  // Called once `reply` to `request` is ready, at `replied_at`.
  void Observe(const WebhookRequest& request, const HttpReply& reply, absl::Time replied_at) const;

 private:
  const AccessLogOptions options_;
  WebhookMetrics* const metrics_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_WEBHOOK_OBSERVER_H_
