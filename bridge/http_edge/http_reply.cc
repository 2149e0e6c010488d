#include "bridge/http_edge/http_reply.h"

#include "bridge/common/error_reason.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {

HttpReply JsonErrorReply(int status, absl::string_view error, absl::string_view detail) {
  nlohmann::ordered_json body = {{"error", std::string(error)}};
  if (!detail.empty()) body["detail"] = std::string(detail);
  HttpReply reply;
  reply.status = status;
  reply.error = std::string(error);
  // Replace invalid UTF-8 (e.g. echoed from a bad request) rather than throw.
  reply.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return reply;
}

HttpReply ReplyForError(const absl::Status& status) {
  std::string reason = ReasonOf(status);
  auto reason_or = [&reason](absl::string_view fallback) {
    return reason.empty() ? std::string(fallback) : reason;
  };
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return JsonErrorReply(400, reason_or("bad_request"), status.message());
    case absl::StatusCode::kUnauthenticated:
      // Never tell the sender why verification failed.
      return JsonErrorReply(401, "unauthenticated", "");
    case absl::StatusCode::kPermissionDenied:
      return JsonErrorReply(403, reason_or("forbidden"), status.message());
    case absl::StatusCode::kNotFound:
      return JsonErrorReply(404, reason_or("not_found"), status.message());
    case absl::StatusCode::kResourceExhausted: {
      HttpReply reply = JsonErrorReply(429, reason_or("rate_limited"), status.message());
      reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
    case absl::StatusCode::kUnavailable: {
      HttpReply reply = JsonErrorReply(503, reason_or("unavailable"), status.message());
      reply.headers.emplace_back("Retry-After", "1");
      return reply;
    }
    default:
      return JsonErrorReply(500, "internal", status.message());
  }
}

}  // namespace refir::bridge
