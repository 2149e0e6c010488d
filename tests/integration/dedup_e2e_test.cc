// Dedup windows end to end: the real binary, real HTTP, a real SQLite file.
// Resends within the window are answered with the first event's id and
// sequence and stored once, by webhook-id, by body SHA-256 or by a JSON
// field; across a restart too; after the window they are stored again.
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
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::HasSubstr;

// GetEvent by id; the gRPC status code.
grpc::StatusCode GetEventById(v1::EventStream::Stub& stub, const std::string& id,
                              v1::Event* event) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::GetEventRequest request;
  request.set_id(id);
  return stub.GetEvent(&context, request, event).error_code();
}

TEST(DedupE2ETest, SameWebhookIdTwiceIsADuplicateOfTheFirst) {
  BridgeProcess bridge(MakeTempDir());
  ASSERT_TRUE(bridge.Start().ok());
  HttpResult first = PostWebhook(bridge.http_port(), R"({"n":1})", {{"webhook-id", "wh-1"}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_FALSE(first.json.contains("duplicate"));
  // Another body, same webhook-id: still the same webhook.
  HttpResult again = PostWebhook(bridge.http_port(), R"({"n":2})", {{"webhook-id", "wh-1"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["duplicate"], true);
  EXPECT_EQ(again.json["sequence"], first.json["sequence"]);
  EXPECT_EQ(again.json["id"], "wh-1");
  auto stub = MakeStub(bridge.grpc_target());
  EXPECT_EQ(ListAllEvents(*stub).size(), 1u);
}

// Svix sends its ids as svix-id: the same dedup key and event id as
// webhook-id.
TEST(DedupE2ETest, SameSvixIdTwiceIsADuplicateOfTheFirst) {
  BridgeProcess bridge(MakeTempDir());
  ASSERT_TRUE(bridge.Start().ok());
  HttpResult first = PostWebhook(bridge.http_port(), R"({"n":1})",
                                 {{"svix-id", "msg_2a"}, {"svix-timestamp", "1700000000"}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json["id"], "msg_2a");
  HttpResult again = PostWebhook(bridge.http_port(), R"({"n":1})",
                                 {{"svix-id", "msg_2a"}, {"svix-timestamp", "1700000060"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["duplicate"], true);
  EXPECT_EQ(again.json["sequence"], first.json["sequence"]);
  auto stub = MakeStub(bridge.grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id(), "msg_2a");
  EXPECT_EQ(events[0].headers().at("svix-id"), "msg_2a");
  // webhook-id and svix-id that differ are refused.
  HttpResult differ =
      PostWebhook(bridge.http_port(), R"({"n":2})", {{"webhook-id", "a"}, {"svix-id", "b"}});
  EXPECT_EQ(differ.status, 400) << differ.body;
  EXPECT_EQ(differ.json["error"], "invalid_header");
}

TEST(DedupE2ETest, ByBodySha256) {
  BridgeProcess bridge(MakeTempDir(), {"--dedup_by=body_sha256"});
  ASSERT_TRUE(bridge.Start().ok());
  HttpResult first = PostWebhook(bridge.http_port(), R"({"n":1})", {{"webhook-id", "a"}});
  ASSERT_EQ(first.status, 200) << first.body;
  // Another webhook-id but the same bytes: a duplicate.
  HttpResult same = PostWebhook(bridge.http_port(), R"({"n":1})", {{"webhook-id", "b"}});
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(same.json["duplicate"], true);
  EXPECT_EQ(same.json["sequence"], first.json["sequence"]);
  EXPECT_EQ(same.json["id"], "a");
  // One byte more: a new event.
  HttpResult other = PostWebhook(bridge.http_port(), R"({"n":1} )", {{"webhook-id", "c"}});
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_FALSE(other.json.contains("duplicate"));
  EXPECT_EQ(other.json["sequence"], 2);
}

TEST(DedupE2ETest, ByJsonFieldAndRejectsAnUnusableField) {
  BridgeProcess bridge(MakeTempDir(),
                       {"--dedup_by=json_field", "--dedup_json_field=/meta/event_id"});
  ASSERT_TRUE(bridge.Start().ok());
  HttpResult first = PostWebhook(bridge.http_port(), R"({"meta":{"event_id":"e-1"},"n":1})");
  ASSERT_EQ(first.status, 200) << first.body;
  HttpResult same = PostWebhook(bridge.http_port(), R"({"n":2,"meta":{"event_id":"e-1"}})");
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(same.json["duplicate"], true);
  EXPECT_EQ(same.json["sequence"], first.json["sequence"]);
  EXPECT_EQ(same.json["id"], first.json["id"]);
  HttpResult number = PostWebhook(bridge.http_port(), R"({"meta":{"event_id":7}})");
  ASSERT_EQ(number.status, 200) << number.body;
  EXPECT_FALSE(number.json.contains("duplicate"));
  // Field absent: no dedup, both stored.
  HttpResult absent1 = PostWebhook(bridge.http_port(), R"({"n":3})");
  HttpResult absent2 = PostWebhook(bridge.http_port(), R"({"n":3})");
  ASSERT_EQ(absent1.status, 200) << absent1.body;
  ASSERT_EQ(absent2.status, 200) << absent2.body;
  EXPECT_NE(absent1.json["sequence"], absent2.json["sequence"]);
  // Field of the wrong type: 400 invalid_dedup_field, nothing stored.
  HttpResult bad = PostWebhook(bridge.http_port(), R"({"meta":{"event_id":{"x":1}}})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.json["error"], "invalid_dedup_field");
  auto stub = MakeStub(bridge.grpc_target());
  EXPECT_EQ(ListAllEvents(*stub).size(), 4u);
}

TEST(DedupE2ETest, DedupHoldsAcrossARestart) {
  const std::string data_dir = MakeTempDir();
  HttpResult first;
  {
    BridgeProcess bridge(data_dir);
    ASSERT_TRUE(bridge.Start().ok());
    first = PostWebhook(bridge.http_port(), R"({"n":1})", {{"webhook-id", "wh-restart"}});
    ASSERT_EQ(first.status, 200) << first.body;
    absl::StatusOr<int> exit_code = bridge.Stop();
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  }
  BridgeProcess bridge(data_dir);
  ASSERT_TRUE(bridge.Start().ok());
  HttpResult again = PostWebhook(bridge.http_port(), R"({"n":1})", {{"webhook-id", "wh-restart"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["duplicate"], true);
  EXPECT_EQ(again.json["sequence"], first.json["sequence"]);
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

}  // namespace
}  // namespace refir::bridge::testing
