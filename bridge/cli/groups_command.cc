// `refir-bridge groups [list | get NAME | delete NAME]`.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "bridge/cli/client_command.h"
#include "bridge/cli/table.h"
#include "bridge/common/proto_time.h"

namespace refir::bridge::cli {
namespace {

constexpr absl::string_view kUsage =
    "Usage: refir-bridge groups [list | get NAME | delete NAME] [flags]\n"
    "  list         every consumer group: filter, lag, pending, dead letters, consumers,\n"
    "               age of the oldest unacked event (the default)\n"
    "  get NAME     one group in full, with its connected consumers\n"
    "  delete NAME  deletes the group and its dead letters (refused while streams are\n"
    "               connected)";

std::string FilterText(const v1::ConsumerGroup& group) {
  return group.filter().types().empty() ? "*" : absl::StrJoin(group.filter().types(), ",");
}

// "backoff 1s to 1m" or "none (redelivered at once)".
std::string RetryPolicyText(const v1::ConsumerGroup& group) {
  if (!group.has_retry_policy()) return "none (redelivered at once)";
  return absl::StrCat(
      "backoff ", absl::FormatDuration(FromProtoDuration(group.retry_policy().minimum_backoff())),
      " to ", absl::FormatDuration(FromProtoDuration(group.retry_policy().maximum_backoff())));
}

std::string Age(absl::Duration age) {
  if (age < absl::ZeroDuration()) age = absl::ZeroDuration();
  return absl::FormatDuration(absl::Trunc(age, absl::Seconds(1)));
}

// Age of the group's oldest unacked event. "-" when nothing is pending;
// "?" when the event is no longer stored.
std::string OldestUnacked(const v1::ConsumerGroup& group, absl::Time now) {
  if (group.pending() == 0) return "-";
  if (!group.has_oldest_unacked_received_at()) return "?";
  return Age(now - FromProtoTimestamp(group.oldest_unacked_received_at()));
}

// A time with how long ago (or from now) it is; "-" when unset.
std::string TimeAndAge(const google::protobuf::Timestamp& time, bool set, absl::Time now) {
  if (!set) return "-";
  const absl::Time at = FromProtoTimestamp(time);
  return at <= now ? absl::StrCat(FormatUtc(at), " (", Age(now - at), " ago)")
                   : absl::StrCat(FormatUtc(at), " (in ", Age(at - now), ")");
}

int List(BridgeClient& client, std::ostream& out, std::ostream& err) {
  absl::StatusOr<std::vector<v1::ConsumerGroup>> groups = client.ListConsumerGroups();
  if (!groups.ok()) return Failed(err, groups.status());
  const absl::Time now = absl::Now();
  Table table({"NAME", "FILTER", "LAG", "PENDING", "DEAD", "CONSUMERS", "OLDEST_UNACKED"});
  for (const v1::ConsumerGroup& group : *groups) {
    table.AddRow({group.name(), FilterText(group), absl::StrCat(group.lag()),
                  absl::StrCat(group.pending()), absl::StrCat(group.dead_letters()),
                  absl::StrCat(group.consumers_size()), OldestUnacked(group, now)});
  }
  out << table.Render();
  if (groups->empty()) out << "(no consumer groups)\n";
  return kExitOk;
}

int Get(BridgeClient& client, const std::string& name, std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::ConsumerGroup> group = client.GetConsumerGroup(name);
  if (!group.ok()) return Failed(err, group.status());
  const absl::Time now = absl::Now();
  const absl::Time created = FromProtoTimestamp(group->created_at());
  out << "name:                  " << group->name() << "\n"
      << "filter:                " << FilterText(*group) << "\n"
      << "max_delivery_attempts: " << group->max_delivery_attempts() << "\n"
      << "retry_policy:          " << RetryPolicyText(*group) << "\n"
      << "created_at:            " << FormatUtc(created) << " (" << Age(now - created) << " ago)\n"
      << "head_sequence:         " << group->head_sequence() << "\n"
      << "cursor_sequence:       " << group->cursor_sequence() << "\n"
      << "ack_floor:             " << group->ack_floor() << "\n"
      << "lag:                   " << group->lag() << "\n"
      << "pending:               " << group->pending() << "\n"
      << "redelivered:           " << group->redelivered() << "\n"
      << "dead_letters:          " << group->dead_letters() << "\n"
      << "oldest_unacked:        " << OldestUnacked(*group, now) << "\n"
      << "enable_ordering:       " << (group->enable_ordering() ? "true" : "false") << "\n"
      << "idle_expiry:           "
      << (group->has_idle_expiry() ? absl::FormatDuration(FromProtoDuration(group->idle_expiry()))
                                   : std::string("never"))
      << "\n"
      << "expires_at:            " << TimeAndAge(group->expires_at(), group->has_expires_at(), now)
      << "\n"
      << "last_acked_at:         "
      << TimeAndAge(group->last_acked_at(), group->has_last_acked_at(), now) << "\n"
      << "holding_journal:       " << (group->holding_journal() ? "true" : "false") << "\n"
      << "consumers:             " << group->consumers_size() << "\n";
  if (group->consumers_size() > 0) {
    Table consumers({"CLIENT_ID", "PEER", "OUTSTANDING", "WINDOW", "CONNECTED_FOR"});
    for (const v1::ConnectedConsumer& consumer : group->consumers()) {
      consumers.AddRow({consumer.client_id(), consumer.peer(), absl::StrCat(consumer.outstanding()),
                        absl::StrCat(consumer.max_outstanding()),
                        Age(now - FromProtoTimestamp(consumer.connected_at()))});
    }
    out << "\n" << consumers.Render();
  }
  return kExitOk;
}

}  // namespace

int RunGroupsCommand(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  int exit_code = kExitOk;
  std::unique_ptr<ClientCommand> command =
      ParseClientCommand(words, {}, kUsage, out, err, &exit_code);
  if (command == nullptr) return exit_code;
  const std::vector<std::string>& args = command->line.args;
  const std::string verb = args.empty() ? "list" : args[0];
  BridgeClient& client = *command->client;
  if (verb == "list") {
    if (args.size() > 1) return UsageError(err, kUsage, "groups list takes no arguments");
    return List(client, out, err);
  }
  if (verb == "get" || verb == "delete") {
    if (args.size() != 2) {
      return UsageError(err, kUsage, absl::StrCat("groups ", verb, " takes one group name"));
    }
    if (verb == "get") return Get(client, args[1], out, err);
    if (absl::Status deleted = client.DeleteConsumerGroup(args[1]); !deleted.ok()) {
      return Failed(err, deleted);
    }
    out << "deleted consumer group " << args[1] << "\n";
    return kExitOk;
  }
  return UsageError(err, kUsage, absl::StrCat("unknown groups subcommand \"", verb, "\""));
}

}  // namespace refir::bridge::cli
