// What the client commands (groups, dead-letters, replay, tail, send) share: their
// entry points, the parsing of their words with the client flags, and the
// exit codes: 0 done, 1 the bridge refused or could not be reached, 2 a
// usage error. Messages go to `err` as one line starting "refir-bridge: ".
#ifndef REFIR_BRIDGE_CLI_CLIENT_COMMAND_H_
#define REFIR_BRIDGE_CLI_CLIENT_COMMAND_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bridge/cli/bridge_client.h"
#include "bridge/cli/command_line.h"

namespace refir::bridge::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// `words` are those after the command's name.
int RunGroupsCommand(const std::vector<std::string>& words, std::ostream& out, std::ostream& err);
int RunDeadLettersCommand(const std::vector<std::string>& words, std::ostream& out,
                          std::ostream& err);
int RunReplayCommand(const std::vector<std::string>& words, std::ostream& out, std::ostream& err);
int RunTailCommand(const std::vector<std::string>& words, std::ostream& out, std::ostream& err);
// `send` talks HTTP to the webhook listener, not gRPC: it takes none of
// the client flags.
int RunSendCommand(const std::vector<std::string>& words, std::ostream& out, std::ostream& err);

// A parsed client command: its words and a client for the bridge.
struct ClientCommand {
  CommandLine line;
  std::unique_ptr<BridgeClient> client;
};

// Parses `words` against the client flags plus `extra_flags`. On --help
// prints `usage` and the flags to `out` and returns kExitOk in *exit_code;
// on a bad word prints the error and `usage` to `err` (kExitUsage); when the
// TLS or token files cannot be read, kExitFailed. nullptr in all three cases.
std::unique_ptr<ClientCommand> ParseClientCommand(const std::vector<std::string>& words,
                                                  absl::Span<const FlagSpec> extra_flags,
                                                  absl::string_view usage, std::ostream& out,
                                                  std::ostream& err, int* exit_code);

// "2026-12-05T10:00:00Z": times in listings, UTC, to the second.
std::string FormatUtc(absl::Time time);

// Prints "refir-bridge: <message>" and returns kExitUsage, or kExitFailed.
int UsageError(std::ostream& err, absl::string_view usage, absl::string_view message);
int Failed(std::ostream& err, const absl::Status& status);

}  // namespace refir::bridge::cli

#endif  // REFIR_BRIDGE_CLI_CLIENT_COMMAND_H_
