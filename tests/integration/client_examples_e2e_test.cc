// Every client example (client_examples/<lang>/run.sh) against the real
// bridge, as a child process, on both journals (SQLite; JetStream on a
// nats-server of the test's own, where the one bridge serves the groups): it
// joins a consumer group, prints, acks and nacks events exactly as
// docs/clients.md specifies, rides out a bridge restart, and exits 0 after
// --max_events acked sequences, leaving the group with nothing pending.
#include <unistd.h>

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/bridge_process.h"
#include "tests/integration/bridge_test.h"
#include "tests/integration/example_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/journal_backend.h"
#include "tests/integration/test_clients.h"
#include "tests/nats/nats_server_process.h"

#ifndef REFIR_SOURCE_DIR
#error "REFIR_SOURCE_DIR must name the repository root"
#endif
#ifndef REFIR_EXAMPLE_CPP_DIR
#error "REFIR_EXAMPLE_CPP_DIR must name the directory of the refir_subscriber binary"
#endif

namespace refir::bridge::testing {
namespace {

// run.sh may generate code (or npm install) before the first line.
constexpr absl::Duration kFirstAckLimit = absl::Seconds(120);
constexpr absl::Duration kLineLimit = absl::Seconds(60);

struct Referral {
  std::string id;
  std::string lead_email;
  std::string referrer_email;
  std::string message;
};

Referral ReferralNumber(int n) {
  static const char* const kNames[] = {"ana", "bruno", "chen", "dara", "eli", "fatima"};
  const std::string name = kNames[(n - 1) % 6];
  return Referral{absl::StrCat("msg_2xq9e2e", n), absl::StrCat(name, "@example.com"),
                  "bo@example.com", absl::StrCat(name, " joined through Bo (referral ", n, ")")};
}

// A Refir "referral_created" webhook body, as Refir sends it.
std::string ReferralBody(int n, const Referral& referral) {
  return absl::StrCat(
      R"({"event":"referral_created","lead":{"id":)", 100 + n, R"(,"email":")", referral.lead_email,
      R"(","name":"Lead )", n, R"("},"referrer":{"id":7,"email":")", referral.referrer_email,
      R"(","name":"Bo"},"message":")", referral.message, R"(","campaign":{"id":"spring-2026"}})");
}

// The event line the contract asks for, for the delivery of referral `n`.
std::string EventLine(int n, int attempt) {
  const Referral referral = ReferralNumber(n);
  return absl::StrCat("event sequence=", n, " id=", referral.id,
                      " type=refir.referral.created attempt=", attempt,
                      " lead.email=", referral.lead_email,
                      " referrer.email=", referral.referrer_email, " message=\"", referral.message,
                      "\"", " body=", nlohmann::json(ReferralBody(n, referral)).dump());
}

void PostReferral(int http_port, int n) {
  const Referral referral = ReferralNumber(n);
  HttpResult result =
      PostWebhook(http_port, ReferralBody(n, referral), {{"webhook-id", referral.id}});
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_EQ(result.json["id"], referral.id);
  EXPECT_EQ(result.json["sequence"], n);
}

// An example's stdout, read line by line into `lines`.
class ExampleOutput {
 public:
  explicit ExampleOutput(ExampleProcess* process) : process_(process) {}

  // Reads lines until one equals `want` (true), or stdout ends or `deadline`
  // passes (false).
  bool WaitForLine(const std::string& want, absl::Time deadline) {
    std::string line;
    while (process_->ReadLine(deadline, &line) == ExampleProcess::Read::kLine) {
      lines_.push_back(line);
      if (line == want) return true;
    }
    return false;
  }

  // Waits for "ack sequence=N" for each N in [first, last].
  bool WaitForAcks(int first, int last, absl::Duration first_limit) {
    for (int n = first; n <= last; ++n) {
      const std::string want = absl::StrCat("ack sequence=", n);
      bool seen = false;
      for (const std::string& line : lines_) seen = seen || line == want;
      const absl::Duration limit = n == first ? first_limit : kLineLimit;
      if (!seen && !WaitForLine(want, absl::Now() + limit)) {
        ADD_FAILURE() << "no \"" << want << "\" line within " << limit;
        return false;
      }
    }
    return true;
  }

  // Index of the first line equal to `want` at or after `from`; -1 if none.
  int Find(const std::string& want, int from = 0) const {
    for (int i = from; i < static_cast<int>(lines_.size()); ++i) {
      if (lines_[i] == want) return i;
    }
    return -1;
  }

  std::vector<std::string>* lines() { return &lines_; }

  // Prints every line read, when the test failed.
  ~ExampleOutput() {
    if (!::testing::Test::HasFailure()) return;
    std::cerr << "--- the example's stdout (" << lines_.size() << " lines) ---\n";
    for (const std::string& line : lines_) std::cerr << line << "\n";
    std::cerr << "--- end of the example's stdout ---\n";
  }

 private:
  ExampleProcess* process_;
  std::vector<std::string> lines_;
};

// One test per language, each run on both journals
// (Journals/ClientExamplesE2ETest.<Lang>.../Sqlite and .../JetStream).
class ClientExamplesE2ETest : public JournalTest {
 protected:
  // Runs client_examples/`lang` through the whole contract; the restarted
  // bridge is on the same data dir, gRPC port and journal (on JetStream it
  // takes the groups back at once: same --data_dir).
  void AcksNacksAndResumesAfterBridgeRestart(const std::string& lang);
};

void ClientExamplesE2ETest::AcksNacksAndResumesAfterBridgeRestart(const std::string& lang) {
  const std::string run_sh = absl::StrCat(REFIR_SOURCE_DIR, "/client_examples/", lang, "/run.sh");
  ASSERT_EQ(access(run_sh.c_str(), R_OK), 0)
      << "client_examples/" << lang << "/run.sh does not exist (yet): every example must provide "
      << "it, see docs/clients.md";

  const std::string data_dir = MakeTempDir();
  const int grpc_port = PickFreePort();
  ASSERT_GT(grpc_port, 0);
  // BridgeProcess passes --grpc_port=0 first; this later flag wins, so the
  // restarted bridge listens where the example reconnects.
  const std::vector<std::string> flags = {absl::StrCat("--grpc_port=", grpc_port)};
  std::unique_ptr<BridgeProcess> bridge = MakeBridge(flags, data_dir);
  absl::Status started = bridge->Start();
  ASSERT_TRUE(started.ok()) << started;
  ASSERT_EQ(bridge->grpc_port(), grpc_port);
  for (int n = 1; n <= 3; ++n) PostReferral(bridge->http_port(), n);
  ASSERT_FALSE(HasFatalFailure());

  const std::string group = absl::StrCat("e2e-", lang);
  const std::string build_dir =
      lang == "cpp" ? std::string(REFIR_EXAMPLE_CPP_DIR) : MakeTempDir() + "/build-" + lang;
  ExampleProcess example(
      {"bash", run_sh, absl::StrCat("--target=127.0.0.1:", grpc_port),
       absl::StrCat("--group=", group), "--client_id=e2e", "--max_events=6", "--fail_sequences=2"},
      {{"REFIR_EXAMPLE_BUILD_DIR", build_dir}});
  ASSERT_TRUE(example.Start().ok());
  ExampleOutput output(&example);

  // Before the restart: 1, 2 (nacked once, then acked) and 3.
  ASSERT_TRUE(output.WaitForAcks(1, 3, kFirstAckLimit));
  EXPECT_EQ(output.Find("ready group=" + group + " client_id=e2e"), 0) << "the first line";
  const int first_try = output.Find(EventLine(2, 1));
  ASSERT_GE(first_try, 0) << "no line " << EventLine(2, 1);
  const int nack = output.Find("nack sequence=2", first_try);
  ASSERT_GT(nack, first_try) << "no nack of sequence 2 after its first attempt";
  const int second_try = output.Find(EventLine(2, 2), nack);
  ASSERT_GT(second_try, nack) << "no line " << EventLine(2, 2) << " after the nack";
  EXPECT_GT(output.Find("ack sequence=2", second_try), second_try);
  EXPECT_EQ(output.Find("ack sequence=2"), output.Find("ack sequence=2", second_try))
      << "sequence 2 was acked before its retry";
  for (int n : {1, 3}) {
    const int line = output.Find(EventLine(n, 1));
    EXPECT_GE(line, 0) << "no line " << EventLine(n, 1);
    EXPECT_GT(output.Find(absl::StrCat("ack sequence=", n), line), line);
  }

  // An ack line is printed once the ack is sent; wait until the bridge applied
  // them, so that the restart has nothing to redeliver.
  std::unique_ptr<v1::EventStream::Stub> stub = MakeStub(bridge->grpc_target());
  const v1::ConsumerGroup before = WaitForGroup(*stub, group, [](const v1::ConsumerGroup& g) {
    return g.pending() == 0 && g.cursor_sequence() == 4;
  });
  ASSERT_EQ(before.pending(), 0u) << before.DebugString();
  ASSERT_EQ(before.cursor_sequence(), 4u) << before.DebugString();
  // Close this channel: while it stays connected, the bridge's Stop() below
  // was seen to wait out its whole 5 s shutdown grace.
  stub.reset();

  // Restart the bridge on the same data dir and port; the example reconnects.
  absl::StatusOr<int> stopped = bridge->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0);
  bridge = MakeBridge(flags, data_dir);
  started = bridge->Start();
  ASSERT_TRUE(started.ok()) << started;
  ASSERT_EQ(bridge->grpc_port(), grpc_port);
  for (int n = 4; n <= 6; ++n) PostReferral(bridge->http_port(), n);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(output.WaitForAcks(4, 6, kLineLimit));

  // --max_events=6: it exits 0 by itself.
  absl::StatusOr<int> exit_code = example.WaitForExit(absl::Now() + kLineLimit, output.lines());
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);

  for (int n = 4; n <= 6; ++n) {
    EXPECT_GE(output.Find(EventLine(n, 1)), 0) << "no line " << EventLine(n, 1);
  }
  // Each sequence acked exactly once, and no event printed again: all were
  // acked before the stop, so the bridge had nothing to redeliver.
  std::map<std::string, int> counts;
  for (const std::string& line : *output.lines()) {
    if (absl::StartsWith(line, "ack ") || absl::StartsWith(line, "event ")) ++counts[line];
    EXPECT_TRUE(absl::StartsWith(line, "ready ") || absl::StartsWith(line, "event ") ||
                absl::StartsWith(line, "ack ") || absl::StartsWith(line, "nack ") ||
                absl::StartsWith(line, "reconnecting in "))
        << "a line the contract does not define: " << line;
  }
  for (int n = 1; n <= 6; ++n) {
    EXPECT_EQ(counts[absl::StrCat("ack sequence=", n)], 1) << "sequence " << n;
    EXPECT_EQ(counts[EventLine(n, 1)], 1) << "sequence " << n;
  }
  EXPECT_EQ(counts[EventLine(2, 2)], 1);
  EXPECT_EQ(counts.size(), 6u + 6u + 1u) << "event or ack lines beyond the expected ones";

  stub = MakeStub(bridge->grpc_target());
  v1::ConsumerGroup state;
  const grpc::Status status = GetGroup(*stub, group, &state);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(state.pending(), 0u);
  EXPECT_EQ(state.cursor_sequence(), 7u);
  EXPECT_EQ(state.ack_floor(), 7u);
  EXPECT_EQ(state.dead_letters(), 0u);
}

TEST_P(ClientExamplesE2ETest, CppAcksNacksAndResumesAfterBridgeRestart) {
  AcksNacksAndResumesAfterBridgeRestart("cpp");
}

TEST_P(ClientExamplesE2ETest, PythonAcksNacksAndResumesAfterBridgeRestart) {
  AcksNacksAndResumesAfterBridgeRestart("python");
}

TEST_P(ClientExamplesE2ETest, GoAcksNacksAndResumesAfterBridgeRestart) {
  AcksNacksAndResumesAfterBridgeRestart("go");
}

TEST_P(ClientExamplesE2ETest, NodeAcksNacksAndResumesAfterBridgeRestart) {
  AcksNacksAndResumesAfterBridgeRestart("node");
}

INSTANTIATE_TEST_SUITE_P(Journals, ClientExamplesE2ETest, AllJournalBackends(), JournalBackendName);

}  // namespace
}  // namespace refir::bridge::testing
