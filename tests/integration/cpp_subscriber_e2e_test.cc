// The example C++ subscriber (client_examples/cpp) run as a real child process
// against the real bridge: it prints the stored events, and it survives a
// bridge restart without printing an event twice or skipping one.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/test_clients.h"

#ifndef REFIR_SUBSCRIBER_BINARY
#error "REFIR_SUBSCRIBER_BINARY must name the refir_subscriber binary"
#endif

namespace refir::bridge::testing {
namespace {

constexpr absl::Duration kWaitLimit = absl::Seconds(30);

// A referral webhook whose message is `message`.
std::string ReferralBody(const std::string& lead, const std::string& message) {
  return absl::StrCat(R"({"event":"referral_created","lead":{"id":")", lead, R"(","email":")", lead,
                      R"(@example.com","name":"Lead )", lead,
                      R"("},"referrer":{"id":"r-1","email":"ref@example.com"},"message":")",
                      message, R"(","campaign":{"id":"c-7"}})", "\n");
}

// Posts one referral webhook with a webhook-id header and checks the answer.
void PostReferral(int port, const std::string& id, const std::string& message,
                  uint64_t want_sequence) {
  HttpResult result = PostWebhook(port, ReferralBody(id, message), {{"webhook-id", id}});
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_EQ(result.json["id"], id);
  EXPECT_EQ(result.json["sequence"], want_sequence);
}

// A port that was free a moment ago, found by binding 127.0.0.1:0.
int PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ADD_FAILURE() << "socket: " << std::strerror(errno);
    return 0;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ADD_FAILURE() << "bind: " << std::strerror(errno);
  } else if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ADD_FAILURE() << "getsockname: " << std::strerror(errno);
  } else {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

// refir_subscriber as a child process, its stdout read line by line through a
// pipe; its stderr goes to the test's.
class SubscriberProcess {
 public:
  enum class Read { kLine, kEof, kTimeout, kError };

  explicit SubscriberProcess(std::vector<std::string> flags) : flags_(std::move(flags)) {}
  ~SubscriberProcess() {
    if (fd_ >= 0) close(fd_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  SubscriberProcess(const SubscriberProcess&) = delete;
  SubscriberProcess& operator=(const SubscriberProcess&) = delete;

  bool Start() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      return false;
    }
    std::vector<std::string> args = {REFIR_SUBSCRIBER_BINARY};
    args.insert(args.end(), flags_.begin(), flags_.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) {
      ADD_FAILURE() << "fork: " << std::strerror(errno);
      close(fds[0]);
      close(fds[1]);
      return false;
    }
    if (pid_ == 0) {
      // dup2 clears O_CLOEXEC on the new descriptor; both pipe ends close at exec.
      if (dup2(fds[1], STDOUT_FILENO) < 0) _exit(126);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
    return true;
  }

  // The next line of stdout, without its newline, waiting until `deadline`.
  Read ReadLine(absl::Time deadline, std::string* line) {
    while (true) {
      const size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        *line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return Read::kLine;
      }
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return Read::kTimeout;
      pollfd poll_fd{fd_, POLLIN, 0};
      const int ready = poll(&poll_fd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) {
        ADD_FAILURE() << "poll: " << std::strerror(errno);
        return Read::kError;
      }
      if (ready == 0) continue;  // The deadline check above ends the loop.
      char chunk[4096];
      const ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ADD_FAILURE() << "read: " << std::strerror(errno);
        return Read::kError;
      }
      if (n == 0) return Read::kEof;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // Reads lines until `count` of them start with "event " (appending those to
  // `events`) or stdout ends or `deadline` passes. True if `count` arrived.
  bool ReadEvents(size_t count, absl::Time deadline, std::vector<std::string>* events) {
    std::string line;
    size_t seen = 0;
    while (seen < count) {
      if (ReadLine(deadline, &line) != Read::kLine) return false;
      if (!absl::StartsWith(line, "event ")) continue;
      events->push_back(line);
      ++seen;
    }
    return true;
  }

  // Reads stdout to its end (appending event lines to `events`), then reaps
  // the process. Kills it if stdout does not end by `deadline`. Returns the
  // exit code, or -1 if it was killed or died from a signal.
  int WaitForExit(absl::Time deadline, std::vector<std::string>* events) {
    std::string line;
    Read read;
    while ((read = ReadLine(deadline, &line)) == Read::kLine) {
      if (absl::StartsWith(line, "event ")) events->push_back(line);
    }
    if (read != Read::kEof) {
      ADD_FAILURE() << "refir_subscriber did not exit in time; killing it";
      kill(pid_, SIGKILL);
    }
    int status = 0;
    const pid_t waited = waitpid(pid_, &status, 0);
    pid_ = -1;
    if (waited < 0) {
      ADD_FAILURE() << "waitpid: " << std::strerror(errno);
      return -1;
    }
    if (read != Read::kEof || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
  }

 private:
  std::vector<std::string> flags_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

// The prefix an event line starts with.
std::string EventPrefix(uint64_t sequence, const std::string& id) {
  return absl::StrCat("event sequence=", sequence, " id=", id,
                      " type=refir.referral.created source=refir received_at=");
}

TEST(CppSubscriberE2ETest, PrintsStoredEventsFromEarliestAndExits) {
  BridgeProcess bridge(MakeTempDir());
  ASSERT_TRUE(bridge.Start().ok());
  PostReferral(bridge.http_port(), "wh_1", "first message", 1);
  PostReferral(bridge.http_port(), "wh_2", "second message", 2);
  PostReferral(bridge.http_port(), "wh_3", "third message", 3);

  SubscriberProcess subscriber(
      {absl::StrCat("--target=", bridge.grpc_target()), "--start=earliest", "--max_events=3"});
  ASSERT_TRUE(subscriber.Start());
  std::vector<std::string> events;
  EXPECT_EQ(subscriber.WaitForExit(absl::Now() + kWaitLimit, &events), 0);

  ASSERT_EQ(events.size(), 3u);
  const std::string messages[] = {"first message", "second message", "third message"};
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string id = absl::StrCat("wh_", i + 1);
    const std::string& line = events[i];
    EXPECT_TRUE(absl::StartsWith(line, EventPrefix(i + 1, id))) << line;
    EXPECT_TRUE(absl::StrContains(
        line, absl::StrCat(" lead.id=", id, " lead.email=", id, "@example.com lead.name=\"Lead ",
                           id, "\" referrer.id=r-1")))
        << line;
    EXPECT_TRUE(absl::StrContains(line, absl::StrCat(" message=\"", messages[i], "\" "))) << line;
    EXPECT_TRUE(absl::StrContains(line, " campaign.id=c-7 body=\"{")) << line;
    // The body's trailing newline is escaped: the event stays on one line.
    EXPECT_TRUE(absl::EndsWith(line, "}}\\n\"")) << line;
  }
}

TEST(CppSubscriberE2ETest, ReconnectsAfterBridgeRestartWithoutDuplicatesOrGaps) {
  const std::string data_dir = MakeTempDir();
  const int grpc_port = PickFreePort();
  ASSERT_GT(grpc_port, 0);
  // BridgeProcess passes --grpc_port=0 first; the later flag wins, so both
  // bridges listen on the same port and the subscriber can find the second.
  const std::vector<std::string> flags = {absl::StrCat("--grpc_port=", grpc_port)};
  auto bridge = std::make_unique<BridgeProcess>(data_dir, flags);
  ASSERT_TRUE(bridge->Start().ok());
  ASSERT_EQ(bridge->grpc_port(), grpc_port);

  SubscriberProcess subscriber(
      {absl::StrCat("--target=", bridge->grpc_target()), "--start=earliest", "--max_events=4"});
  ASSERT_TRUE(subscriber.Start());
  PostReferral(bridge->http_port(), "wh_1", "one", 1);
  PostReferral(bridge->http_port(), "wh_2", "two", 2);
  std::vector<std::string> events;
  ASSERT_TRUE(subscriber.ReadEvents(2, absl::Now() + kWaitLimit, &events));

  absl::StatusOr<int> stopped = bridge->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0);
  bridge = std::make_unique<BridgeProcess>(data_dir, flags);
  ASSERT_TRUE(bridge->Start().ok());
  ASSERT_EQ(bridge->grpc_port(), grpc_port);
  PostReferral(bridge->http_port(), "wh_3", "three", 3);
  PostReferral(bridge->http_port(), "wh_4", "four", 4);

  EXPECT_EQ(subscriber.WaitForExit(absl::Now() + kWaitLimit, &events), 0);
  ASSERT_EQ(events.size(), 4u);
  const std::string messages[] = {"one", "two", "three", "four"};
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_TRUE(absl::StartsWith(events[i], EventPrefix(i + 1, absl::StrCat("wh_", i + 1))))
        << events[i];
    EXPECT_TRUE(absl::StrContains(events[i], absl::StrCat(" message=\"", messages[i], "\" ")))
        << events[i];
  }
}

}  // namespace
}  // namespace refir::bridge::testing
