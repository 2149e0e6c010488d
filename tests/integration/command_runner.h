// RunCommand: runs a shell command line (the bridge binary with arguments)
// for end-to-end tests of its command-line behaviour, collecting its exit
// code and output.
#ifndef REFIR_TESTS_INTEGRATION_COMMAND_RUNNER_H_
#define REFIR_TESTS_INTEGRATION_COMMAND_RUNNER_H_

#include <string>

namespace refir::bridge::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string output;  // stdout and stderr, interleaved
};

// Runs `command` with /bin/sh, its stderr joined to its stdout.
CommandResult RunCommand(const std::string& command);

}  // namespace refir::bridge::testing

#endif  // REFIR_TESTS_INTEGRATION_COMMAND_RUNNER_H_
