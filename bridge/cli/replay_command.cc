// `refir-bridge replay GROUP --from=SEQ|TIME|earliest|latest`: moves a
// group's cursor (SeekConsumerGroup).
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/cli/client_command.h"
#include "bridge/common/proto_time.h"

namespace refir::bridge::cli {
namespace {

constexpr absl::string_view kUsage =
    "Usage: refir-bridge replay GROUP --from=SEQ|TIME|earliest|latest [flags]\n"
    "  Moves the group's cursor: the first event with at least sequence SEQ, or received at\n"
    "  or after TIME (RFC 3339, like 2026-12-05T10:00:00Z), is delivered next; earliest is\n"
    "  the oldest stored event, latest skips to what is stored from now on. Deliveries\n"
    "  outstanding are forgotten: their acks are then reported expired.";

}  // namespace

int RunReplayCommand(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  static const FlagSpec kFrom = {"from", "SEQ|TIME|earliest|latest", "where the group resumes"};
  int exit_code = kExitOk;
  std::unique_ptr<ClientCommand> command =
      ParseClientCommand(words, {kFrom}, kUsage, out, err, &exit_code);
  if (command == nullptr) return exit_code;
  const std::vector<std::string>& args = command->line.args;
  if (args.size() != 1) return UsageError(err, kUsage, "replay takes one group name");
  if (!command->line.Has("from")) return UsageError(err, kUsage, "replay needs --from");

  v1::SeekConsumerGroupRequest request;
  request.set_name(args[0]);
  const std::string from = command->line.Value("from");
  uint64_t sequence = 0;
  absl::Time time;
  std::string parse_error;
  if (from == "earliest") {
    request.mutable_earliest();
  } else if (from == "latest") {
    request.mutable_latest();
  } else if (absl::SimpleAtoi(from, &sequence)) {
    request.set_sequence(sequence);
  } else if (absl::ParseTime(absl::RFC3339_full, from, &time, &parse_error)) {
    *request.mutable_time() = ToProtoTimestamp(time);
  } else {
    return UsageError(
        err, kUsage,
        absl::StrCat("--from=", from, ": not a sequence, an RFC 3339 time, earliest or latest"));
  }
  absl::StatusOr<v1::SeekConsumerGroupResponse> sought =
      command->client->SeekConsumerGroup(request);
  if (!sought.ok()) return Failed(err, sought.status());
  out << "consumer group " << args[0] << " now delivers from sequence " << sought->cursor_sequence()
      << "\n";
  return kExitOk;
}

}  // namespace refir::bridge::cli
