#include "bridge/inspector/inspector_json.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/common/proto_time.h"
#include "bridge/common/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace refir::bridge {
namespace {

std::string Dump(const nlohmann::ordered_json& json) {
  // Replace invalid UTF-8 (bodies are bytes as sent; a cut may split a
  // character) rather than throw.
  return json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// The typed fields as protobuf's JSON mapping spells them (field names as
// in the .proto, empty fields left out).
nlohmann::ordered_json RefirToJson(const v1::RefirPayload& refir) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(refir, &text, options).ok()) {
    return nlohmann::ordered_json::object();
  }
  return nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace

nlohmann::ordered_json EventToJson(const v1::Event& event, size_t max_body_bytes) {
  const std::string& body = event.body();
  const bool truncated = body.size() > max_body_bytes;
  nlohmann::ordered_json headers = nlohmann::ordered_json::object();
  // Sorted, so the page shows them in a stable order.
  std::vector<std::pair<std::string, std::string>> sorted(event.headers().begin(),
                                                          event.headers().end());
  std::sort(sorted.begin(), sorted.end());
  for (auto& [name, value] : sorted) headers[name] = std::move(value);
  return {
      {"sequence", event.sequence()},
      {"id", event.id()},
      {"received_at",
       absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", FromProtoTimestamp(event.received_at()),
                        absl::UTCTimeZone())},
      {"source", event.source()},
      {"type", event.type()},
      {"refir", RefirToJson(event.refir())},
      {"content_type", event.content_type()},
      {"headers", std::move(headers)},
      {"remote_addr", event.remote_addr()},
      {"body", truncated ? body.substr(0, max_body_bytes) : body},
      {"body_bytes", body.size()},
      {"body_truncated", truncated},
  };
}

absl::StatusOr<std::string> RecentEventsJson(Journal& journal, std::optional<uint64_t> after,
                                             const InspectorLimits& limits) {
  const uint64_t head = journal.HeadSequence();
  nlohmann::ordered_json events = nlohmann::ordered_json::array();
  uint64_t from = after.has_value() ? *after + 1 : 1;
  // Only the newest max_events of those asked for.
  if (head >= limits.max_events) from = std::max<uint64_t>(from, head - limits.max_events + 1);
  if (after.value_or(0) < head && limits.max_events > 0) {
    absl::Status parse_status;
    REFIR_RETURN_IF_ERROR(
        journal.VisitStored(from, limits.max_events, [&](const StoredEventView& stored) {
          v1::Event event;
          if (!event.ParseFromArray(stored.bytes.data(), static_cast<int>(stored.bytes.size()))) {
            parse_status = absl::DataLossError(
                absl::StrCat("stored event ", stored.sequence, " is malformed"));
            return false;
          }
          // Stored without its sequence (the journal keeps it apart).
          event.set_sequence(stored.sequence);
          events.push_back(EventToJson(event, limits.max_body_bytes));
          return true;
        }));
    REFIR_RETURN_IF_ERROR(parse_status);
  }
  return Dump({{"head", head}, {"events", std::move(events)}});
}

nlohmann::ordered_json GroupToJson(const v1::ConsumerGroup& group) {
  nlohmann::ordered_json consumers = nlohmann::ordered_json::array();
  for (const v1::ConnectedConsumer& consumer : group.consumers()) {
    consumers.push_back({{"client_id", consumer.client_id()}, {"peer", consumer.peer()}});
  }
  return {
      {"name", group.name()},
      {"lag", group.lag()},
      {"pending", group.pending()},
      {"dead_letters", group.dead_letters()},
      {"redelivered", group.redelivered()},
      {"cursor_sequence", group.cursor_sequence()},
      {"ack_floor", group.ack_floor()},
      {"head_sequence", group.head_sequence()},
      {"consumers", std::move(consumers)},
  };
}

absl::StatusOr<std::string> GroupsJson(ConsumerGroups& groups, const InspectorLimits& limits) {
  REFIR_ASSIGN_OR_RETURN(GroupPage page,
                         groups.ListGroups("", limits.max_groups, limits.max_group_bytes,
                                           [](const std::string&) { return true; }));
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const v1::ConsumerGroup& group : page.groups) list.push_back(GroupToJson(group));
  return Dump({{"groups", std::move(list)}, {"more", page.more}});
}

}  // namespace refir::bridge
