#include "bridge/convert/webhook_converter.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/common/error_reason.h"
#include "bridge/common/proto_time.h"
#include "bridge/common/uuid7.h"
#include "bridge/convert/exact_json.h"
#include "bridge/convert/refir_payload.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {
namespace {

constexpr absl::string_view kIdHeader = "webhook-id";
constexpr absl::string_view kSvixIdHeader = "svix-id";

absl::Status InvalidJson(absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kInvalidArgument, "invalid_json", message);
}

absl::Status InvalidHeader(absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kInvalidArgument, "invalid_header", message);
}

// Parses `body`, which must be a JSON object, keeping every number's text
// (bridge/convert/exact_json.h).
absl::StatusOr<nlohmann::json> ParseObject(const std::string& body) {
  if (body.empty()) return InvalidJson("body is empty");
  absl::StatusOr<nlohmann::json> parsed = ParseJsonExact(body);
  if (!parsed.ok()) {
    if (parsed.status().code() != absl::StatusCode::kInvalidArgument) return parsed.status();
    return InvalidJson(parsed.status().message());
  }
  if (!parsed->is_object()) {
    return InvalidJson(absl::StrCat("body must be a JSON object, got ", JsonTypeName(*parsed)));
  }
  return parsed;
}

// Printable ASCII without spaces (0x21..0x7e), as webhook-id must be.
bool IsPrintableAsciiToken(absl::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) return false;
  }
  return true;
}

// The values of header `header` (matched case-insensitively), validated;
// nullopt when absent. Repeats with the same value are accepted, differing
// ones are not.
absl::StatusOr<std::optional<std::string>> IdHeader(const WebhookRequest& request,
                                                    absl::string_view header, size_t max_length) {
  std::optional<std::string> id;
  for (const auto& [name, value] : request.headers) {
    if (!absl::EqualsIgnoreCase(name, header)) continue;
    if (value.empty()) return InvalidHeader(absl::StrCat(header, " header is empty"));
    if (value.size() > max_length) {
      return InvalidHeader(absl::StrCat(header, " header is longer than ", max_length, " bytes"));
    }
    if (!IsPrintableAsciiToken(value)) {
      return InvalidHeader(
          absl::StrCat(header, " header must be printable ASCII without spaces (0x21 to 0x7e)"));
    }
    if (id.has_value() && *id != value) {
      return InvalidHeader(absl::StrCat(header, " header is repeated with different values"));
    }
    id = value;
  }
  return id;
}

// The sender's message id: webhook-id, else its Svix name svix-id. Both
// present with different values is refused: the signature covers only one
// of them, so the other would be an unauthenticated id.
absl::StatusOr<std::optional<std::string>> WebhookId(const WebhookRequest& request,
                                                     size_t max_length) {
  absl::StatusOr<std::optional<std::string>> standard = IdHeader(request, kIdHeader, max_length);
  if (!standard.ok()) return standard.status();
  absl::StatusOr<std::optional<std::string>> svix = IdHeader(request, kSvixIdHeader, max_length);
  if (!svix.ok()) return svix.status();
  if (!standard->has_value()) return *svix;
  if (svix->has_value() && **svix != **standard) {
    return InvalidHeader("webhook-id and svix-id headers differ; send one, or the same id in both");
  }
  return *standard;
}

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0.
size_t Utf8SequenceLength(absl::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;  // bounds for the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 == 0xe0) lo = 0xa0;  // no overlongs
    if (b0 == 0xed) hi = 0x9f;  // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 == 0xf0) lo = 0x90;  // no overlongs
    if (b0 == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return 0;
  }
  return len;
}

// Protobuf string fields must hold UTF-8 or subscribers fail to parse the
// event; header values may carry arbitrary bytes (obs-text). Each byte that
// does not start a well-formed sequence becomes U+FFFD.
std::string ToValidUtf8(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const size_t len = Utf8SequenceLength(s);
    if (len == 0) {
      out.append("\xef\xbf\xbd");
      s.remove_prefix(1);
    } else {
      out.append(s.data(), len);
      s.remove_prefix(len);
    }
  }
  return out;
}

// Event.type for the generic mapping.
std::string GenericEventType(const nlohmann::json& object, const std::string& type_field) {
  constexpr char kUnknown[] = "unknown";
  if (type_field.empty()) return kUnknown;
  const nlohmann::json* value = nullptr;
  if (type_field[0] == '/') {
    try {
      const nlohmann::json::json_pointer pointer(type_field);
      if (object.contains(pointer)) value = &object.at(pointer);
    } catch (const nlohmann::json::exception&) {
      return kUnknown;
    }
  } else {
    auto it = object.find(type_field);
    if (it != object.end()) value = &*it;
  }
  if (value == nullptr || !value->is_string() || value->get_ref<const std::string&>().empty()) {
    return kUnknown;
  }
  return value->get<std::string>();
}

// The value at `pointer` in `object` when it is a string or a number (its
// text as sent), else "".
std::string ScalarAtPointer(const nlohmann::json& object, const std::string& pointer) {
  try {
    const nlohmann::json::json_pointer parsed(pointer);
    if (!object.contains(parsed)) return "";
    const nlohmann::json& value = object.at(parsed);
    if (!value.is_string() && !IsJsonNumber(value)) return "";
    return JsonScalarText(value).value_or("");
  } catch (const nlohmann::json::exception&) {
    return "";
  }
}

// At most kMaxOrderingKeyBytes, cut before a UTF-8 sequence it would split.
std::string ClipOrderingKey(std::string key) {
  if (key.size() <= kMaxOrderingKeyBytes) return key;
  size_t end = kMaxOrderingKeyBytes;
  while (end > 0 && (static_cast<unsigned char>(key[end]) & 0xc0) == 0x80) --end;
  key.resize(end);
  return key;
}

absl::Status SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  if (!InProtoTimestampRange(t)) {
    return absl::InvalidArgumentError(
        absl::StrCat("received_at is outside the Timestamp range: ", absl::FormatTime(t)));
  }
  *out = ToProtoTimestamp(t);
  return absl::OkStatus();
}

}  // namespace

WebhookConverter::WebhookConverter(ConverterOptions options) : options_(std::move(options)) {
  for (std::string& name : options_.header_allowlist) absl::AsciiStrToLower(&name);
}

absl::StatusOr<v1::Event> WebhookConverter::Convert(const WebhookRequest& request) const {
  absl::StatusOr<std::optional<std::string>> id = WebhookId(request, options_.max_id_length);
  if (!id.ok()) return id.status();
  absl::StatusOr<nlohmann::json> object = ParseObject(request.body);
  if (!object.ok()) return object.status();

  absl::StatusOr<v1::Event> event = Envelope(request, *id);
  if (!event.ok()) return event.status();
  if (options_.mapping == PayloadMapping::kRefir) {
    *event->mutable_refir() = ExtractRefirPayload(*object);
    event->set_type(ResolveEventType(event->refir()));
  } else {
    event->set_type(GenericEventType(*object, options_.type_field));
  }
  if (options_.ordering_key.has_value()) {
    if (!options_.ordering_key->empty()) {
      event->set_ordering_key(ClipOrderingKey(ScalarAtPointer(*object, *options_.ordering_key)));
    }
  } else if (options_.mapping == PayloadMapping::kRefir) {
    event->set_ordering_key(ClipOrderingKey(event->refir().lead().id()));
  }
  return event;
}

absl::StatusOr<v1::Event> WebhookConverter::ConvertUnparsed(const WebhookRequest& request) const {
  absl::StatusOr<std::optional<std::string>> id = WebhookId(request, options_.max_id_length);
  if (!id.ok()) return id.status();
  absl::StatusOr<v1::Event> event = Envelope(request, *id);
  if (!event.ok()) return event.status();
  event->set_type(UnparsedEventType(request.source));
  return event;
}

absl::StatusOr<v1::Event> WebhookConverter::Envelope(const WebhookRequest& request,
                                                     const std::optional<std::string>& id) const {
  v1::Event event;
  if (absl::Status s = SetTimestamp(request.received_at, event.mutable_received_at()); !s.ok()) {
    return s;
  }
  event.set_id(id.has_value() ? *id : NewUuidV7(request.received_at));
  event.set_source(ToValidUtf8(request.source));
  event.set_body(request.body);
  event.set_content_type(ToValidUtf8(request.content_type));
  event.set_remote_addr(ToValidUtf8(request.remote_addr));

  // Allowlisted headers, repeats joined in arrival order.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string lower = absl::AsciiStrToLower(name);
    bool allowed = false;
    for (const std::string& allowed_name : options_.header_allowlist) {
      if (lower == allowed_name) {
        allowed = true;
        break;
      }
    }
    if (!allowed) continue;
    auto [it, inserted] = headers.try_emplace(std::move(lower), value);
    if (!inserted) absl::StrAppend(&it->second, ", ", value);
  }
  auto& out_headers = *event.mutable_headers();
  for (auto& [name, value] : headers) out_headers[name] = ToValidUtf8(value);
  return event;
}

std::string UnparsedEventType(absl::string_view source) {
  return absl::StrCat(ToValidUtf8(source), ".unparsed");
}

}  // namespace refir::bridge
