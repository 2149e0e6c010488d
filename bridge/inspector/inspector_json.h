// The inspector's JSON API (GET /ui/api/events and /ui/api/groups): recent
// journal events and the consumer groups' lag, pending and dead letters,
// bounded in count and size. Every string goes through nlohmann::json, so
// bodies and headers are JSON-escaped (invalid UTF-8 becomes U+FFFD).
#ifndef REFIR_BRIDGE_INSPECTOR_INSPECTOR_JSON_H_
#define REFIR_BRIDGE_INSPECTOR_INSPECTOR_JSON_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "bridge/delivery/consumer_groups.h"
#include "bridge/journal/journal.h"
#include "nlohmann/json.hpp"
#include "refir/bridge/v1/event.pb.h"
#include "refir/bridge/v1/event_stream.pb.h"

namespace refir::bridge {

struct InspectorLimits {
  // Most events one answer carries (the newest of those asked for).
  size_t max_events = 100;
  // A body longer than this is cut here and marked "body_truncated".
  size_t max_body_bytes = 4096;
  // Most groups one answer lists (in name order), and their bytes.
  size_t max_groups = 100;
  size_t max_group_bytes = size_t{1} << 20;
};

// One event: sequence, id, time, source, type, the typed Refir fields,
// content type, headers, peer, and the body as text clipped to
// `max_body_bytes` with "body_bytes" (its full size) and "body_truncated".
nlohmann::ordered_json EventToJson(const v1::Event& event, size_t max_body_bytes);

// {"head": H, "events": [...]}: the stored events with sequence > `after`
// (all stored when absent), at most the newest limits.max_events of them, in
// ascending order.
absl::StatusOr<std::string> RecentEventsJson(Journal& journal, std::optional<uint64_t> after,
                                             const InspectorLimits& limits);

// One group as ListConsumerGroups describes it (name, lag, pending,
// dead letters, redelivered, cursor, ack floor, head, connected consumers).
nlohmann::ordered_json GroupToJson(const v1::ConsumerGroup& group);

// {"groups": [...], "more": bool}: the first limits.max_groups groups by name.
absl::StatusOr<std::string> GroupsJson(ConsumerGroups& groups, const InspectorLimits& limits);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_INSPECTOR_INSPECTOR_JSON_H_
