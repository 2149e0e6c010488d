#include "bridge/http_edge/connection_stream.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

class ConnectionStreamTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0); }
  void TearDown() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  void Send(const std::string& data) {
    ASSERT_EQ(::send(fds_[1], data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  }
  int server() const { return fds_[0]; }
  // What the peer can read now, without waiting.
  std::string Received() {
    std::string got;
    char chunk[4096];
    ssize_t n = 0;
    while ((n = ::recv(fds_[1], chunk, sizeof(chunk), MSG_DONTWAIT)) > 0) got.append(chunk, n);
    return got;
  }

 private:
  int fds_[2] = {-1, -1};
};

TEST_F(ConnectionStreamTest, ReadsWhatArrivesBeforeTheDeadline) {
  ConnectionStream stream(server(), -1, absl::Seconds(5), absl::Seconds(5));
  Send("hello");
  ASSERT_EQ(stream.WaitForRequest(absl::Seconds(1)), ConnectionStream::Wait::kRequest);
  stream.BeginRequest(absl::Now() + absl::Seconds(5));
  char buf[2];
  ASSERT_EQ(stream.read(buf, 2), 2);
  EXPECT_EQ(std::string(buf, 2), "he");
  // The rest is buffered: readable without waiting.
  EXPECT_TRUE(stream.is_readable());
  char rest[8];
  EXPECT_EQ(stream.read(rest, sizeof(rest)), 3);
  EXPECT_FALSE(stream.expired());
}

TEST_F(ConnectionStreamTest, ATrickleStillExpiresAtTheDeadline) {
  // The read timeout alone (5 s a recv) never trips on a byte every 100 ms.
  ConnectionStream stream(server(), -1, absl::Seconds(5), absl::Seconds(5));
  const absl::Time start = absl::Now();
  stream.BeginRequest(start + absl::Milliseconds(500));
  char byte;
  int read = 0;
  while (absl::Now() - start < absl::Seconds(5)) {
    Send("x");
    if (stream.read(&byte, 1) != 1) break;
    ++read;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(stream.expired());
  EXPECT_GE(read, 1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  // Nothing may be written for an expired request.
  EXPECT_EQ(stream.write("x", 1), -1);
  EXPECT_EQ(stream.written(), 0u);
}

TEST_F(ConnectionStreamTest, IdleWaitEndsAtTheTimeoutOrOnStop) {
  const int stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ASSERT_GE(stop_fd, 0);
  ConnectionStream stream(server(), stop_fd, absl::Seconds(5), absl::Seconds(5));
  EXPECT_EQ(stream.WaitForRequest(absl::Milliseconds(50)), ConnectionStream::Wait::kIdle);
  const uint64_t one = 1;
  ASSERT_EQ(::write(stop_fd, &one, sizeof(one)), static_cast<ssize_t>(sizeof(one)));
  const absl::Time start = absl::Now();
  EXPECT_EQ(stream.WaitForRequest(absl::Seconds(30)), ConnectionStream::Wait::kStopping);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  ::close(stop_fd);
}

TEST_F(ConnectionStreamTest, WritesAndCountsBytes) {
  ConnectionStream stream(server(), -1, absl::Seconds(5), absl::Seconds(5));
  stream.BeginRequest(absl::Now() + absl::Seconds(5));
  EXPECT_EQ(stream.write("abc", 3), 3);
  EXPECT_EQ(stream.written(), 3u);
}

TEST_F(ConnectionStreamTest, FlushSendsTheHeadAndBodyTogether) {
  ConnectionStream stream(server(), -1, absl::Seconds(5), absl::Seconds(5));
  stream.BeginRequest(absl::Now() + absl::Seconds(5));
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
  ASSERT_EQ(stream.write(head.data(), head.size()), static_cast<ssize_t>(head.size()));
  ASSERT_EQ(stream.write("{}", 2), 2);
  EXPECT_EQ(Received(), "");  // Held until the response is complete.
  EXPECT_TRUE(stream.Flush());
  EXPECT_EQ(Received(), head + "{}");
  EXPECT_TRUE(stream.Flush());  // Nothing left: a no-op.
  EXPECT_EQ(Received(), "");
}

TEST_F(ConnectionStreamTest, LargeResponsesAreSentAsTheyAreWritten) {
  ConnectionStream stream(server(), -1, absl::Seconds(5), absl::Seconds(5));
  stream.BeginRequest(absl::Now() + absl::Seconds(5));
  const std::string chunk(64 * 1024, 'x');
  ASSERT_EQ(stream.write(chunk.data(), chunk.size()), static_cast<ssize_t>(chunk.size()));
  EXPECT_EQ(Received().size(), chunk.size());
}

TEST_F(ConnectionStreamTest, FlushFailsWhenThePeerIsGone) {
  ConnectionStream stream(server(), -1, absl::Seconds(5), absl::Seconds(5));
  stream.BeginRequest(absl::Now() + absl::Seconds(5));
  ASSERT_EQ(stream.write("abc", 3), 3);
  ::shutdown(server(), SHUT_WR);
  EXPECT_FALSE(stream.Flush());
}

}  // namespace
}  // namespace refir::bridge
