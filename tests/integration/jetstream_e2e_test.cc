// The real bridge binary on --journal=jetstream, against real nats-server
// processes: NATS going away and coming back, startup errors (a stream
// with other settings, no server, bad flags), NATS credentials, and two
// bridges sharing one stream. What both journals share is tested on both in
// the other e2e tests (webhook, dedup, durability).
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/journal_backend.h"
#include "tests/integration/test_clients.h"
#include "tests/nats/nats_server_process.h"

namespace refir::bridge::testing {
namespace {

using ::testing::HasSubstr;

// Polls `condition` until it holds or `timeout` passes; whether it held.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(20));  // Polling another process's state.
  }
  return condition();
}

int ReadyzStatus(const BridgeProcess& bridge) {
  return SendHttp(bridge.admin_port(), "GET", "/readyz", "").status;
}

// A file only its owner can read, as secrets should be.
std::string WriteSecret(const std::string& dir, const std::string& name,
                        const std::string& content) {
  const std::string path = WriteFile(dir, name, content);
  EXPECT_EQ(chmod(path.c_str(), 0600), 0) << path;
  return path;
}

class JetStreamE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }

  // Starts the test's nats-server with `options`' authentication.
  void StartNats(NatsServerOptions options = {}) {
    absl::StatusOr<std::unique_ptr<TestJournal>> journal =
        TestJournal::Start(JournalBackend::kJetStream, dir_, std::move(options));
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = *std::move(journal);
  }

  // A bridge (not started) on the test's nats-server, its stderr captured
  // in `name`.stderr, in data dir `data_dir` (a fresh one when empty).
  std::unique_ptr<BridgeProcess> MakeBridge(const std::string& name,
                                            std::vector<std::string> flags = {},
                                            std::string data_dir = "") {
    std::vector<std::string> all = journal_->BridgeFlags();
    all.insert(all.end(), flags.begin(), flags.end());
    auto bridge = std::make_unique<BridgeProcess>(
        data_dir.empty() ? MakeTempDir() : std::move(data_dir), std::move(all));
    bridge->set_stderr_file(absl::StrCat(dir_, "/", name, ".stderr"));
    return bridge;
  }

  std::string dir_;
  std::unique_ptr<TestJournal> journal_;
};

// Every event id in the journal, through ListEvents, with how often each
// is stored.
std::map<std::string, int> StoredIds(v1::EventStream::Stub& stub) {
  std::map<std::string, int> ids;
  for (const v1::Event& event : ListAllEvents(stub)) ++ids[event.id()];
  return ids;
}

// NATS killed: webhooks are answered 503 journal_unavailable at once (not
// after the publish timeout) and /readyz says not ready; NATS back on the
// same port and store: ready again, the retried webhook is stored, and each
// webhook answered 200 is stored exactly once.
TEST_F(JetStreamE2ETest, NatsDownIs503AndNotReadyThenRecoversWithoutLoss) {
  ASSERT_NO_FATAL_FAILURE(StartNats());
  constexpr absl::Duration kPublishTimeout = absl::Seconds(30);
  std::unique_ptr<BridgeProcess> bridge = MakeBridge(
      "bridge",
      {absl::StrCat("--jetstream_publish_timeout=", absl::FormatDuration(kPublishTimeout))});
  ASSERT_TRUE(bridge->Start().ok()) << bridge->CapturedStderr();
  for (const char* id : {"before-1", "before-2"}) {
    HttpResult result = PostWebhook(bridge->http_port(), R"({"n":1})", {{"webhook-id", id}});
    ASSERT_EQ(result.status, 200) << result.body;
  }
  ASSERT_EQ(ReadyzStatus(*bridge), 200);

  journal_->nats()->Kill();
  ASSERT_TRUE(WaitUntil([&] { return ReadyzStatus(*bridge) == 503; }, absl::Seconds(10)))
      << "/readyz stayed ready with NATS down";
  const absl::Time posted = absl::Now();
  HttpResult down = PostWebhook(bridge->http_port(), R"({"n":2})", {{"webhook-id", "during"}});
  const absl::Duration answered_in = absl::Now() - posted;
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(down.retry_after, "1");
  ASSERT_TRUE(down.json.is_object()) << down.body;
  EXPECT_EQ(down.json["error"], "journal_unavailable") << down.body;
  EXPECT_TRUE(down.json["detail"].is_string()) << down.body;
  EXPECT_LT(answered_in, kPublishTimeout / 3) << "the 503 waited for the publish timeout";
  EXPECT_EQ(ReadyzStatus(*bridge), 503);

  ASSERT_TRUE(journal_->nats()->Start().ok());
  EXPECT_TRUE(WaitUntil([&] { return ReadyzStatus(*bridge) == 200; }, absl::Seconds(30)))
      << "/readyz did not turn ready after NATS came back\n"
      << bridge->CapturedStderr();
  HttpResult retried = PostWebhook(bridge->http_port(), R"({"n":2})", {{"webhook-id", "during"}});
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_FALSE(retried.json.contains("duplicate")) << "the 503'd webhook was stored after all";
  HttpResult after = PostWebhook(bridge->http_port(), R"({"n":3})", {{"webhook-id", "after"}});
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.json["sequence"], 4);
  EXPECT_EQ(ReadyzStatus(*bridge), 200);

  auto stub = MakeStub(bridge->grpc_target());
  const std::map<std::string, int> expected = {
      {"before-1", 1}, {"before-2", 1}, {"during", 1}, {"after", 1}};
  EXPECT_EQ(StoredIds(*stub), expected);
  Subscription subscription(*stub, InitFromEarliest());
  v1::SubscribeConfirm confirm;
  ASSERT_TRUE(subscription.ReadConfirm(&confirm));
  EXPECT_EQ(confirm.head_sequence(), 4u);
  std::vector<v1::Event> events = subscription.ReadEvents(4);
  ASSERT_EQ(events.size(), 4u);
  std::vector<std::string> ids;
  for (const v1::Event& event : events) ids.push_back(event.id());
  EXPECT_THAT(ids, ::testing::ElementsAre("before-1", "before-2", "during", "after"));
}

// The stream exists with settings this bridge would create otherwise: it
// stops at startup (exit 1) and says what differs and which flag sets it.
TEST_F(JetStreamE2ETest, StreamWithAnotherSubjectPrefixOrWindowStopsStartup) {
  ASSERT_NO_FATAL_FAILURE(StartNats());
  const std::string data_dir = MakeTempDir();
  {
    std::unique_ptr<BridgeProcess> first = MakeBridge(
        "first", {"--jetstream_stream=ORDERS", "--jetstream_subject_prefix=orders.events"},
        data_dir);
    ASSERT_TRUE(first->Start().ok()) << first->CapturedStderr();
    ASSERT_EQ(first->Stop().value_or(-1), 0);
  }
  std::unique_ptr<BridgeProcess> prefix = MakeBridge(
      "prefix", {"--jetstream_stream=ORDERS", "--jetstream_subject_prefix=other.events"}, data_dir);
  const absl::Status prefix_started = prefix->Start();
  EXPECT_THAT(prefix_started.message(), HasSubstr("exited during startup with code 1"))
      << prefix_started;
  EXPECT_THAT(prefix->CapturedStderr(),
              HasSubstr("JetStream stream ORDERS exists with other settings: subjects are "
                        "[orders.events.>], configured [other.events.>] "
                        "(--jetstream_subject_prefix)"));

  std::unique_ptr<BridgeProcess> window =
      MakeBridge("window",
                 {"--jetstream_stream=ORDERS", "--jetstream_subject_prefix=orders.events",
                  "--dedup_window=20m"},
                 data_dir);
  const absl::Status window_started = window->Start();
  EXPECT_THAT(window_started.message(), HasSubstr("exited during startup with code 1"))
      << window_started;
  EXPECT_THAT(window->CapturedStderr(), HasSubstr("duplicate window is 10m, configured 20m"));

  // The same settings again: it starts.
  std::unique_ptr<BridgeProcess> same = MakeBridge(
      "same", {"--jetstream_stream=ORDERS", "--jetstream_subject_prefix=orders.events"}, data_dir);
  const absl::Status same_started = same->Start();
  EXPECT_TRUE(same_started.ok()) << same_started << same->CapturedStderr();
}

TEST_F(JetStreamE2ETest, NoServerReachableStopsStartupNamingTheServer) {
  const int closed_port = PickFreePort();
  ASSERT_NE(closed_port, 0);
  const std::string server = absl::StrCat("nats://127.0.0.1:", closed_port);
  BridgeProcess bridge(MakeTempDir(), {"--journal=jetstream", "--nats_servers=" + server});
  bridge.set_stderr_file(dir_ + "/bridge.stderr");
  const absl::Status started = bridge.Start();
  EXPECT_THAT(started.message(), HasSubstr("exited during startup with code 1")) << started;
  EXPECT_THAT(bridge.CapturedStderr(), HasSubstr("cannot start"));
  EXPECT_THAT(bridge.CapturedStderr(), HasSubstr("tried " + server));
}

// Runs the binary with `flags` and returns its exit code and output. A binary
// that wrongly starts is stopped by timeout(1) after 20 s (exit code 124).
std::pair<int, std::string> RunBinary(const std::string& flags) {
  const std::string command =
      absl::StrCat("timeout 20 ", BridgeProcess::BinaryPath(), " --data_dir=", MakeTempDir(),
                   " --http_port=0 --grpc_port=0 --admin_port=-1 ", flags, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string output;
  std::array<char, 512> buffer;
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// Checked by BridgeOptions::Validate before anything connects: exit 2 and a
// message naming the flag (no nats-server needed, none is running).
TEST_F(JetStreamE2ETest, BadJetStreamFlagsStopStartupNamingTheFlag) {
  const std::string secret = WriteSecret(dir_, "secret", "s3cret\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--journal=foo", "--journal must be sqlite or jetstream, got \\\"foo\\\""},
      {"--journal=jetstream --jetstream_replicas=0",
       "--jetstream_replicas must be between 1 and 5, got 0"},
      {"--journal=jetstream --jetstream_replicas=6", "--jetstream_replicas"},
      {"--journal=jetstream --nats_servers=http://x", "--nats_servers: \\\"http://x\\\""},
      {"--journal=jetstream --nats_servers=,", "--nats_servers needs at least one"},
      {"--journal=jetstream --nats_password_file=" + secret,
       "--nats_password_file needs --nats_user"},
      {"--journal=jetstream --nats_user=u --nats_password_file=" + secret +
           " --nats_token_file=" + secret,
       "--nats_password_file and --nats_token_file cannot both be set"},
      {"--journal=jetstream --retention=1m --dedup_window=10m",
       "--retention (1m) is shorter than the largest dedup window (10m)"},
      {"--journal=jetstream --jetstream_stream=a.b", "--jetstream_stream"},
      {"--journal=jetstream '--jetstream_subject_prefix=a.>'", "--jetstream_subject_prefix"},
      {"--journal=jetstream --jetstream_publish_timeout=0s", "--jetstream_publish_timeout"},
  };
  for (const auto& [flags, named] : cases) {
    auto [code, output] = RunBinary(flags);
    EXPECT_EQ(code, 2) << flags << ": " << output;
    EXPECT_THAT(output, HasSubstr("bad flag: ")) << flags;
    EXPECT_THAT(output, HasSubstr(named)) << flags;
  }
  // The same flags are accepted on SQLite.
  BridgeProcess sqlite(MakeTempDir(), {"--retention=1m", "--dedup_window=10m"});
  const absl::Status started = sqlite.Start();
  EXPECT_TRUE(started.ok()) << started;
}

TEST_F(JetStreamE2ETest, UserAndPasswordFileAuthenticateAndAWrongPasswordStopsStartup) {
  NatsServerOptions options;
  options.user = "bridge";
  options.password = "c0rrect-h0rse";
  ASSERT_NO_FATAL_FAILURE(StartNats(options));
  const std::string good = WriteSecret(dir_, "good", "c0rrect-h0rse\n");
  std::unique_ptr<BridgeProcess> bridge =
      MakeBridge("good", {"--nats_user=bridge", "--nats_password_file=" + good});
  ASSERT_TRUE(bridge->Start().ok()) << bridge->CapturedStderr();
  HttpResult stored = PostWebhook(bridge->http_port(), "{}", {{"webhook-id", "authed"}});
  EXPECT_EQ(stored.status, 200) << stored.body;
  auto stub = MakeStub(bridge->grpc_target());
  EXPECT_EQ(StoredIds(*stub), (std::map<std::string, int>{{"authed", 1}}));

  const std::string wrong = WriteSecret(dir_, "wrong", "b4ttery-staple\n");
  std::unique_ptr<BridgeProcess> refused =
      MakeBridge("wrong", {"--nats_user=bridge", "--nats_password_file=" + wrong});
  const absl::Status started = refused->Start();
  EXPECT_THAT(started.message(), HasSubstr("exited during startup with code 1")) << started;
  EXPECT_THAT(refused->CapturedStderr(), HasSubstr("PERMISSION_DENIED: connecting to NATS"));
  EXPECT_THAT(refused->CapturedStderr(), HasSubstr("Authorization Violation"));
  EXPECT_THAT(refused->CapturedStderr(), ::testing::Not(HasSubstr("b4ttery")))
      << "the password must not be logged";

  // No credentials at all: refused too.
  std::unique_ptr<BridgeProcess> anonymous = MakeBridge("anonymous");
  EXPECT_FALSE(anonymous->Start().ok());
  EXPECT_THAT(anonymous->CapturedStderr(), HasSubstr("Authorization Violation"));
}

TEST_F(JetStreamE2ETest, TokenFileAuthenticates) {
  NatsServerOptions options;
  options.token = "t0ken-of-the-test";
  ASSERT_NO_FATAL_FAILURE(StartNats(options));
  const std::string token = WriteSecret(dir_, "token", "t0ken-of-the-test\n");
  std::unique_ptr<BridgeProcess> bridge = MakeBridge("token", {"--nats_token_file=" + token});
  ASSERT_TRUE(bridge->Start().ok()) << bridge->CapturedStderr();
  HttpResult stored = PostWebhook(bridge->http_port(), "{}", {{"webhook-id", "by-token"}});
  EXPECT_EQ(stored.status, 200) << stored.body;
  auto stub = MakeStub(bridge->grpc_target());
  EXPECT_EQ(StoredIds(*stub), (std::map<std::string, int>{{"by-token", 1}}));

  const std::string wrong = WriteSecret(dir_, "wrong", "not-the-token\n");
  std::unique_ptr<BridgeProcess> refused = MakeBridge("wrong", {"--nats_token_file=" + wrong});
  EXPECT_FALSE(refused->Start().ok());
  EXPECT_THAT(refused->CapturedStderr(), HasSubstr("Authorization Violation"));
}

// --max_journal_bytes and --retention are the stream's MaxBytes and MaxAge:
// JetStream drops the oldest events itself as the limit is passed (no
// retention task), and a restart with other limits updates them in place.
TEST_F(JetStreamE2ETest, RetentionFlagsAreTheStreamsLimits) {
  ASSERT_NO_FATAL_FAILURE(StartNats());
  const std::string data_dir = MakeTempDir();
  constexpr int kEvents = 40;
  {
    std::unique_ptr<BridgeProcess> bridge =
        MakeBridge("bytes", {"--max_journal_bytes=4096"}, data_dir);
    ASSERT_TRUE(bridge->Start().ok()) << bridge->CapturedStderr();
    const std::string padding(200, 'x');
    for (int i = 1; i <= kEvents; ++i) {
      HttpResult result = PostWebhook(bridge->http_port(),
                                      absl::StrCat(R"({"n":)", i, R"(,"pad":")", padding, "\"}"));
      ASSERT_EQ(result.status, 200) << result.body;
      EXPECT_EQ(result.json["sequence"], i);
    }
    // The stream dropped the oldest (read from it by sequence).
    auto stub = MakeStub(bridge->grpc_target());
    for (const auto& [sequence, code] : std::vector<std::pair<uint64_t, grpc::StatusCode>>{
             {1, grpc::StatusCode::NOT_FOUND}, {kEvents, grpc::StatusCode::OK}}) {
      grpc::ClientContext context;
      v1::GetEventRequest request;
      request.set_sequence(sequence);
      v1::Event event;
      EXPECT_EQ(stub->GetEvent(&context, request, &event).error_code(), code) << sequence;
    }
    ASSERT_EQ(bridge->Stop().value_or(-1), 0);
  }
  // A restarted bridge (its memory of recent events empty) lists what the
  // stream kept: the newest, under 4096 bytes.
  std::unique_ptr<BridgeProcess> bridge =
      MakeBridge("age", {"--retention=2h", "--max_journal_bytes=8192"}, data_dir);
  ASSERT_TRUE(bridge->Start().ok()) << bridge->CapturedStderr();
  auto stub = MakeStub(bridge->grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  ASSERT_FALSE(events.empty());
  EXPECT_LT(events.size(), 20u) << "the stream kept more than 4096 bytes";
  EXPECT_GT(events.front().sequence(), 1u);
  EXPECT_EQ(events.back().sequence(), static_cast<uint64_t>(kEvents));
  // The log is written by a background flusher: wait for the line.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return bridge->CapturedStderr().find("JetStream stream limits updated") !=
               std::string::npos;
      },
      absl::Seconds(10)))
      << bridge->CapturedStderr();
  EXPECT_THAT(bridge->CapturedStderr(), HasSubstr("\"max_age\":\"2h\""));
}

// Replicas share the stream: what one stores the other reads (its head
// follower learns of it), and a resend to the other is a duplicate of it.
TEST_F(JetStreamE2ETest, TwoBridgesOnOneStreamShareEventsAndDedup) {
  ASSERT_NO_FATAL_FAILURE(StartNats());
  std::unique_ptr<BridgeProcess> a = MakeBridge("a");
  std::unique_ptr<BridgeProcess> b = MakeBridge("b");
  ASSERT_TRUE(a->Start().ok()) << a->CapturedStderr();
  ASSERT_TRUE(b->Start().ok()) << b->CapturedStderr();
  auto stub_a = MakeStub(a->grpc_target());
  auto stub_b = MakeStub(b->grpc_target());

  // A live subscriber on B, from the tail, before anything is posted to A.
  Subscription live(*stub_b, InitFromLatest());
  v1::SubscribeConfirm confirm;
  ASSERT_TRUE(live.ReadConfirm(&confirm));
  EXPECT_EQ(confirm.start_sequence(), 1u);

  HttpResult on_a =
      PostWebhook(a->http_port(), R"({"message":"from A"})", {{"webhook-id", "shared-1"}});
  ASSERT_EQ(on_a.status, 200) << on_a.body;
  std::vector<v1::Event> followed = live.ReadEvents(1);
  ASSERT_EQ(followed.size(), 1u);
  EXPECT_EQ(followed[0].id(), "shared-1");
  EXPECT_EQ(followed[0].sequence(), on_a.json["sequence"].get<uint64_t>());
  EXPECT_EQ(followed[0].refir().message(), "from A");
  EXPECT_EQ(StoredIds(*stub_b), (std::map<std::string, int>{{"shared-1", 1}}));

  HttpResult on_b =
      PostWebhook(b->http_port(), R"({"message":"from A"})", {{"webhook-id", "shared-1"}});
  ASSERT_EQ(on_b.status, 200) << on_b.body;
  EXPECT_EQ(on_b.json["duplicate"], true) << on_b.body;
  EXPECT_EQ(on_b.json["sequence"], on_a.json["sequence"]);
  EXPECT_EQ(on_b.json["id"], "shared-1");

  // And the other way round, B's own event read on A.
  HttpResult b_own = PostWebhook(b->http_port(), "{}", {{"webhook-id", "from-b"}});
  ASSERT_EQ(b_own.status, 200) << b_own.body;
  EXPECT_EQ(b_own.json["sequence"], 2);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return StoredIds(*stub_a) == std::map<std::string, int>{{"shared-1", 1}, {"from-b", 1}};
      },
      absl::Seconds(10)));
  live.Cancel();
}

}  // namespace
}  // namespace refir::bridge::testing
