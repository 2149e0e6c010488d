// WebhookHandler: the pure request -> reply logic of the webhook endpoint:
// content-type check, conversion, durable append, and the JSON answer. Knows
// nothing of sockets or of the HTTP library, so it is unit-testable.
#ifndef REFIR_BRIDGE_HTTP_EDGE_WEBHOOK_HANDLER_H_
#define REFIR_BRIDGE_HTTP_EDGE_WEBHOOK_HANDLER_H_

#include <atomic>

#include "bridge/convert/webhook_converter.h"
#include "bridge/convert/webhook_request.h"
#include "bridge/http_edge/dedup_key.h"
#include "bridge/http_edge/http_reply.h"
#include "bridge/journal/journal.h"

namespace refir::bridge {

class WebhookHandler {
 public:
  // `converter` and `journal` must outlive the handler. `dedup` says which
  // resends are answered as duplicates of the first (ValidateDedupConfig).
  WebhookHandler(const WebhookConverter* converter, Journal* journal, DedupConfig dedup = {});

  // Handles one POST. 200 only once the event is durable in the journal.
  HttpReply Handle(const WebhookRequest& request);

  // After this, every request is answered 503 + Retry-After (draining).
  void StartDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

 private:
  const WebhookConverter* converter_;
  Journal* journal_;
  const DedupConfig dedup_;
  std::atomic<bool> draining_{false};
};

// True for application/json and application/<anything>+json, parameters and
// case ignored.
bool IsJsonContentType(absl::string_view content_type);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_WEBHOOK_HANDLER_H_
