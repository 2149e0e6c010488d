#include "bridge/http_edge/webhook_handler.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bridge/common/error_reason.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {

bool IsJsonContentType(absl::string_view content_type) {
  absl::string_view media_type = content_type.substr(0, content_type.find(';'));
  media_type = absl::StripAsciiWhitespace(media_type);
  const std::string lower = absl::AsciiStrToLower(media_type);
  if (lower == "application/json") return true;
  return absl::StartsWith(lower, "application/") && absl::EndsWith(lower, "+json");
}

WebhookHandler::WebhookHandler(const WebhookConverter* converter, Journal* journal,
                               DedupConfig dedup)
    : converter_(converter), journal_(journal), dedup_(std::move(dedup)) {}

HttpReply WebhookHandler::Handle(const WebhookRequest& request) {
  if (draining_.load()) {
    return ReplyForError(ErrorWithReason(absl::StatusCode::kUnavailable, "shutting_down",
                                         "the bridge is shutting down; retry"));
  }
  if (!IsJsonContentType(request.content_type)) {
    return JsonErrorReply(415, "unsupported_media_type",
                          request.content_type.empty()
                              ? "Content-Type header is missing; send application/json"
                              : absl::StrCat("Content-Type must be application/json, got \"",
                                             request.content_type, "\""));
  }
  absl::StatusOr<v1::Event> event = converter_->Convert(request);
  if (!event.ok()) return ReplyForError(event.status());

  absl::StatusOr<DedupKey> dedup_key = DedupKeyFor(dedup_, request);
  if (!dedup_key.ok()) return ReplyForError(dedup_key.status());

  absl::StatusOr<AppendResult> appended =
      journal_->Append(*std::move(event), *std::move(dedup_key));
  if (!appended.ok()) return ReplyForError(appended.status());

  nlohmann::ordered_json body = {{"message", "Webhook received successfully"},
                                 {"id", appended->id},
                                 {"sequence", appended->sequence}};
  if (appended->duplicate) body["duplicate"] = true;
  HttpReply reply;
  reply.status = 200;
  reply.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  reply.event_id = std::move(appended->id);
  reply.sequence = appended->sequence;
  reply.duplicate = appended->duplicate;
  return reply;
}

}  // namespace refir::bridge
