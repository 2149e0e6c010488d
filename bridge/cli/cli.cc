#include "bridge/cli/cli.h"

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/cli/client_command.h"

namespace refir::bridge::cli {
namespace {

using CommandFunction = int (*)(const std::vector<std::string>& words, std::ostream& out,
                                std::ostream& err);

struct Command {
  absl::string_view name;
  CommandFunction run;
};

// The client commands, in the order --help and messages list them.
constexpr Command kCommands[] = {{"send", RunSendCommand},
                                 {"tail", RunTailCommand},
                                 {"groups", RunGroupsCommand},
                                 {"dead-letters", RunDeadLettersCommand},
                                 {"replay", RunReplayCommand}};

}  // namespace

std::string CommandNames() {
  std::string names = "serve";
  for (const Command& command : kCommands) absl::StrAppend(&names, ", ", command.name);
  return names;
}

std::optional<int> RunClientCommand(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  const absl::string_view name = argv[1];
  for (const Command& command : kCommands) {
    if (command.name == name) {
      return command.run(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
    }
  }
  return std::nullopt;
}

}  // namespace refir::bridge::cli
