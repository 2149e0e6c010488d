// Turns a received webhook (raw JSON body + headers) into a
// refir.bridge.v1.Event: id, type, typed Refir fields, byte-exact body and
// the allowlisted headers. Pure: no I/O, no clock, thread-safe.
#ifndef REFIR_BRIDGE_CONVERT_WEBHOOK_CONVERTER_H_
#define REFIR_BRIDGE_CONVERT_WEBHOOK_CONVERTER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/convert/webhook_request.h"
#include "refir/bridge/v1/event.pb.h"

namespace refir::bridge {

// How the JSON body becomes the event's typed fields.
enum class PayloadMapping {
  // Event.refir filled from the body, Event.type by the Refir rules.
  kRefir,
  // Event.refir left empty; Event.type read from `type_field`.
  kGeneric,
};

struct ConverterOptions {
  PayloadMapping mapping = PayloadMapping::kRefir;
  // kGeneric: a top-level key ("event") or a JSON pointer ("/meta/type")
  // naming a string field. Empty, missing or not a non-empty string: the
  // type is "unknown".
  std::string type_field;
  // Where Event.ordering_key comes from. nullopt: the mapping's default
  // (kRefir: the lead's id; kGeneric: none). "": none. Otherwise a JSON
  // pointer ("/order/id") naming a string or a number (its text as sent);
  // any other value, or none there: no key.
  std::optional<std::string> ordering_key;
  // Header names (lower case) copied into Event.headers. Credentials,
  // signatures and cookies must never be listed here.
  std::vector<std::string> header_allowlist = {
      "content-type", "user-agent",     "webhook-id",   "webhook-timestamp",
      "svix-id",      "svix-timestamp", "x-request-id", "x-forwarded-for",
      "x-real-ip",    "traceparent",    "tracestate"};
  // Longest accepted webhook-id (or svix-id) header value.
  size_t max_id_length = 256;
};

// Longest Event.ordering_key; a longer value is cut (on a UTF-8 boundary),
// which can only put more events in one order, never fewer.
inline constexpr size_t kMaxOrderingKeyBytes = 256;

// "<source>.unparsed": the type of a kept body that is not a JSON object.
std::string UnparsedEventType(absl::string_view source);

class WebhookConverter {
 public:
  explicit WebhookConverter(ConverterOptions options = {});

  // Converts `request` to an Event with sequence 0 (the journal assigns it).
  //
  // Event.id is the webhook-id header when present, else the svix-id header
  // (Svix's name for it), else a UUIDv7 for request.received_at. Errors (all
  // INVALID_ARGUMENT, with a reason from
  // bridge/common/error_reason.h):
  //   "invalid_json"   the body is not valid JSON or not a JSON object; the
  //                    message carries the parser's explanation.
  //   "invalid_header" webhook-id or svix-id is empty, too long or not
  //                    printable ASCII, or both are sent with different values.
  absl::StatusOr<v1::Event> Convert(const WebhookRequest& request) const;

  // For a body kept although it is not a JSON object (a source with
  // invalid_body "keep"): the same Event without parsing the body: type
  // UnparsedEventType(request.source), Event.refir empty, the body
  // byte-exact. Fails only with "invalid_header", as Convert.
  absl::StatusOr<v1::Event> ConvertUnparsed(const WebhookRequest& request) const;

 private:
  // Every field but type and refir.
  absl::StatusOr<v1::Event> Envelope(const WebhookRequest& request,
                                     const std::optional<std::string>& id) const;

  ConverterOptions options_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_CONVERT_WEBHOOK_CONVERTER_H_
