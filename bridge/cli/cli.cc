#include "bridge/cli/cli.h"

#include <iostream>
#include <string>
#include <vector>

#include "bridge/cli/client_command.h"

namespace refir::bridge::cli {

absl::string_view CommandNames() { return "serve, send, tail, groups, dead-letters, replay"; }

std::optional<int> RunClientCommand(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  const absl::string_view name = argv[1];
  const std::vector<std::string> words(argv + 2, argv + argc);
  if (name == "groups") return RunGroupsCommand(words, std::cout, std::cerr);
  if (name == "dead-letters") return RunDeadLettersCommand(words, std::cout, std::cerr);
  if (name == "replay") return RunReplayCommand(words, std::cout, std::cerr);
  if (name == "tail") return RunTailCommand(words, std::cout, std::cerr);
  if (name == "send") return RunSendCommand(words, std::cout, std::cerr);
  return std::nullopt;
}

}  // namespace refir::bridge::cli
