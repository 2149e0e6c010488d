// What the HTTP edge hands to the converter: one received webhook, already
// read off the wire, independent of any HTTP library.
#ifndef REFIR_BRIDGE_CONVERT_WEBHOOK_REQUEST_H_
#define REFIR_BRIDGE_CONVERT_WEBHOOK_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace refir::bridge {

struct WebhookRequest {
  // Request method, e.g. "POST".
  std::string method = "POST";
  // URL path without the query, decoded.
  std::string path;
  // Query parameters, decoded, in arrival order.
  std::vector<std::pair<std::string, std::string>> query_parameters;
  // The Content-Length header, when the request has one (known before the
  // body is read).
  std::optional<uint64_t> content_length;
  // The client address used for allowlists and rate limits: the TCP peer's
  // IP, without port.
  std::string client_ip;
  // Source name the converter stamps on the event. The webhook handler
  // stamps the name of the source it routed the path to instead.
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
