// HttpReply: what the webhook handler answers, independent of any HTTP
// library, plus the JSON error body every non-200 answer carries.
#ifndef REFIR_BRIDGE_HTTP_EDGE_HTTP_REPLY_H_
#define REFIR_BRIDGE_HTTP_EDGE_HTTP_REPLY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace refir::bridge {

struct HttpReply {
  int status = 200;
  // A JSON document, except for the inspector's page and its assets.
  std::string body;
  std::string content_type = "application/json";
  // Extra response headers, e.g. Retry-After.
  std::vector<std::pair<std::string, std::string>> headers;

  // Never sent; for the access log. The "error" of a JSON error reply, and
  // the stored event of a webhook answered 200.
  std::string error;
  std::string event_id;
  uint64_t sequence = 0;
  bool duplicate = false;
  // The body was not a JSON object and was stored as "<source>.unparsed".
  bool unparsed = false;
};

// {"error":"<error>"} plus "detail" when `detail` is not empty.
HttpReply JsonErrorReply(int status, absl::string_view error, absl::string_view detail);

// The one mapping of absl::Status to an HTTP answer on the webhook edge:
//   INVALID_ARGUMENT 400, UNAUTHENTICATED 401 (no detail), PERMISSION_DENIED
//   403, NOT_FOUND 404, RESOURCE_EXHAUSTED 429 + Retry-After, UNAVAILABLE 503 +
//   Retry-After, anything else 500. The "error" field is the status's reason
//   (bridge/common/error_reason.h) or a default per code.
HttpReply ReplyForError(const absl::Status& status);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_HTTP_REPLY_H_
