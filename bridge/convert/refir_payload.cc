#include "bridge/convert/refir_payload.h"

#include <initializer_list>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bridge/convert/event_name.h"
#include "bridge/convert/exact_json.h"

namespace refir::bridge {
namespace {

using nlohmann::json;
using Keys = std::initializer_list<const char*>;

// A JSON scalar as text (bridge/convert/exact_json.h): strings as they are,
// numbers as sent. Booleans, null, arrays and objects give "".
std::string ScalarText(const json& value) { return JsonScalarText(value).value_or(""); }

// The text of the first of `keys` in `object` whose value renders non-empty.
std::string FirstText(const json& object, Keys keys) {
  if (!object.is_object()) return "";
  for (const char* key : keys) {
    auto it = object.find(key);
    if (it == object.end()) continue;
    std::string text = ScalarText(*it);
    if (!text.empty()) return text;
  }
  return "";
}

// The first of `keys` in `object` whose value is an object, a string or a
// number (the shapes a participant or campaign may take), or nullptr.
const json* FirstUsable(const json& object, Keys keys) {
  if (!object.is_object()) return nullptr;
  for (const char* key : keys) {
    auto it = object.find(key);
    if (it == object.end()) continue;
    if (it->is_object() || it->is_string() || IsJsonNumber(*it)) return &*it;
  }
  return nullptr;
}

bool IsEmpty(const v1::Participant& p) {
  return p.id().empty() && p.email().empty() && p.name().empty() && p.referral_code().empty() &&
         p.referral_link().empty();
}

v1::Participant ParticipantFrom(const json& value) {
  v1::Participant p;
  if (!value.is_object()) {
    // A bare scalar names the participant: an email if it looks like one.
    std::string text = ScalarText(value);
    if (value.is_string() && absl::StrContains(text, '@')) {
      p.set_email(std::move(text));
    } else {
      p.set_id(std::move(text));
    }
    return p;
  }
  p.set_id(FirstText(value, {"id", "user_id", "userId"}));
  p.set_email(FirstText(value, {"email"}));
  std::string name = FirstText(value, {"name", "full_name", "fullName"});
  if (name.empty()) {
    name = absl::StrCat(FirstText(value, {"first_name", "firstName"}), " ",
                        FirstText(value, {"last_name", "lastName"}));
    absl::StripAsciiWhitespace(&name);
  }
  p.set_name(std::move(name));
  p.set_referral_code(FirstText(value, {"referral_code", "referralCode", "code"}));
  p.set_referral_link(
      FirstText(value, {"referral_link", "referralLink", "referral_url", "referralUrl", "link"}));
  return p;
}

}  // namespace

v1::RefirPayload ExtractRefirPayload(const nlohmann::json& object) {
  v1::RefirPayload payload;
  if (!object.is_object()) return payload;

  for (const char* key : {"event", "type", "event_type", "eventType"}) {
    auto it = object.find(key);
    if (it != object.end() && it->is_string()) {
      payload.set_event_type(it->get_ref<const json::string_t&>());
      break;
    }
  }

  if (const json* lead = FirstUsable(object, {"lead", "user", "new_user", "newUser"})) {
    v1::Participant p = ParticipantFrom(*lead);
    if (!IsEmpty(p)) *payload.mutable_lead() = std::move(p);
  }
  if (const json* referrer = FirstUsable(
          object, {"referrer", "referring_user", "referringUser", "referred_by", "referredBy"})) {
    v1::Participant p = ParticipantFrom(*referrer);
    if (!IsEmpty(p)) *payload.mutable_referrer() = std::move(p);
  }

  payload.set_message(FirstText(object, {"message"}));

  v1::Campaign campaign;
  if (const json* c = FirstUsable(object, {"campaign"})) {
    if (c->is_object()) {
      campaign.set_id(FirstText(*c, {"id"}));
      campaign.set_name(FirstText(*c, {"name"}));
    } else {
      campaign.set_id(ScalarText(*c));
    }
  }
  // Top-level keys fill whatever the "campaign" value left empty.
  if (campaign.id().empty()) campaign.set_id(FirstText(object, {"campaign_id", "campaignId"}));
  if (campaign.name().empty()) {
    campaign.set_name(FirstText(object, {"campaign_name", "campaignName"}));
  }
  if (!campaign.id().empty() || !campaign.name().empty()) {
    *payload.mutable_campaign() = std::move(campaign);
  }
  return payload;
}

std::string ResolveEventType(const v1::RefirPayload& payload) {
  std::string explicit_type = NormaliseEventName(payload.event_type());
  if (!explicit_type.empty()) return explicit_type;
  if (payload.has_referrer() && !IsEmpty(payload.referrer())) return "refir.referral.created";
  if (payload.has_lead() && !IsEmpty(payload.lead())) return "refir.user.added";
  return "unknown";
}

}  // namespace refir::bridge
