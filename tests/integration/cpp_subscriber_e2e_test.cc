// The example C++ subscriber (client_examples/cpp) run as a real child process
// against the real bridge, for what client_examples_e2e_test does not cover:
// connecting before the bridge is up, SIGTERM, and errors that must not be
// retried. (The ack/nack/restart flow is tested there, for every language.)
// The tests with a bridge run on both journals, as there.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/bridge_process.h"
#include "tests/integration/bridge_test.h"
#include "tests/integration/example_process.h"
#include "tests/integration/journal_backend.h"
#include "tests/integration/test_certs.h"
#include "tests/integration/test_clients.h"
#include "tests/nats/nats_server_process.h"

#ifndef REFIR_SUBSCRIBER_BINARY
#error "REFIR_SUBSCRIBER_BINARY must name the refir_subscriber binary"
#endif

namespace refir::bridge::testing {
namespace {

constexpr absl::Duration kWaitLimit = absl::Seconds(30);

// Reads lines into `lines` until one starts with `prefix`; true if one did.
bool ReadUntil(ExampleProcess& process, const std::string& prefix,
               std::vector<std::string>* lines) {
  const absl::Time deadline = absl::Now() + kWaitLimit;
  std::string line;
  while (process.ReadLine(deadline, &line) == ExampleProcess::Read::kLine) {
    lines->push_back(line);
    if (absl::StartsWith(line, prefix)) return true;
  }
  ADD_FAILURE() << "no line starting with \"" << prefix << "\"; got:\n"
                << absl::StrJoin(*lines, "\n");
  return false;
}

// Journals/CppSubscriberE2ETest.<test>/Sqlite and .../JetStream.
using CppSubscriberE2ETest = JournalTest;

TEST_P(CppSubscriberE2ETest, WaitsForTheBridgeThenAcksAndExitsZeroOnSigterm) {
  const int grpc_port = PickFreePort();
  ASSERT_GT(grpc_port, 0);
  ExampleProcess subscriber({REFIR_SUBSCRIBER_BINARY,
                             absl::StrCat("--target=127.0.0.1:", grpc_port), "--group=sigterm",
                             "--client_id=c1"});
  ASSERT_TRUE(subscriber.Start().ok());
  std::vector<std::string> lines;
  // Nothing listens yet: the first attempt fails and is retried after 100 ms.
  ASSERT_TRUE(ReadUntil(subscriber, "reconnecting in 100 ms: UNAVAILABLE: ", &lines));

  std::unique_ptr<BridgeProcess> bridge = MakeBridge({absl::StrCat("--grpc_port=", grpc_port)});
  const absl::Status started = bridge->Start();
  ASSERT_TRUE(started.ok()) << started;
  ASSERT_TRUE(ReadUntil(subscriber, "ready ", &lines));
  EXPECT_EQ(lines.back(), "ready group=sigterm client_id=c1");
  const std::string body =
      R"({"event":"referral_created","lead":{"id":101,"email":"ana@example.com"},)"
      R"("referrer":{"id":7,"email":"bo@example.com"},"message":"Ana said \"hi\"\n"})";
  HttpResult posted = PostWebhook(bridge->http_port(), body, {{"webhook-id", "wh_1"}});
  ASSERT_EQ(posted.status, 200) << posted.body;
  ASSERT_TRUE(ReadUntil(subscriber, "ack ", &lines));
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[lines.size() - 2],
            "event sequence=1 id=wh_1 type=refir.referral.created attempt=1 "
            "lead.email=ana@example.com referrer.email=bo@example.com "
            R"(message="Ana said \"hi\"\n" body=)" +
                nlohmann::json(body).dump());
  EXPECT_EQ(lines.back(), "ack sequence=1");

  subscriber.Signal(SIGTERM);
  absl::StatusOr<int> exit_code = subscriber.WaitForExit(absl::Now() + kWaitLimit, &lines);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
}

TEST_P(CppSubscriberE2ETest, ExitsOneWithoutRetryingOnInvalidArgument) {
  std::unique_ptr<BridgeProcess> bridge = MakeBridge();
  const absl::Status started = bridge->Start();
  ASSERT_TRUE(started.ok()) << started;
  ExampleProcess subscriber({REFIR_SUBSCRIBER_BINARY,
                             absl::StrCat("--target=", bridge->grpc_target()),
                             "--group=not a valid name"});
  ASSERT_TRUE(subscriber.Start().ok());
  std::vector<std::string> lines;
  absl::StatusOr<int> exit_code = subscriber.WaitForExit(absl::Now() + kWaitLimit, &lines);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 1);
  EXPECT_TRUE(lines.empty()) << absl::StrJoin(lines, "\n");
}

TEST_P(CppSubscriberE2ETest, MutualTlsAndATokenFromAFileOrTheEnvironment) {
  const std::string dir = MakeTempDir();
  absl::StatusOr<TestPki> pki = MakeTestPki(dir);
  ASSERT_TRUE(pki.ok()) << pki.status();
  const std::string tokens = dir + "/tokens";
  ASSERT_TRUE(WriteTestFile(tokens, "alpha alpha-token-0123456789 group-a\n"));
  const std::string token_file = dir + "/alpha.token";
  ASSERT_TRUE(WriteTestFile(token_file, "alpha-token-0123456789\n"));
  std::unique_ptr<BridgeProcess> bridge = MakeBridge(
      {"--grpc_tls_cert_file=" + pki->server.cert, "--grpc_tls_key_file=" + pki->server.key,
       "--grpc_tls_client_ca_file=" + pki->ca_cert, "--grpc_tokens_file=" + tokens});
  const absl::Status started = bridge->Start();
  ASSERT_TRUE(started.ok()) << started;
  const std::vector<std::string> tls_flags = {
      REFIR_SUBSCRIBER_BINARY, absl::StrCat("--target=", bridge->grpc_target()),
      "--tls_ca_file=" + pki->ca_cert, "--tls_cert_file=" + pki->client.cert,
      "--tls_key_file=" + pki->client.key};

  std::vector<std::string> argv = tls_flags;
  argv.push_back("--group=group-a");
  argv.push_back("--token_file=" + token_file);
  argv.push_back("--max_events=1");
  ExampleProcess subscriber(argv);
  ASSERT_TRUE(subscriber.Start().ok());
  std::vector<std::string> lines;
  ASSERT_TRUE(ReadUntil(subscriber, "ready ", &lines));
  ASSERT_EQ(PostWebhook(bridge->http_port(), R"({"event":"referral_created"})").status, 200);
  absl::StatusOr<int> exit_code = subscriber.WaitForExit(absl::Now() + kWaitLimit, &lines);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_EQ(lines.back(), "ack sequence=1") << absl::StrJoin(lines, "\n");

  // Not retried: a group the token may not use (token from the environment),
  // and no token at all.
  for (const bool with_token : {true, false}) {
    SCOPED_TRACE(with_token ? "group-b" : "no token");
    std::vector<std::string> denied_argv = tls_flags;
    denied_argv.push_back("--group=group-b");
    ExampleProcess denied(denied_argv,
                          {{"REFIR_SUBSCRIBER_TOKEN", with_token ? "alpha-token-0123456789" : ""}});
    ASSERT_TRUE(denied.Start().ok());
    std::vector<std::string> denied_lines;
    exit_code = denied.WaitForExit(absl::Now() + kWaitLimit, &denied_lines);
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
    EXPECT_EQ(*exit_code, 1);
    EXPECT_TRUE(denied_lines.empty()) << absl::StrJoin(denied_lines, "\n");
  }
}

INSTANTIATE_TEST_SUITE_P(Journals, CppSubscriberE2ETest, AllJournalBackends(), JournalBackendName);

// No bridge: the flag is refused before the subscriber connects.
TEST(CppSubscriberFlagsTest, RejectsABadStartFlag) {
  ExampleProcess subscriber({REFIR_SUBSCRIBER_BINARY, "--start=42"});
  ASSERT_TRUE(subscriber.Start().ok());
  absl::StatusOr<int> exit_code = subscriber.WaitForExit(absl::Now() + kWaitLimit, nullptr);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 2);
}

}  // namespace
}  // namespace refir::bridge::testing
