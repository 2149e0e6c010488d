// What the HTTP edge hands to the converter: one received webhook, already
// read off the wire, independent of any HTTP library.
#ifndef REFIR_BRIDGE_CONVERT_WEBHOOK_REQUEST_H_
#define REFIR_BRIDGE_CONVERT_WEBHOOK_REQUEST_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace refir::bridge {

struct WebhookRequest {
  // Configured source name the request arrived on, e.g. "refir".
  std::string source;
  // The body, byte-exact.
  std::string body;
  // Content-Type header as sent ("" if absent).
  std::string content_type;
  // All request headers, names as sent (matching is case-insensitive).
  std::vector<std::pair<std::string, std::string>> headers;
  // Peer address as "ip:port".
  std::string remote_addr;
  // When the edge received the request.
  absl::Time received_at;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_CONVERT_WEBHOOK_REQUEST_H_
