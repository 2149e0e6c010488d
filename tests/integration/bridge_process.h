// BridgeProcess: runs the real refir-bridge binary for integration tests, on
// ports chosen by the kernel (port 0) and a data directory of the test's.
#ifndef REFIR_BRIDGE_TESTS_INTEGRATION_BRIDGE_PROCESS_H_
#define REFIR_BRIDGE_TESTS_INTEGRATION_BRIDGE_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/common/temp_dir.h"

namespace refir::bridge::testing {

// Writes `content` (bytes as they are) to `dir`/`name`; returns the path.
std::string WriteFile(const std::string& dir, const std::string& name, const std::string& content);

class BridgeProcess {
 public:
  // Path from $REFIR_TEST_BRIDGE_BINARY (set by CMake for integration tests).
  static std::string BinaryPath();

  explicit BridgeProcess(std::string data_dir, std::vector<std::string> extra_flags = {});
  ~BridgeProcess();

  BridgeProcess(const BridgeProcess&) = delete;
  BridgeProcess& operator=(const BridgeProcess&) = delete;

  // A command word put before every flag (`serve`); none by default.
  void set_command(std::string command) { command_ = std::move(command); }
  // From the next Start on, the bridge's stderr goes to `path` (truncated at
  // each start) instead of the test's stderr.
  void set_stderr_file(std::string path) { stderr_path_ = std::move(path); }
  // What the bridge wrote to stderr so far ("" when not captured).
  std::string CapturedStderr() const;

  // Starts the binary and waits (up to 30 s) until it wrote its ports file.
  // When it exits first: FAILED_PRECONDITION "bridge exited during startup
  // with code N".
  absl::Status Start();
  // SIGTERM, then waits for exit; returns the exit status (0 expected).
  absl::StatusOr<int> Stop();
  // SIGKILL, then reaps the process.
  void Kill();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  int http_port() const { return http_port_; }
  int grpc_port() const { return grpc_port_; }
  int admin_port() const { return admin_port_; }
  std::string grpc_target() const;
  const std::string& data_dir() const { return data_dir_; }

 private:
  absl::StatusOr<int> WaitForExit();

  std::string data_dir_;
  std::vector<std::string> extra_flags_;
  std::string command_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  int http_port_ = 0;
  int grpc_port_ = 0;
  int admin_port_ = 0;
};

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_INTEGRATION_BRIDGE_PROCESS_H_
