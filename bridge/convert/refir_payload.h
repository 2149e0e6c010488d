// Best-effort extraction of Refir's typed fields (lead, referrer, message,
// campaign, event type) from a parsed JSON object, and the event-type rules.
// The mapping is documented in docs/event-types.md.
#ifndef REFIR_BRIDGE_CONVERT_REFIR_PAYLOAD_H_
#define REFIR_BRIDGE_CONVERT_REFIR_PAYLOAD_H_

#include <string>

#include "nlohmann/json.hpp"
#include "refir/bridge/v1/event.pb.h"

namespace refir::bridge {

// Fills a RefirPayload from `object` (a JSON object). Never fails: fields that
// are missing or of an unusable type are left empty. Keys are matched in
// snake_case and camelCase; ids given as JSON numbers keep their text as
// sent when `object` comes from ParseJsonExact (bridge/convert/exact_json.h).
v1::RefirPayload ExtractRefirPayload(const nlohmann::json& object);

// The Event.type for a payload: the explicit event name normalised by
// NormaliseEventName (bridge/convert/event_name.h: "userAdded",
// "USER_ADDED", "user-added" -> "refir.user.added"), else inferred: a referrer means
// "refir.referral.created", a lead alone "refir.user.added", else "unknown".
std::string ResolveEventType(const v1::RefirPayload& payload);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_CONVERT_REFIR_PAYLOAD_H_
