#include "bridge/http_edge/webhook_handler.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bridge/common/error_reason.h"
#include "bridge/common/log.h"
#include "bridge/convert/json_depth.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {

struct WebhookHandler::Source {
  SourceConfig config;
  std::unique_ptr<WebhookVerifier> verifier;
  std::unique_ptr<WebhookConverter> converter;
  SourceDedup dedup;
  // For bodies kept unparsed (invalid_body keep): a JSON field cannot be
  // read, so json_field sources dedup those by webhook-id / svix-id.
  SourceDedup unparsed_dedup;
  IpAllowlist allowlist;
  // Null when the source sets no such limit.
  std::unique_ptr<RateLimiter> rate;
  std::unique_ptr<ClientRateLimiter> per_client_rate;
  // Failed verifications per client IP (stays empty for sources without
  // verification: nothing fails). Null when disabled.
  std::unique_ptr<ClientRateLimiter> failed_verification_rate;
};

namespace {

HttpReply PayloadTooLarge() {
  return JsonErrorReply(413, "payload_too_large", "request body exceeds the size limit");
}

HttpReply RateLimited(absl::Duration retry_after, absl::string_view what,
                      absl::string_view detail = "") {
  HttpReply reply =
      JsonErrorReply(429, "rate_limited",
                     detail.empty() ? absl::StrCat(what, " rate limit exceeded")
                                    : absl::StrCat(what, " rate limit exceeded: ", detail));
  const auto seconds = static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(retry_after)));
  reply.headers.emplace_back("Retry-After", absl::StrCat(std::max<int64_t>(1, seconds)));
  return reply;
}

}  // namespace

bool IsJsonContentType(absl::string_view content_type) {
  absl::string_view media_type = content_type.substr(0, content_type.find(';'));
  media_type = absl::StripAsciiWhitespace(media_type);
  const std::string lower = absl::AsciiStrToLower(media_type);
  if (lower == "application/json") return true;
  return absl::StartsWith(lower, "application/") && absl::EndsWith(lower, "+json");
}

absl::StatusOr<std::unique_ptr<WebhookHandler>> WebhookHandler::Create(
    const std::vector<SourceConfig>& sources, Journal* journal,
    const VerifierFactory& make_verifier) {
  if (sources.empty()) return absl::InvalidArgumentError("no webhook sources configured");
  std::unique_ptr<WebhookHandler> handler(new WebhookHandler(journal));
  for (const SourceConfig& config : sources) {
    auto source = std::make_unique<Source>();
    source->config = config;
    absl::StatusOr<std::unique_ptr<WebhookVerifier>> verifier = make_verifier(config.verification);
    if (!verifier.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "source \"", config.name, "\": verification: ", verifier.status().message()));
    }
    source->verifier = *std::move(verifier);
    ConverterOptions converter_options;
    converter_options.mapping =
        config.mapping == MappingKind::kGeneric ? PayloadMapping::kGeneric : PayloadMapping::kRefir;
    converter_options.type_field = config.type_field;
    converter_options.ordering_key = config.ordering_key;
    source->converter = std::make_unique<WebhookConverter>(std::move(converter_options));
    source->dedup = config.dedup;
    if (absl::Status valid = source->dedup.Validate(); !valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("source \"", config.name, "\": dedup: ", valid.message()));
    }
    source->unparsed_dedup = source->dedup;
    if (source->unparsed_dedup.by == SourceDedup::By::kJsonField) {
      source->unparsed_dedup.by = SourceDedup::By::kWebhookId;
      source->unparsed_dedup.json_field.clear();
    }
    absl::StatusOr<IpAllowlist> allowlist = IpAllowlist::Parse(config.allow_cidrs);
    if (!allowlist.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "source \"", config.name, "\": allow_cidrs: ", allowlist.status().message()));
    }
    source->allowlist = *std::move(allowlist);
    if (config.limits.rate.enabled()) {
      source->rate = std::make_unique<RateLimiter>(config.limits.rate);
    }
    if (config.limits.per_client_rate.enabled()) {
      source->per_client_rate = std::make_unique<ClientRateLimiter>(
          config.limits.per_client_rate, config.limits.max_tracked_clients);
    }
    if (config.limits.failed_verification_rate.enabled()) {
      source->failed_verification_rate = std::make_unique<ClientRateLimiter>(
          config.limits.failed_verification_rate, config.limits.max_tracked_clients);
    }
    if (!handler->by_path_.emplace(config.path, source.get()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("source \"", config.name, "\": path ", config.path, " is used twice"));
    }
    handler->sources_.push_back(std::move(source));
  }
  return handler;
}

WebhookHandler::WebhookHandler(Journal* journal) : journal_(journal) {}
WebhookHandler::~WebhookHandler() = default;

const WebhookHandler::Source* WebhookHandler::Find(const std::string& path) const {
  auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : it->second;
}

size_t WebhookHandler::BodyLimit(const std::string& path) const {
  const Source* source = Find(path);
  return source == nullptr ? 0 : source->config.limits.max_body_bytes;
}

size_t WebhookHandler::MaxBodyLimit() const {
  size_t largest = 0;
  for (const auto& source : sources_) {
    largest = std::max(largest, source->config.limits.max_body_bytes);
  }
  return largest;
}

std::vector<std::string> WebhookHandler::PathsForTesting() const {
  std::vector<std::string> paths;
  for (const auto& source : sources_) paths.push_back(source->config.path);
  return paths;
}

std::vector<std::string> WebhookHandler::SourceNames() const {
  std::vector<std::string> names;
  for (const auto& source : sources_) names.push_back(source->config.name);
  return names;
}

HttpReply WebhookHandler::Handle(const WebhookRequest& request) {
  WebhookRequest stamped = request;
  if (std::optional<HttpReply> refused = Admit(&stamped)) return *std::move(refused);
  return Process(&stamped);
}

std::optional<HttpReply> WebhookHandler::Admit(WebhookRequest* request_ptr) {
  WebhookRequest& request = *request_ptr;
  if (draining_.load()) {
    // Closed, so a client that keeps its connection reconnects (through a
    // load balancer, to another bridge) rather than coming back here.
    HttpReply reply = ReplyForError(ErrorWithReason(absl::StatusCode::kUnavailable, "shutting_down",
                                                    "the bridge is shutting down; retry"));
    reply.headers.emplace_back("Connection", "close");
    return reply;
  }
  const Source* source = Find(request.path);
  if (source == nullptr) {
    return JsonErrorReply(404, "not_found", absl::StrCat("no endpoint at ", request.path));
  }
  request.source = source->config.name;
  if (request.method != "POST") {
    HttpReply reply = JsonErrorReply(405, "method_not_allowed",
                                     absl::StrCat(request.method, " is not allowed; use POST"));
    reply.headers.emplace_back("Allow", "POST");
    return reply;
  }
  if (!source->allowlist.Allows(request.client_ip)) return JsonErrorReply(403, "forbidden", "");
  // A client that keeps failing verification is refused before its body is
  // read; this only looks at its bucket (Process spends it on a failure).
  if (source->failed_verification_rate != nullptr) {
    const absl::Duration wait =
        source->failed_verification_rate->WaitTime(request.client_ip, request.received_at);
    if (wait > absl::ZeroDuration()) {
      return RateLimited(wait, "failed-verification",
                         "too many requests from this client failed verification");
    }
  }
  // The client's own bucket next, so one noisy client cannot drain the
  // source's bucket with requests that would be refused anyway.
  if (source->per_client_rate != nullptr) {
    const absl::Duration wait =
        source->per_client_rate->TryTake(request.client_ip, request.received_at);
    if (wait > absl::ZeroDuration()) return RateLimited(wait, "per-client");
  }
  if (request.content_length.has_value() &&
      *request.content_length > source->config.limits.max_body_bytes) {
    return PayloadTooLarge();
  }
  // A source that keeps invalid bodies takes any content type (Process
  // stores it unparsed).
  if (!IsJsonContentType(request.content_type) &&
      source->config.invalid_body != InvalidBody::kKeep) {
    return JsonErrorReply(415, "unsupported_media_type",
                          request.content_type.empty()
                              ? "Content-Type header is missing; send application/json"
                              : absl::StrCat("Content-Type must be application/json, got \"",
                                             request.content_type, "\""));
  }
  if (source->rate != nullptr) {
    const absl::Duration wait = source->rate->TryTake(request.received_at);
    // Reserved last, so no other refusal spends it, and here, so a sender
    // over the source's rate is refused before its body is read; Process
    // gives it back when the request turns out not to be the source's.
    if (wait > absl::ZeroDuration()) return RateLimited(wait, "source");
  }
  return std::nullopt;
}

void WebhookHandler::Abandon(const WebhookRequest& request) {
  const Source* source = Find(request.path);
  if (source != nullptr && source->rate != nullptr) source->rate->Refund();
}

HttpReply WebhookHandler::Process(WebhookRequest* request_ptr) {
  WebhookRequest& request = *request_ptr;
  const Source* source = Find(request.path);
  if (source == nullptr) {
    return JsonErrorReply(404, "not_found", absl::StrCat("no endpoint at ", request.path));
  }
  const SourceConfig& config = source->config;
  request.source = config.name;
  if (request.body.size() > config.limits.max_body_bytes) {
    if (source->rate != nullptr) source->rate->Refund();
    return PayloadTooLarge();
  }

  VerificationInput input;
  input.body = request.body;
  input.headers = &request.headers;
  input.query_parameters = &request.query_parameters;
  input.now = request.received_at;
  if (absl::Status verified = source->verifier->Verify(input); !verified.ok()) {
    // Not the source's request: its token goes back, and the failure is
    // charged to the client's own failed-verification bucket.
    if (source->rate != nullptr) source->rate->Refund();
    if (source->failed_verification_rate != nullptr) {
      source->failed_verification_rate->TryTake(request.client_ip, request.received_at);
    }
    // The reason goes to the log only; the sender learns nothing.
    LogWarning(absl::StrCat("source \"", config.name, "\": refused a webhook from ",
                            request.client_ip, ": ", verified.message()));
    return ReplyForError(absl::UnauthenticatedError("verification failed"));
  }
  // A body that is not a JSON object is refused, or with invalid_body keep
  // stored byte-exact as "<source>.unparsed" without being parsed.
  const bool keep = config.invalid_body == InvalidBody::kKeep;
  bool unparsed = keep && !IsJsonContentType(request.content_type);
  if (!unparsed && JsonDepthExceeds(request.body, config.limits.max_json_depth)) {
    if (!keep) {
      return JsonErrorReply(
          400, "json_too_deep",
          absl::StrCat("JSON nesting is deeper than ", config.limits.max_json_depth, " levels"));
    }
    unparsed = true;
  }
  absl::StatusOr<v1::Event> event =
      unparsed ? source->converter->ConvertUnparsed(request) : source->converter->Convert(request);
  if (!event.ok() && !unparsed && keep && ReasonOf(event.status()) == "invalid_json") {
    unparsed = true;
    event = source->converter->ConvertUnparsed(request);
  }
  if (!event.ok()) return ReplyForError(event.status());

  absl::StatusOr<DedupKey> dedup_key =
      DedupKeyFor(unparsed ? source->unparsed_dedup : source->dedup, request);
  if (!dedup_key.ok()) return ReplyForError(dedup_key.status());

  absl::StatusOr<AppendResult> appended =
      journal_->Append(*std::move(event), *std::move(dedup_key));
  if (!appended.ok()) return ReplyForError(appended.status());

  nlohmann::ordered_json body = {{"message", "Webhook received successfully"},
                                 {"id", appended->id},
                                 {"sequence", appended->sequence}};
  if (appended->duplicate) body["duplicate"] = true;
  if (unparsed) body["unparsed"] = true;
  HttpReply reply;
  reply.status = 200;
  reply.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  reply.event_id = std::move(appended->id);
  reply.sequence = appended->sequence;
  reply.duplicate = appended->duplicate;
  reply.unparsed = unparsed;
  return reply;
}

}  // namespace refir::bridge
