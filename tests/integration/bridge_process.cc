#include "tests/integration/bridge_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace refir::bridge::testing {

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& content) {
  const std::string path = absl::StrCat(dir, "/", name);
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << content;
  EXPECT_TRUE(out.good()) << "cannot write " << path;
  return path;
}

std::string BridgeProcess::BinaryPath() {
  const char* path = std::getenv("REFIR_TEST_BRIDGE_BINARY");
  return path == nullptr ? std::string() : std::string(path);
}

BridgeProcess::BridgeProcess(std::string data_dir, std::vector<std::string> extra_flags)
    : data_dir_(std::move(data_dir)), extra_flags_(std::move(extra_flags)) {}

BridgeProcess::~BridgeProcess() {
  if (pid_ > 0) Kill();
}

std::string BridgeProcess::grpc_target() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

absl::Status BridgeProcess::Start() {
  const std::string binary = BinaryPath();
  if (binary.empty()) return absl::FailedPreconditionError("REFIR_TEST_BRIDGE_BINARY is not set");
  const std::string ports_file = absl::StrCat(data_dir_, "/ports");
  unlink(ports_file.c_str());

  std::vector<std::string> args = {binary,           absl::StrCat("--data_dir=", data_dir_),
                                   "--http_port=0",  "--grpc_port=0",
                                   "--admin_port=0", absl::StrCat("--ports_file=", ports_file)};
  if (!command_.empty()) args.insert(args.begin() + 1, command_);
  args.insert(args.end(), extra_flags_.begin(), extra_flags_.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int stderr_fd = -1;
  if (!stderr_path_.empty()) {
    stderr_fd = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (stderr_fd < 0) return absl::InternalError(absl::StrCat("cannot open ", stderr_path_));
  }
  pid_ = fork();
  if (pid_ < 0) {
    if (stderr_fd >= 0) close(stderr_fd);
    return absl::InternalError("fork failed");
  }
  if (pid_ == 0) {
    if (stderr_fd >= 0 && dup2(stderr_fd, STDERR_FILENO) < 0) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (stderr_fd >= 0) close(stderr_fd);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) {
        return absl::FailedPreconditionError(
            absl::StrCat("bridge exited during startup with code ", WEXITSTATUS(status)));
      }
      return absl::InternalError(absl::StrCat("bridge exited during startup, status ", status));
    }
    std::ifstream in(ports_file);
    if (in) {
      std::stringstream contents;
      contents << in.rdbuf();
      for (absl::string_view line : absl::StrSplit(contents.str(), '\n', absl::SkipEmpty())) {
        std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, '=');
        int value = 0;
        if (!absl::SimpleAtoi(kv.second, &value)) continue;
        if (kv.first == "http_port") http_port_ = value;
        if (kv.first == "grpc_port") grpc_port_ = value;
        if (kv.first == "admin_port") admin_port_ = value;
      }
      if (http_port_ > 0 && grpc_port_ > 0 && admin_port_ > 0) return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(10));  // Polling a file another process writes.
  }
  Kill();
  return absl::DeadlineExceededError("bridge did not become ready in 30 s");
}

std::string BridgeProcess::CapturedStderr() const {
  if (stderr_path_.empty()) return "";
  std::ifstream in(stderr_path_);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

absl::StatusOr<int> BridgeProcess::WaitForExit() {
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return absl::InternalError("waitpid failed");
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return absl::InternalError(absl::StrCat("bridge died from signal ", WTERMSIG(status)));
}

absl::StatusOr<int> BridgeProcess::Stop() {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  kill(pid_, SIGTERM);
  return WaitForExit();
}

void BridgeProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace refir::bridge::testing
