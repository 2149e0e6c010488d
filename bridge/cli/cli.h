// The client commands of the refir-bridge binary (send, tail, groups,
// dead-letters, replay), found by the first word of the command line. `serve`, and a
// command line that starts with a flag, run the bridge instead (main.cc).
#ifndef REFIR_BRIDGE_CLI_CLI_H_
#define REFIR_BRIDGE_CLI_CLI_H_

#include <optional>
#include <string>

namespace refir::bridge::cli {

// The exit code of the client command named by argv[1], run with stdout and
// stderr; nullopt when argv[1] names no client command.
std::optional<int> RunClientCommand(int argc, char** argv);

// "serve, send, tail, groups, dead-letters, replay": for messages.
std::string CommandNames();

}  // namespace refir::bridge::cli

#endif  // REFIR_BRIDGE_CLI_CLI_H_
