#include "bridge/cli/client_command.h"

#include <utility>

namespace refir::bridge::cli {

std::string FormatUtc(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

int UsageError(std::ostream& err, absl::string_view usage, absl::string_view message) {
  err << "refir-bridge: " << message << "\n" << usage << "\n";
  return kExitUsage;
}

int Failed(std::ostream& err, const absl::Status& status) {
  err << "refir-bridge: " << status.message() << "\n";
  return kExitFailed;
}

std::unique_ptr<ClientCommand> ParseClientCommand(const std::vector<std::string>& words,
                                                  absl::Span<const FlagSpec> extra_flags,
                                                  absl::string_view usage, std::ostream& out,
                                                  std::ostream& err, int* exit_code) {
  std::vector<FlagSpec> flags = ClientFlags();
  flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
  absl::StatusOr<CommandLine> line = ParseCommandLine(words, flags);
  if (!line.ok()) {
    *exit_code = UsageError(err, usage, line.status().message());
    return nullptr;
  }
  if (line->help) {
    out << usage << "\n\nFlags:\n" << FlagsHelp(flags);
    *exit_code = kExitOk;
    return nullptr;
  }
  absl::StatusOr<ClientOptions> options = ClientOptionsFrom(*line);
  if (!options.ok()) {
    *exit_code = UsageError(err, usage, options.status().message());
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<BridgeClient>> client = BridgeClient::Create(*options);
  if (!client.ok()) {
    *exit_code = Failed(err, client.status());
    return nullptr;
  }
  auto command = std::make_unique<ClientCommand>();
  command->line = *std::move(line);
  command->client = *std::move(client);
  return command;
}

}  // namespace refir::bridge::cli
