#include "bridge/http_edge/dedup_key.h"

#include <openssl/evp.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/common/error_reason.h"
#include "bridge/convert/exact_json.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {
namespace {

constexpr absl::string_view kIdHeader = "webhook-id";
constexpr absl::string_view kSvixIdHeader = "svix-id";

// The first non-empty value of header `header`, or "".
absl::string_view HeaderValue(const WebhookRequest& request, absl::string_view header) {
  for (const auto& [name, value] : request.headers) {
    if (absl::EqualsIgnoreCase(name, header) && !value.empty()) return value;
  }
  return "";
}

DedupKey KeyOf(const SourceDedup& config, const WebhookRequest& request, absl::string_view value) {
  DedupKey key;
  key.key = absl::StrCat(request.source, "|", DedupByName(config.by), "|", value);
  key.window = config.window;
  return key;
}

absl::StatusOr<std::string> Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("SHA-256 of the body failed");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), static_cast<size_t>(size)));
}

// The key from the JSON field at config.json_field; empty when absent. A
// number's key is its text as sent (bridge/convert/exact_json.h), so two
// different numbers never share a key, however large. Library exceptions
// are caught here and never leave.
absl::StatusOr<DedupKey> JsonFieldKey(const SourceDedup& config, const WebhookRequest& request) {
  absl::StatusOr<nlohmann::json> body = ParseJsonExact(request.body);
  if (!body.ok()) {
    return ErrorWithReason(absl::StatusCode::kInvalidArgument, "invalid_json",
                           body.status().message());
  }
  try {
    const nlohmann::json::json_pointer pointer(config.json_field);
    if (!body->contains(pointer)) return DedupKey{"", config.window};
    const nlohmann::json& value = body->at(pointer);
    if (value.is_string() || IsJsonNumber(value)) {
      return KeyOf(config, request, JsonScalarText(value).value_or(""));
    }
    return ErrorWithReason(
        absl::StatusCode::kInvalidArgument, "invalid_dedup_field",
        absl::StrCat("dedup field ", config.json_field, " must be a string or a number, got ",
                     JsonTypeName(value)));
  } catch (const nlohmann::json::exception& e) {
    return ErrorWithReason(absl::StatusCode::kInvalidArgument, "invalid_json", e.what());
  }
}

}  // namespace

absl::StatusOr<DedupKey> DedupKeyFor(const SourceDedup& config, const WebhookRequest& request) {
  switch (config.by) {
    case SourceDedup::By::kNone:
      return DedupKey{"", config.window};
    case SourceDedup::By::kWebhookId: {
      // The same id the converter makes the event id: webhook-id, else
      // svix-id (it refuses the request when both differ).
      absl::string_view id = HeaderValue(request, kIdHeader);
      if (id.empty()) id = HeaderValue(request, kSvixIdHeader);
      if (id.empty()) return DedupKey{"", config.window};
      return KeyOf(config, request, id);
    }
    case SourceDedup::By::kJsonField:
      return JsonFieldKey(config, request);
    case SourceDedup::By::kBodySha256: {
      absl::StatusOr<std::string> digest = Sha256Hex(request.body);
      if (!digest.ok()) return digest.status();
      return KeyOf(config, request, *digest);
    }
  }
  return absl::InternalError("unknown dedup kind");
}

}  // namespace refir::bridge
