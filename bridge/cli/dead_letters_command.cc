// `refir-bridge dead-letters list GROUP` and
// `refir-bridge dead-letters requeue GROUP (--all | SEQ...)`.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/cli/client_command.h"
#include "bridge/cli/table.h"
#include "bridge/common/proto_time.h"

namespace refir::bridge::cli {
namespace {

constexpr absl::string_view kUsage =
    "Usage: refir-bridge dead-letters list GROUP [flags]\n"
    "       refir-bridge dead-letters requeue GROUP (--all | SEQ...) [flags]\n"
    "  list     the group's dead letters: sequence, attempts, when, type, reason\n"
    "  requeue  puts dead letters back for delivery, attempts reset: every one with\n"
    "           --all, or those of the sequences given";

// Requeue requests carry at most this many sequences each.
constexpr size_t kSequencesPerRequest = 1000;

int List(BridgeClient& client, const std::string& group, std::ostream& out, std::ostream& err) {
  Table table({"SEQUENCE", "ATTEMPTS", "DEAD_LETTERED_AT", "TYPE", "REASON"});
  v1::ListDeadLettersRequest request;
  request.set_name(group);
  request.set_page_size(1000);
  int pages = 0;
  while (true) {
    absl::StatusOr<v1::ListDeadLettersResponse> page = client.ListDeadLetters(request);
    if (!page.ok()) return Failed(err, page.status());
    for (const v1::DeadLetter& letter : page->dead_letters()) {
      table.AddRow({absl::StrCat(letter.sequence()), absl::StrCat(letter.delivery_attempts()),
                    FormatUtc(FromProtoTimestamp(letter.dead_lettered_at())),
                    letter.has_event() ? letter.event().type() : "(no longer stored)",
                    letter.reason()});
    }
    if (page->next_page_token().empty()) break;
    // Progress on long listings, on stderr so that stdout stays the table.
    if (++pages % 10 == 0) err << "refir-bridge: " << table.rows() << " dead letters so far...\n";
    request.set_page_token(page->next_page_token());
  }
  out << table.Render();
  if (table.rows() == 0) out << "(no dead letters in " << group << ")\n";
  return kExitOk;
}

int Requeue(BridgeClient& client, const std::string& group, bool all,
            const std::vector<std::string>& sequence_words, std::ostream& out, std::ostream& err) {
  if (all == !sequence_words.empty()) {
    return UsageError(err, kUsage, "dead-letters requeue takes --all or sequences, not both");
  }
  if (all) {
    v1::RequeueDeadLettersRequest request;
    request.set_name(group);
    request.set_all(true);
    absl::StatusOr<v1::RequeueDeadLettersResponse> requeued = client.RequeueDeadLetters(request);
    if (!requeued.ok()) return Failed(err, requeued.status());
    out << "requeued " << requeued->requeued() << " dead letters of " << group << "\n";
    return kExitOk;
  }
  std::vector<uint64_t> sequences;
  for (const std::string& word : sequence_words) {
    uint64_t sequence = 0;
    if (!absl::SimpleAtoi(word, &sequence) || sequence == 0) {
      return UsageError(err, kUsage, absl::StrCat("\"", word, "\" is not a sequence number"));
    }
    sequences.push_back(sequence);
  }
  int64_t total = 0;
  for (size_t begin = 0; begin < sequences.size(); begin += kSequencesPerRequest) {
    v1::RequeueDeadLettersRequest request;
    request.set_name(group);
    const size_t end = std::min(sequences.size(), begin + kSequencesPerRequest);
    for (size_t i = begin; i < end; ++i) request.add_sequences(sequences[i]);
    absl::StatusOr<v1::RequeueDeadLettersResponse> requeued = client.RequeueDeadLetters(request);
    if (!requeued.ok()) return Failed(err, requeued.status());
    total += requeued->requeued();
  }
  out << "requeued " << total << " of " << sequences.size() << " dead letters of " << group
      << (static_cast<size_t>(total) < sequences.size() ? " (the others are not dead letters)" : "")
      << "\n";
  return kExitOk;
}

}  // namespace

int RunDeadLettersCommand(const std::vector<std::string>& words, std::ostream& out,
                          std::ostream& err) {
  static const FlagSpec kAll = {"all", "", "requeue every dead letter of the group"};
  int exit_code = kExitOk;
  std::unique_ptr<ClientCommand> command =
      ParseClientCommand(words, {kAll}, kUsage, out, err, &exit_code);
  if (command == nullptr) return exit_code;
  const std::vector<std::string>& args = command->line.args;
  if (args.size() < 2) return UsageError(err, kUsage, "dead-letters needs a subcommand and GROUP");
  const std::string& verb = args[0];
  const std::string& group = args[1];
  if (verb == "list") {
    if (args.size() != 2 || command->line.Has("all")) {
      return UsageError(err, kUsage, "dead-letters list takes only GROUP");
    }
    return List(*command->client, group, out, err);
  }
  if (verb == "requeue") {
    return Requeue(*command->client, group, command->line.Has("all"),
                   std::vector<std::string>(args.begin() + 2, args.end()), out, err);
  }
  return UsageError(err, kUsage, absl::StrCat("unknown dead-letters subcommand \"", verb, "\""));
}

}  // namespace refir::bridge::cli
