#include "bridge/http_edge/webhook_observer.h"

#include <cmath>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "bridge/common/log.h"

namespace refir::bridge {
namespace {

// Longest webhook-id header echoed into a line about a refused request.
constexpr size_t kMaxLoggedIdBytes = 256;

// The webhook-id header of a request that stored nothing, or "".
absl::string_view RequestedId(const WebhookRequest& request) {
  for (const auto& [name, value] : request.headers) {
    if (absl::EqualsIgnoreCase(name, "webhook-id")) {
      return absl::string_view(value).substr(0, kMaxLoggedIdBytes);
    }
  }
  return {};
}

}  // namespace

WebhookObserver::WebhookObserver(AccessLogOptions options, WebhookMetrics* metrics)
    : options_(options), metrics_(metrics) {}

void WebhookObserver::Observe(const WebhookRequest& request, const HttpReply& reply,
                              absl::Time replied_at) const {
  const absl::Duration latency = replied_at - request.received_at;
  if (metrics_ != nullptr) {
    metrics_->Record(reply.status, latency);
    if (reply.unparsed && !reply.duplicate) metrics_->RecordUnparsed();
  }
  if (!options_.enabled || !LogEnabled(LogLevel::kInfo)) return;

  // Microsecond resolution is plenty for a human.
  const double latency_ms = std::round(absl::ToDoubleMicroseconds(latency)) / 1000.0;
  std::vector<LogField> fields;
  fields.reserve(12);
  fields.emplace_back("source", request.source);
  if (!reply.event_id.empty()) {
    fields.emplace_back("id", reply.event_id);
    fields.emplace_back("sequence", reply.sequence);
  } else if (absl::string_view id = RequestedId(request); !id.empty()) {
    fields.emplace_back("id", id);
  }
  fields.emplace_back("status", reply.status);
  if (!reply.error.empty()) fields.emplace_back("error", reply.error);
  if (reply.duplicate) fields.emplace_back("duplicate", true);
  if (reply.unparsed) fields.emplace_back("unparsed", true);
  fields.emplace_back("latency_ms", latency_ms);
  fields.emplace_back("remote_addr", request.remote_addr);
  // A refused request's body is dropped unread: its declared length then.
  fields.emplace_back("body_bytes", request.body.empty() && request.content_length.has_value()
                                        ? *request.content_length
                                        : request.body.size());
  if (options_.include_body) {
    const absl::string_view body = request.body;
    fields.emplace_back("body", body.substr(0, options_.max_logged_body_bytes));
    if (body.size() > options_.max_logged_body_bytes) fields.emplace_back("body_truncated", true);
  }
  LogInfo("webhook", fields);
}

}  // namespace refir::bridge
