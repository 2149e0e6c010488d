// Hostile clients at the webhook edge (issue 8): idle and slow-loris
// connections must not starve legitimate senders, slow requests are cut off
// with 408 after --http_request_timeout, and connections beyond
// --http_max_connections are refused with a clean 503.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/integration/bridge_probes.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool Readable(int fd, int timeout_ms) {
  pollfd p = {fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

// Everything the peer sends until it closes or `wait` passes.
std::string ReadUntilClosed(int fd, absl::Duration wait) {
  std::string out;
  const absl::Time until = absl::Now() + wait;
  char buf[4096];
  while (absl::Now() < until) {
    if (!Readable(fd, static_cast<int>(absl::ToInt64Milliseconds(until - absl::Now())) + 1)) break;
    const ssize_t got = ::recv(fd, buf, sizeof(buf), 0);
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

TEST(HostileClientsE2e, IdleAndSlowLorisConnectionsDoNotStarveWebhooks) {
  BridgeProcess bridge(MakeTempDir(),
                       {"--http_request_timeout=2s", "--http_keep_alive_timeout=30s"});
  ASSERT_TRUE(bridge.Start().ok());
  const int port = bridge.http_port();

  constexpr int kHostile = 256;
  std::vector<int> idle;
  std::vector<int> slow;
  for (int i = 0; i < kHostile; ++i) {
    const int fd = Connect(port);
    ASSERT_GE(fd, 0) << "hostile connection " << i;
    if (i % 2 == 0) {
      idle.push_back(fd);
    } else {
      const std::string line = "POST /webhook HTTP/1.1\r\n";
      ASSERT_EQ(::send(fd, line.data(), line.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(line.size()));
      slow.push_back(fd);
    }
  }
  // Slow-loris: one header byte a second on each until it is answered.
  std::vector<std::string> slow_answers(slow.size());
  std::atomic<bool> done{false};
  std::thread loris([&] {
    std::vector<bool> answered(slow.size(), false);
    const std::string header =
        "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    size_t next = 0;
    absl::Time next_byte = absl::Now();
    while (!done.load() &&
           std::count(answered.begin(), answered.end(), true) < static_cast<long>(slow.size())) {
      for (size_t i = 0; i < slow.size(); ++i) {
        if (!answered[i] && Readable(slow[i], 0)) {
          answered[i] = true;
          slow_answers[i] = ReadUntilClosed(slow[i], absl::Seconds(3));
        }
      }
      if (absl::Now() >= next_byte) {
        for (size_t i = 0; i < slow.size(); ++i) {
          if (!answered[i]) ::send(slow[i], &header[next % header.size()], 1, MSG_NOSIGNAL);
        }
        ++next;
        next_byte += absl::Seconds(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  // Legitimate senders: a few keep-alive clients at a steady rate.
  constexpr int kClients = 4;
  constexpr int kPerClient = 125;
  std::vector<std::vector<double>> latencies_ms(kClients);
  std::vector<int> ok(kClients, 0);
  std::vector<std::thread> senders;
  for (int c = 0; c < kClients; ++c) {
    senders.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(10, 0);
      for (int i = 0; i < kPerClient; ++i) {
        const absl::Time start = absl::Now();
        auto res = client.Post("/webhook", absl::StrCat(R"({"client":)", c, R"(,"n":)", i, "}"),
                               "application/json");
        latencies_ms[c].push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
        if (res && res->status == 200) ++ok[c];
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  }
  for (std::thread& sender : senders) sender.join();

  std::vector<double> all;
  int answered_ok = 0;
  for (int c = 0; c < kClients; ++c) {
    all.insert(all.end(), latencies_ms[c].begin(), latencies_ms[c].end());
    answered_ok += ok[c];
  }
  std::sort(all.begin(), all.end());
  const double p99 = all[all.size() * 99 / 100];
  std::cerr << "legitimate webhooks: " << all.size() << " p50 " << all[all.size() / 2]
            << " ms, p99 " << p99 << " ms, max " << all.back() << " ms\n";
  EXPECT_EQ(answered_ok, kClients * kPerClient);
  EXPECT_LE(p99, 1000.0);

  // None lost: every one reached the journal and is read back over gRPC.
  auto stub = MakeStub(bridge.grpc_target());
  EXPECT_EQ(ListAllEvents(*stub).size(), static_cast<size_t>(kClients * kPerClient));

  // The slow-loris connections were answered 408 and closed.
  const absl::Time until = absl::Now() + absl::Seconds(15);
  while (absl::Now() < until) {
    bool all_answered = true;
    for (const std::string& answer : slow_answers) all_answered = all_answered && !answer.empty();
    if (all_answered) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  done.store(true);
  loris.join();
  int timed_out = 0;
  for (const std::string& answer : slow_answers) {
    if (absl::StartsWith(answer, "HTTP/1.1 408") &&
        absl::StrContains(answer, R"("error":"request_timeout")")) {
      ++timed_out;
    }
  }
  EXPECT_EQ(timed_out, static_cast<int>(slow.size()));
  EXPECT_EQ(MetricValue(bridge.admin_port(), "refir_bridge_http_request_timeouts_total"),
            static_cast<double>(slow.size()));
  // The idle ones are still open.
  EXPECT_GE(MetricValue(bridge.admin_port(), "refir_bridge_http_connections_open"),
            static_cast<double>(idle.size()));
  for (int fd : idle) ::close(fd);
  for (int fd : slow) ::close(fd);
  EXPECT_EQ(PostWebhook(port, R"({"after":true})").status, 200);
}

TEST(HostileClientsE2e, ConnectionsBeyondTheLimitAreRefusedCleanly) {
  BridgeProcess bridge(MakeTempDir(), {"--http_threads=2", "--http_max_connections=8",
                                       "--http_keep_alive_timeout=30s"});
  ASSERT_TRUE(bridge.Start().ok());
  const int port = bridge.http_port();

  std::vector<int> held;
  for (int i = 0; i < 8; ++i) {
    const int fd = Connect(port);
    ASSERT_GE(fd, 0);
    held.push_back(fd);
  }
  // Accepted in order; the 8 held ones are not answered.
  std::vector<int> excess;
  for (int i = 0; i < 4; ++i) {
    const int fd = Connect(port);
    ASSERT_GE(fd, 0);
    excess.push_back(fd);
  }
  for (int fd : excess) {
    const std::string answer = ReadUntilClosed(fd, absl::Seconds(10));
    EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 503")) << answer;
    EXPECT_TRUE(absl::StrContains(answer, R"("error":"too_many_connections")")) << answer;
    EXPECT_TRUE(absl::StrContains(answer, "Retry-After: 1")) << answer;
    EXPECT_TRUE(absl::StrContains(answer, "Connection: close")) << answer;
    ::close(fd);
  }
  for (int fd : held) EXPECT_FALSE(Readable(fd, 0)) << "a held connection was answered";
  EXPECT_EQ(MetricValue(bridge.admin_port(), "refir_bridge_http_connections_refused_total"),
            static_cast<double>(excess.size()));
  // Counted when a worker picks the connection up, which may lag the accept
  // on a loaded machine (new workers are threads being started).
  const absl::Time counted_by = absl::Now() + absl::Seconds(10);
  double open = -1;
  while (absl::Now() < counted_by) {
    open = MetricValue(bridge.admin_port(), "refir_bridge_http_connections_open");
    if (open == 8.0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(open, 8.0);
  for (int fd : held) ::close(fd);
  // Once they are gone, webhooks are answered again.
  const absl::Time until = absl::Now() + absl::Seconds(10);
  int status = 0;
  while (absl::Now() < until) {
    status = PostWebhook(port, R"({"after":"limit"})").status;
    if (status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace refir::bridge::testing
