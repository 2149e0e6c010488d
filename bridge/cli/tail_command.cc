// `refir-bridge tail`: follows the journal on an ephemeral stream (never a
// consumer group: nothing is acked, nothing is held back for it) and prints
// each event as a readable line or as one JSON object per line.
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "bridge/cli/client_command.h"
#include "bridge/common/proto_time.h"
#include "google/protobuf/util/json_util.h"

namespace refir::bridge::cli {
namespace {

constexpr absl::string_view kUsage =
    "Usage: refir-bridge tail [--from=latest|earliest|SEQ|TIME] [--type=TYPE] [--count=N]\n"
    "                         [--json] [flags]\n"
    "  Prints events as they are stored, on an ephemeral stream (no consumer group is\n"
    "  created or advanced). --from: where to start (default latest: only new events);\n"
    "  --type: only this type and the types under it (refir.referral matches\n"
    "  refir.referral.created); --count: stop after N events; --json: one Event per line\n"
    "  in the proto3 JSON mapping.";

// Bodies of events without typed fields are shown up to this many bytes.
constexpr size_t kBodyPreviewBytes = 120;

bool TypeMatches(const std::string& type, const std::string& wanted) {
  return wanted.empty() || type == wanted || absl::StartsWith(type, absl::StrCat(wanted, "."));
}

void AppendParticipant(std::vector<std::string>* fields, absl::string_view role,
                       const v1::Participant& participant) {
  if (!participant.id().empty()) fields->push_back(absl::StrCat(role, ".id=", participant.id()));
  if (!participant.email().empty()) {
    fields->push_back(absl::StrCat(role, ".email=", participant.email()));
  }
  if (!participant.name().empty()) {
    fields->push_back(absl::StrCat(role, ".name=\"", participant.name(), "\""));
  }
}

// "12 2026-12-05T10:00:00.123Z refir.user.added id=... source=refir lead.email=..."
std::string ReadableLine(const v1::Event& event) {
  std::vector<std::string> fields = {
      absl::StrCat(event.sequence()),
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", FromProtoTimestamp(event.received_at()),
                       absl::UTCTimeZone()),
      event.type(), absl::StrCat("id=", event.id()), absl::StrCat("source=", event.source())};
  if (event.has_refir()) {
    const v1::RefirPayload& refir = event.refir();
    if (refir.has_lead()) AppendParticipant(&fields, "lead", refir.lead());
    if (refir.has_referrer()) AppendParticipant(&fields, "referrer", refir.referrer());
    if (refir.has_campaign() && !refir.campaign().name().empty()) {
      fields.push_back(absl::StrCat("campaign=\"", refir.campaign().name(), "\""));
    }
  } else {
    std::string preview = event.body().substr(0, kBodyPreviewBytes);
    for (char& c : preview) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    fields.push_back(
        absl::StrCat("body=", preview, event.body().size() > kBodyPreviewBytes ? "..." : ""));
  }
  return absl::StrJoin(fields, " ");
}

// Fills `start` from --from; false when the value is none of the forms.
bool ParseFrom(const std::string& from, v1::StartPosition* start) {
  uint64_t sequence = 0;
  absl::Time time;
  std::string error;
  if (from.empty() || from == "latest") {
    start->mutable_latest();
  } else if (from == "earliest") {
    start->mutable_earliest();
  } else if (absl::SimpleAtoi(from, &sequence)) {
    start->set_sequence(sequence);
  } else if (absl::ParseTime(absl::RFC3339_full, from, &time, &error)) {
    *start->mutable_time() = ToProtoTimestamp(time);
  } else {
    return false;
  }
  return true;
}

}  // namespace

int RunTailCommand(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  static const std::vector<FlagSpec> kFlags = {
      {"from", "latest|earliest|SEQ|TIME", "where to start (default latest)"},
      {"type", "TYPE", "only this type and the types under it"},
      {"count", "N", "stop after N events"},
      {"json", "", "one JSON object (proto3 mapping) per line"}};
  int exit_code = kExitOk;
  std::unique_ptr<ClientCommand> command =
      ParseClientCommand(words, kFlags, kUsage, out, err, &exit_code);
  if (command == nullptr) return exit_code;
  const CommandLine& line = command->line;
  if (!line.args.empty()) return UsageError(err, kUsage, "tail takes no arguments");
  v1::SubscribeRequest init;
  if (!ParseFrom(line.Value("from"), init.mutable_init()->mutable_start())) {
    return UsageError(err, kUsage,
                      absl::StrCat("--from=", line.Value("from"),
                                   ": not latest, earliest, a sequence or an RFC 3339 time"));
  }
  absl::StatusOr<uint64_t> count =
      PositiveCountFlag(line, "count", 0, std::numeric_limits<uint64_t>::max());
  if (!count.ok()) return UsageError(err, kUsage, count.status().message());
  const std::string type = line.Value("type");
  const bool json = line.Has("json");
  init.mutable_init()->set_client_id("refir-bridge tail");

  BridgeClient& client = *command->client;
  if (absl::Status connected = client.WaitForConnection(); !connected.ok()) {
    return Failed(err, connected);
  }
  std::unique_ptr<grpc::ClientContext> context = client.NewContext(absl::InfiniteDuration());
  auto stream = client.stub().Subscribe(context.get());
  if (!stream->Write(init)) return Failed(err, client.FromRpc(stream->Finish()));
  google::protobuf::util::JsonPrintOptions json_options;
  uint64_t printed = 0;
  v1::SubscribeResponse response;
  while (stream->Read(&response)) {
    for (const v1::Delivery& delivery : response.batch().deliveries()) {
      const v1::Event& event = delivery.event();
      if (!TypeMatches(event.type(), type)) continue;
      if (json) {
        std::string text;
        if (!google::protobuf::util::MessageToJsonString(event, &text, json_options).ok()) {
          text =
              absl::StrCat(R"({"sequence":")", event.sequence(), R"(","error":"not printable"})");
        }
        out << text << "\n";
      } else {
        out << ReadableLine(event) << "\n";
      }
      out.flush();
      if (*count > 0 && ++printed == *count) {
        context->TryCancel();
        stream->Finish();
        return kExitOk;
      }
    }
  }
  const grpc::Status status = stream->Finish();
  if (status.ok()) return kExitOk;
  return Failed(err, client.FromRpc(status));
}

}  // namespace refir::bridge::cli
