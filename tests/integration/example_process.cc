#include "tests/integration/example_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace refir::bridge::testing {
namespace {

// Milliseconds until `deadline` for poll(), at least 0, rounded up.
int PollTimeoutMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

// `name` itself when it contains a slash, else the first executable file
// named `name` in $PATH (or `name` unchanged when there is none).
std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  if (path == nullptr) return name;
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;
}

// The test's environment with `overrides` added or replacing the same names.
std::vector<std::string> MakeEnvironment(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const absl::string_view text(*entry);
    const absl::string_view name = text.substr(0, text.find('='));
    bool overridden = false;
    for (const auto& [key, value] : overrides) overridden = overridden || key == name;
    if (!overridden) env.emplace_back(text);
  }
  for (const auto& [key, value] : overrides) env.push_back(absl::StrCat(key, "=", value));
  return env;
}

std::vector<char*> PointersTo(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

ExampleProcess::ExampleProcess(std::vector<std::string> argv,
                               std::vector<std::pair<std::string, std::string>> env)
    : argv_(std::move(argv)), env_(std::move(env)) {}

ExampleProcess::~ExampleProcess() {
  if (pid_ > 0) Kill();
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

absl::Status ExampleProcess::Start() {
  if (argv_.empty()) return absl::InvalidArgumentError("empty argv");
  if (pid_ > 0) return absl::FailedPreconditionError("already started");
  // Everything the child needs is prepared before fork: the test process has
  // gRPC threads, so the child may only call async-signal-safe functions.
  std::vector<std::string> args = argv_;
  args[0] = FindExecutable(args[0]);
  std::vector<std::string> env = MakeEnvironment(env_);
  std::vector<char*> argv = PointersTo(args);
  std::vector<char*> envp = PointersTo(env);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe2: ", errno));
  const int dev_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (dev_null < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("open /dev/null: ", errno));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    const int error = errno;
    close(fds[0]);
    close(fds[1]);
    close(dev_null);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(error)));
  }
  if (pid == 0) {
    // Its own process group, so that Kill() also ends what a script started.
    setpgid(0, 0);
    // dup2 clears O_CLOEXEC on the new descriptors; the originals close at exec.
    if (dup2(fds[1], STDOUT_FILENO) < 0 || dup2(dev_null, STDIN_FILENO) < 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);  // Also here, so the group exists before Kill() can run.
  close(fds[1]);
  close(dev_null);
  pid_ = pid;
  stdout_fd_ = fds[0];
  buffer_.clear();
  return absl::OkStatus();
}

ExampleProcess::Read ExampleProcess::ReadLine(absl::Time deadline, std::string* line) {
  while (true) {
    const size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      *line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return Read::kLine;
    }
    if (stdout_fd_ < 0) {
      if (buffer_.empty()) return Read::kEof;
      // A last line without a newline.
      *line = std::move(buffer_);
      buffer_.clear();
      return Read::kLine;
    }
    pollfd poll_fd{stdout_fd_, POLLIN, 0};
    const int ready = poll(&poll_fd, 1, PollTimeoutMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      ADD_FAILURE() << "poll: " << std::strerror(errno);
      return Read::kError;
    }
    if (ready == 0) {
      if (absl::Now() >= deadline) return Read::kTimeout;
      continue;
    }
    char chunk[4096];
    const ssize_t n = read(stdout_fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ADD_FAILURE() << "read: " << std::strerror(errno);
      return Read::kError;
    }
    if (n == 0) {
      close(stdout_fd_);
      stdout_fd_ = -1;
      continue;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

absl::StatusOr<int> ExampleProcess::WaitForExit(absl::Time deadline,
                                                std::vector<std::string>* lines) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  std::string line;
  Read read;
  while ((read = ReadLine(deadline, &line)) == Read::kLine) {
    if (lines != nullptr) lines->push_back(line);
  }
  if (read != Read::kEof) {
    Kill();
    return absl::DeadlineExceededError("stdout was not closed in time; killed the process");
  }
  absl::StatusOr<int> status = WaitForChild(deadline);
  if (!status.ok()) {
    Kill();
    return status.status();
  }
  if (WIFSIGNALED(*status)) {
    return absl::AbortedError(absl::StrCat("killed by signal ", WTERMSIG(*status)));
  }
  return WEXITSTATUS(*status);
}

absl::StatusOr<int> ExampleProcess::WaitForChild(absl::Time deadline) {
  // A pidfd becomes readable when the process exits: poll it with the deadline.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd poll_fd{pidfd, POLLIN, 0};
    int ready;
    do {
      ready = poll(&poll_fd, 1, PollTimeoutMs(deadline));
    } while (ready < 0 && errno == EINTR);
    close(pidfd);
    if (ready == 0) return absl::DeadlineExceededError("the process did not exit in time");
  }
  // Exited (or no pidfd support: stdout is closed, so it is exiting anyway).
  int status = 0;
  pid_t waited;
  do {
    waited = waitpid(pid_, &status, 0);
  } while (waited < 0 && errno == EINTR);
  if (waited < 0) return absl::InternalError(absl::StrCat("waitpid: ", std::strerror(errno)));
  pid_ = -1;
  return status;
}

void ExampleProcess::Signal(int signal_number) {
  if (pid_ > 0) kill(pid_, signal_number);
}

void ExampleProcess::Kill() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace refir::bridge::testing
