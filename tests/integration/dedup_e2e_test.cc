// Dedup windows end to end: the real binary, real HTTP, on both journals (a
// real SQLite file, a real nats-server's JetStream stream). Resends within
// the window are answered with the first event's id and sequence and stored
// once, by webhook-id, by body SHA-256 or by a JSON field; across a restart
// too. Where JetStream differs (one duplicate window per stream, ids not
// made unique) the test asserts each journal's documented behaviour.
#include <stdio.h>
#include <sys/wait.h>

#include <array>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/bridge_test.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::HasSubstr;

using DedupE2ETest = JournalTest;

TEST_P(DedupE2ETest, SameWebhookIdTwiceIsADuplicateOfTheFirst) {
  std::unique_ptr<BridgeProcess> bridge = MakeBridge();
  ASSERT_TRUE(bridge->Start().ok());
  HttpResult first = PostWebhook(bridge->http_port(), R"({"n":1})", {{"webhook-id", "wh-1"}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_FALSE(first.json.contains("duplicate"));
  // Another body, same webhook-id: still the same webhook.
  HttpResult again = PostWebhook(bridge->http_port(), R"({"n":2})", {{"webhook-id", "wh-1"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["duplicate"], true);
  EXPECT_EQ(again.json["sequence"], first.json["sequence"]);
  EXPECT_EQ(again.json["id"], "wh-1");
  auto stub = MakeStub(bridge->grpc_target());
  EXPECT_EQ(ListAllEvents(*stub).size(), 1u);
}

// Svix sends its ids as svix-id: the same dedup key and event id as
// webhook-id.
TEST_P(DedupE2ETest, SameSvixIdTwiceIsADuplicateOfTheFirst) {
  std::unique_ptr<BridgeProcess> bridge = MakeBridge();
  ASSERT_TRUE(bridge->Start().ok());
  HttpResult first = PostWebhook(bridge->http_port(), R"({"n":1})",
                                 {{"svix-id", "msg_2a"}, {"svix-timestamp", "1700000000"}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json["id"], "msg_2a");
  HttpResult again = PostWebhook(bridge->http_port(), R"({"n":1})",
                                 {{"svix-id", "msg_2a"}, {"svix-timestamp", "1700000060"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["duplicate"], true);
  EXPECT_EQ(again.json["sequence"], first.json["sequence"]);
  auto stub = MakeStub(bridge->grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id(), "msg_2a");
  EXPECT_EQ(events[0].headers().at("svix-id"), "msg_2a");
  // webhook-id and svix-id that differ are refused.
  HttpResult differ =
      PostWebhook(bridge->http_port(), R"({"n":2})", {{"webhook-id", "a"}, {"svix-id", "b"}});
  EXPECT_EQ(differ.status, 400) << differ.body;
  EXPECT_EQ(differ.json["error"], "invalid_header");
}

TEST_P(DedupE2ETest, ByBodySha256) {
  std::unique_ptr<BridgeProcess> bridge = MakeBridge({"--dedup_by=body_sha256"});
  ASSERT_TRUE(bridge->Start().ok());
  HttpResult first = PostWebhook(bridge->http_port(), R"({"n":1})", {{"webhook-id", "a"}});
  ASSERT_EQ(first.status, 200) << first.body;
  // Another webhook-id but the same bytes: a duplicate.
  HttpResult same = PostWebhook(bridge->http_port(), R"({"n":1})", {{"webhook-id", "b"}});
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(same.json["duplicate"], true);
  EXPECT_EQ(same.json["sequence"], first.json["sequence"]);
  EXPECT_EQ(same.json["id"], "a");
  // One byte more: a new event.
  HttpResult other = PostWebhook(bridge->http_port(), R"({"n":1} )", {{"webhook-id", "c"}});
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_FALSE(other.json.contains("duplicate"));
  EXPECT_EQ(other.json["sequence"], 2);
}

TEST_P(DedupE2ETest, ByJsonFieldAndRejectsAnUnusableField) {
  std::unique_ptr<BridgeProcess> bridge =
      MakeBridge({"--dedup_by=json_field", "--dedup_json_field=/meta/event_id"});
  ASSERT_TRUE(bridge->Start().ok());
  HttpResult first = PostWebhook(bridge->http_port(), R"({"meta":{"event_id":"e-1"},"n":1})");
  ASSERT_EQ(first.status, 200) << first.body;
  HttpResult same = PostWebhook(bridge->http_port(), R"({"n":2,"meta":{"event_id":"e-1"}})");
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(same.json["duplicate"], true);
  EXPECT_EQ(same.json["sequence"], first.json["sequence"]);
  EXPECT_EQ(same.json["id"], first.json["id"]);
  HttpResult number = PostWebhook(bridge->http_port(), R"({"meta":{"event_id":7}})");
  ASSERT_EQ(number.status, 200) << number.body;
  EXPECT_FALSE(number.json.contains("duplicate"));
  // Field absent: no dedup, both stored.
  HttpResult absent1 = PostWebhook(bridge->http_port(), R"({"n":3})");
  HttpResult absent2 = PostWebhook(bridge->http_port(), R"({"n":3})");
  ASSERT_EQ(absent1.status, 200) << absent1.body;
  ASSERT_EQ(absent2.status, 200) << absent2.body;
  EXPECT_NE(absent1.json["sequence"], absent2.json["sequence"]);
  // Field of the wrong type: 400 invalid_dedup_field, nothing stored.
  HttpResult bad = PostWebhook(bridge->http_port(), R"({"meta":{"event_id":{"x":1}}})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.json["error"], "invalid_dedup_field");
  auto stub = MakeStub(bridge->grpc_target());
  EXPECT_EQ(ListAllEvents(*stub).size(), 4u);
}

TEST_P(DedupE2ETest, DedupHoldsAcrossARestart) {
  const std::string data_dir = MakeTempDir();
  HttpResult first;
  {
    std::unique_ptr<BridgeProcess> bridge = MakeBridge({}, data_dir);
    ASSERT_TRUE(bridge->Start().ok());
    first = PostWebhook(bridge->http_port(), R"({"n":1})", {{"webhook-id", "wh-restart"}});
    ASSERT_EQ(first.status, 200) << first.body;
    absl::StatusOr<int> exit_code = bridge->Stop();
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  }
  std::unique_ptr<BridgeProcess> bridge = MakeBridge({}, data_dir);
  ASSERT_TRUE(bridge->Start().ok());
  HttpResult again = PostWebhook(bridge->http_port(), R"({"n":1})", {{"webhook-id", "wh-restart"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["duplicate"], true);
  EXPECT_EQ(again.json["sequence"], first.json["sequence"]);
}

// Keys never match across sources, on either journal (JetStream's
// Nats-Msg-Id is the whole key, source included).
TEST_P(DedupE2ETest, SameWebhookIdOnTwoSourcesIsTwoEvents) {
  const std::string sources =
      WriteFile(MakeTempDir(), "sources.json",
                R"({"sources":[{"name":"a","path":"/a"},{"name":"b","path":"/b"}]})");
  std::unique_ptr<BridgeProcess> bridge = MakeBridge({absl::StrCat("--sources_file=", sources)});
  ASSERT_TRUE(bridge->Start().ok());
  HttpResult a = SendHttp(bridge->http_port(), "POST", "/a", "{}", "application/json",
                          {{"webhook-id", "same"}});
  HttpResult b = SendHttp(bridge->http_port(), "POST", "/b", "{}", "application/json",
                          {{"webhook-id", "same"}});
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_FALSE(b.json.contains("duplicate")) << b.body;
  EXPECT_NE(a.json["sequence"], b.json["sequence"]);
  HttpResult b_again = SendHttp(bridge->http_port(), "POST", "/b", "{}", "application/json",
                                {{"webhook-id", "same"}});
  ASSERT_EQ(b_again.status, 200) << b_again.body;
  EXPECT_EQ(b_again.json["duplicate"], true);
  EXPECT_EQ(b_again.json["sequence"], b.json["sequence"]);
  auto stub = MakeStub(bridge->grpc_target());
  EXPECT_EQ(ListAllEvents(*stub).size(), 2u);
}

// Each source has its own dedup window on SQLite. A JetStream stream has one
// duplicate window, the largest of the sources': a bridge whose largest
// window is another one refuses the stream at startup, naming both.
TEST_P(DedupE2ETest, JetStreamHasOneDuplicateWindowTheLargestOfTheSources) {
  const std::string data_dir = MakeTempDir();
  const std::string sources = WriteFile(
      data_dir, "sources.json",
      R"({"sources":[{"name":"a","path":"/a","dedup":{"by":"webhook_id","window_seconds":60}},)"
      R"({"name":"b","path":"/b","dedup":{"by":"webhook_id","window_seconds":600}}]})");
  {
    std::unique_ptr<BridgeProcess> bridge =
        MakeBridge({absl::StrCat("--sources_file=", sources)}, data_dir);
    ASSERT_TRUE(bridge->Start().ok());
    ASSERT_EQ(bridge->Stop().value_or(-1), 0);
  }
  {
    std::unique_ptr<BridgeProcess> one_minute = MakeBridge({"--dedup_window=1m"}, data_dir);
    one_minute->set_stderr_file(data_dir + "/one_minute.stderr");
    const absl::Status started = one_minute->Start();
    if (jetstream()) {
      EXPECT_THAT(started.message(), HasSubstr("exited during startup with code 1")) << started;
      EXPECT_THAT(one_minute->CapturedStderr(),
                  HasSubstr("duplicate window is 10m, configured 1m"));
    } else {
      EXPECT_TRUE(started.ok()) << started;
      ASSERT_EQ(one_minute->Stop().value_or(-1), 0);
    }
  }
  std::unique_ptr<BridgeProcess> ten_minutes = MakeBridge({"--dedup_window=10m"}, data_dir);
  const absl::Status started = ten_minutes->Start();
  EXPECT_TRUE(started.ok()) << started;
}

// A webhook-id seen again under another dedup key (here the body's hash) is
// a new event. SQLite keeps ids unique: the second gets a fresh UUIDv7.
// JetStream has no id index: both events keep the sender's id.
TEST_P(DedupE2ETest, WebhookIdReusedUnderAnotherDedupKey) {
  std::unique_ptr<BridgeProcess> bridge = MakeBridge({"--dedup_by=body_sha256"});
  ASSERT_TRUE(bridge->Start().ok());
  HttpResult first = PostWebhook(bridge->http_port(), R"({"n":1})", {{"webhook-id", "reused"}});
  HttpResult second = PostWebhook(bridge->http_port(), R"({"n":2})", {{"webhook-id", "reused"}});
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_FALSE(second.json.contains("duplicate"));
  EXPECT_EQ(first.json["id"], "reused");
  auto stub = MakeStub(bridge->grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id(), "reused");
  EXPECT_EQ(events[1].id(), second.json["id"]);
  if (jetstream()) {
    EXPECT_EQ(second.json["id"], "reused");
  } else {
    ASSERT_TRUE(second.json["id"].is_string()) << second.body;
    EXPECT_NE(second.json["id"], "reused");
    EXPECT_EQ(second.json["id"].get<std::string>().size(), 36u);  // a UUIDv7
  }
}

// That a resend after the window is stored again under a fresh id is shown
// in process with chosen receive times (DedupWindowTest), not by sleeping
// past a window here.

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

TEST(DedupE2ETest, BadDedupAndRetentionFlagsStopStartupNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--dedup_by=webhook-id", "--dedup_by"},
      {"--dedup_by=json_field", "--dedup_json_field"},
      {"--dedup_by=json_field --dedup_json_field=event_id", "--dedup_json_field"},
      {"--dedup_json_field=/x", "--dedup_json_field"},
      {"--dedup_window=0s", "--dedup_window"},
      // Retention's flags are checked the same way.
      {"--retention=-1s", "--retention"},
      {"--max_journal_bytes=-1", "--max_journal_bytes"},
      {"--retention_check_interval=0s", "--retention_check_interval"},
  };
  for (const auto& [flags, named] : cases) {
    auto [code, output] = RunBinary(flags);
    EXPECT_EQ(code, 2) << flags << ": " << output;
    EXPECT_THAT(output, HasSubstr(named)) << flags;
  }
}

INSTANTIATE_TEST_SUITE_P(Journals, DedupE2ETest, AllJournalBackends(), JournalBackendName);

}  // namespace
}  // namespace refir::bridge::testing
