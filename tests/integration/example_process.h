// ExampleProcess: runs a client example (a binary, or `bash run.sh`) as a
// child process for integration tests, and reads its stdout line by line with
// deadlines. (PickFreePort, for a port needed before a bridge starts, is in
// tests/nats/nats_server_process.h.)
#ifndef REFIR_BRIDGE_TESTS_INTEGRATION_EXAMPLE_PROCESS_H_
#define REFIR_BRIDGE_TESTS_INTEGRATION_EXAMPLE_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace refir::bridge::testing {

// A child process in its own process group. Its stdout is a pipe read by the
// test; its stderr is the test's; its stdin is /dev/null. The destructor kills
// the whole process group and reaps the child.
class ExampleProcess {
 public:
  enum class Read { kLine, kEof, kTimeout, kError };

  // `argv[0]` is a path or a name looked up in $PATH. `env` is added to (or
  // overrides) the test's environment.
  explicit ExampleProcess(std::vector<std::string> argv,
                          std::vector<std::pair<std::string, std::string>> env = {});
  ~ExampleProcess();

  ExampleProcess(const ExampleProcess&) = delete;
  ExampleProcess& operator=(const ExampleProcess&) = delete;

  absl::Status Start();

  // The next line of stdout, without its newline. Waits (with poll) until
  // `deadline`. kEof once stdout is closed and every line was read.
  Read ReadLine(absl::Time deadline, std::string* line);

  // Reads the rest of stdout (appending its lines to `lines`, if not null),
  // then waits for the process to exit, both until `deadline`. Returns the
  // exit code; an error if it died from a signal, or did not exit in time (it
  // is then killed).
  absl::StatusOr<int> WaitForExit(absl::Time deadline, std::vector<std::string>* lines);

  // Sends `signal_number` to the child (not its process group).
  void Signal(int signal_number);
  // SIGKILL to the whole process group, then reaps the child.
  void Kill();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  // Waits until the child exits or `deadline` passes; reaps it. Returns the
  // raw wait status, or an error on timeout.
  absl::StatusOr<int> WaitForChild(absl::Time deadline);

  std::vector<std::string> argv_;
  std::vector<std::pair<std::string, std::string>> env_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
};

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_INTEGRATION_EXAMPLE_PROCESS_H_
