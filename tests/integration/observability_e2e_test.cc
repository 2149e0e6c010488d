// Metrics and logs of the real bridge binary: GET /metrics on the admin port
// after good and bad webhooks and an unacking consumer group, and the JSON
// access line of each webhook on the bridge's stderr.
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "Bearer s3cr3t-never-logged";
constexpr char kGroup[] = "metrics-group";

// The samples of a text-format scrape: "name{labels}" -> value.
std::map<std::string, double> ParseSamples(const std::string& text) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space == absl::string_view::npos || !absl::SimpleAtod(line.substr(space + 1), &value)) {
      ADD_FAILURE() << "not a sample line: " << line;
      continue;
    }
    samples[std::string(line.substr(0, space))] = value;
  }
  return samples;
}

// The JSON lines of `text` whose msg is `msg`; fails on any line that is not
// a JSON object.
std::vector<nlohmann::json> JsonLines(const std::string& text, const std::string& msg) {
  std::vector<nlohmann::json> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object()) {
      ADD_FAILURE() << "stderr line is not a JSON object: " << line;
      continue;
    }
    if (auto it = parsed.find("msg"); it != parsed.end() && *it == msg) {
      out.push_back(std::move(parsed));
    }
  }
  return out;
}

class ObservabilityE2ETest : public ::testing::Test {
 protected:
  void StartBridge(std::vector<std::string> flags) {
    data_dir_ = MakeTempDir();
    bridge_ = std::make_unique<BridgeProcess>(data_dir_, std::move(flags));
    bridge_->set_stderr_file(absl::StrCat(data_dir_, "/stderr.log"));
    ASSERT_TRUE(bridge_->Start().ok()) << bridge_->CapturedStderr();
  }

  // Polls the captured stderr until it holds `count` access lines (the log
  // writes within 20 ms) or 10 s pass.
  std::vector<nlohmann::json> WaitForAccessLines(size_t count) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    std::vector<nlohmann::json> lines;
    do {
      lines = JsonLines(bridge_->CapturedStderr(), "webhook");
      if (lines.size() >= count) break;
      absl::SleepFor(absl::Milliseconds(10));  // Polling a file another process writes.
    } while (absl::Now() < deadline);
    return lines;
  }

  HttpResult Scrape() { return SendHttp(bridge_->admin_port(), "GET", "/metrics", ""); }

  // Starts the bridge with `flags`, expecting it to exit during startup with
  // a message naming `flag` on stderr.
  void StartBridgeExpectingFailure(std::vector<std::string> flags, const std::string& flag) {
    const std::string dir = MakeTempDir();
    BridgeProcess bridge(dir, std::move(flags));
    bridge.set_stderr_file(absl::StrCat(dir, "/stderr.log"));
    const absl::Status started = bridge.Start();
    EXPECT_FALSE(started.ok());
    EXPECT_THAT(std::string(started.message()), HasSubstr("exited during startup"));
    EXPECT_THAT(bridge.CapturedStderr(), HasSubstr(absl::StrCat("bad flag: ", flag)));
  }

  std::string data_dir_;
  std::unique_ptr<BridgeProcess> bridge_;
};

TEST_F(ObservabilityE2ETest, MetricsAndAccessLinesMatchWhatHappened) {
  StartBridge({"--log_format=json"});
  const int port = bridge_->http_port();
  const std::vector<std::pair<std::string, std::string>> secret = {{"Authorization", kSecret}};
  const std::string good = R"({"event":"referral_created","message":"hi"})";
  for (int i = 1; i <= 3; ++i) {
    auto headers = secret;
    headers.emplace_back("webhook-id", absl::StrCat("obs-", i));
    ASSERT_EQ(PostWebhook(port, good, headers).status, 200);
  }
  auto duplicate_headers = secret;
  duplicate_headers.emplace_back("webhook-id", "obs-1");
  HttpResult duplicate = PostWebhook(port, good, duplicate_headers);
  ASSERT_EQ(duplicate.status, 200);
  ASSERT_EQ(duplicate.json["sequence"], 1);
  ASSERT_EQ(SendHttp(port, "POST", "/webhook", "plain", "text/plain", secret).status, 415);
  ASSERT_EQ(PostWebhook(port, "{not json", secret).status, 400);

  // A group that takes two deliveries and acks none: 2 pending, 1 behind.
  auto stub = MakeStub(bridge_->grpc_target());
  GroupStream stream(*stub);
  v1::SubscribeInit init = GroupInit(kGroup);
  init.mutable_start()->mutable_earliest();
  init.set_max_outstanding(2);
  ASSERT_TRUE(stream.Open(init).ok());
  ASSERT_EQ(stream.ReadDeliveries(2, absl::Seconds(10)).size(), 2u);

  HttpResult scrape = Scrape();
  ASSERT_EQ(scrape.status, 200);
  EXPECT_EQ(scrape.content_type, "text/plain; version=0.0.4; charset=utf-8");
  std::map<std::string, double> samples = ParseSamples(scrape.body);
  EXPECT_EQ(samples[R"(refir_bridge_webhooks_received_total{source="refir",status="200"})"], 4);
  EXPECT_EQ(samples[R"(refir_bridge_webhooks_received_total{source="refir",status="415"})"], 1);
  EXPECT_EQ(samples[R"(refir_bridge_webhooks_received_total{source="refir",status="400"})"], 1);
  EXPECT_EQ(samples[R"(refir_bridge_webhook_request_duration_seconds_count{source="refir"})"], 6);
  EXPECT_EQ(samples["refir_bridge_journal_head_sequence"], 3);
  EXPECT_GT(samples["refir_bridge_journal_size_bytes"], 0);
  EXPECT_GE(samples["refir_bridge_journal_append_duration_seconds_count"], 3);
  EXPECT_GE(samples["refir_bridge_journal_commit_batch_events_sum"], 3);
  EXPECT_EQ(samples[R"(refir_bridge_consumer_group_pending{consumer_group="metrics-group"})"], 2);
  EXPECT_EQ(samples[R"(refir_bridge_consumer_group_lag{consumer_group="metrics-group"})"], 1);
  EXPECT_EQ(
      samples
          [R"(refir_bridge_consumer_group_subscribers_connected{consumer_group="metrics-group"})"],
      1);
  EXPECT_EQ(
      samples[R"(refir_bridge_consumer_group_redeliveries_total{consumer_group="metrics-group"})"],
      0);
  EXPECT_EQ(samples[R"(refir_bridge_consumer_group_dead_letters{consumer_group="metrics-group"})"],
            0);
  EXPECT_EQ(samples["refir_bridge_subscribers_connected"], 1);

  // One access line per webhook, in order, with the right fields.
  const std::vector<nlohmann::json> lines = WaitForAccessLines(6);
  ASSERT_EQ(lines.size(), 6u) << bridge_->CapturedStderr();
  for (int i = 0; i < 4; ++i) {
    const nlohmann::json& line = lines[static_cast<size_t>(i)];
    EXPECT_EQ(line["level"], "info");
    EXPECT_EQ(line["source"], "refir");
    EXPECT_EQ(line["status"], 200);
    EXPECT_EQ(line["id"], absl::StrCat("obs-", i == 3 ? 1 : i + 1));
    EXPECT_EQ(line["sequence"], i == 3 ? 1 : i + 1);
    EXPECT_EQ(line["body_bytes"], good.size());
    EXPECT_TRUE(line["latency_ms"].is_number()) << line;
    EXPECT_GE(line["latency_ms"].get<double>(), 0.0);
    EXPECT_TRUE(absl::StartsWith(line["remote_addr"].get<std::string>(), "127.0.0.1:")) << line;
    EXPECT_TRUE(absl::EndsWith(line["ts"].get<std::string>(), "Z")) << line;
    EXPECT_FALSE(line.contains("body")) << line;
    EXPECT_FALSE(line.contains("error")) << line;
  }
  EXPECT_FALSE(lines[0].contains("duplicate"));
  EXPECT_EQ(lines[3]["duplicate"], true);
  EXPECT_EQ(lines[4]["status"], 415);
  EXPECT_EQ(lines[4]["error"], "unsupported_media_type");
  EXPECT_EQ(lines[4]["body_bytes"], 5);
  EXPECT_FALSE(lines[4].contains("sequence"));
  EXPECT_EQ(lines[5]["status"], 400);
  EXPECT_EQ(lines[5]["error"], "invalid_json");
  // Headers, and so secrets, never reach the log.
  EXPECT_THAT(bridge_->CapturedStderr(), Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(bridge_->CapturedStderr(), Not(HasSubstr("referral_created")));

  // A deleted group is gone from the next scrape.
  stream.Close();
  grpc::Status deleted;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    grpc::ClientContext context;
    v1::DeleteConsumerGroupRequest request;
    request.set_name(kGroup);
    google::protobuf::Empty empty;
    deleted = stub->DeleteConsumerGroup(&context, request, &empty);
    if (deleted.ok()) break;
    absl::SleepFor(absl::Milliseconds(20));  // the stream's departure is asynchronous
  } while (absl::Now() < deadline);
  ASSERT_TRUE(deleted.ok()) << deleted.error_message();
  scrape = Scrape();
  ASSERT_EQ(scrape.status, 200);
  EXPECT_THAT(scrape.body, Not(HasSubstr(kGroup)));
  samples = ParseSamples(scrape.body);
  EXPECT_EQ(samples["refir_bridge_subscribers_connected"], 0);

  ASSERT_EQ(*bridge_->Stop(), 0);
}

TEST_F(ObservabilityE2ETest, BodiesAreLoggedOnlyWhenAskedFor) {
  StartBridge({"--log_format=json", "--log_webhook_bodies=true"});
  const std::string body = R"({"event":"user_added","message":"line\nbreak \"quoted\""})";
  ASSERT_EQ(PostWebhook(bridge_->http_port(), body).status, 200);
  const std::vector<nlohmann::json> lines = WaitForAccessLines(1);
  ASSERT_EQ(lines.size(), 1u) << bridge_->CapturedStderr();
  EXPECT_EQ(lines[0]["body"], body);
  ASSERT_EQ(*bridge_->Stop(), 0);
}

TEST_F(ObservabilityE2ETest, AccessLogCanBeTurnedOffWhileMetricsCount) {
  StartBridge({"--log_format=json", "--access_log=false"});
  ASSERT_EQ(PostEvent(bridge_->http_port()), 1u);
  HttpResult scrape = Scrape();
  ASSERT_EQ(scrape.status, 200);
  EXPECT_EQ(
      ParseSamples(
          scrape.body)[R"(refir_bridge_webhooks_received_total{source="refir",status="200"})"],
      1);
  // The shutdown lines come after the webhook's: once they are written, an
  // access line would be too.
  ASSERT_EQ(*bridge_->Stop(), 0);
  const std::string log = bridge_->CapturedStderr();
  EXPECT_THAT(log, HasSubstr("shutdown complete"));
  EXPECT_TRUE(JsonLines(log, "webhook").empty()) << log;
}

TEST_F(ObservabilityE2ETest, TextFormat) {
  StartBridge({"--log_format=text"});
  ASSERT_EQ(PostEvent(bridge_->http_port()), 1u);
  ASSERT_EQ(*bridge_->Stop(), 0);
  const std::string log = bridge_->CapturedStderr();
  EXPECT_THAT(log, HasSubstr("Z INFO webhook source=refir id="));
  EXPECT_THAT(log, HasSubstr(" sequence=1 status=200 latency_ms="));
  EXPECT_THAT(log, Not(HasSubstr("{\"ts\"")));
}

TEST_F(ObservabilityE2ETest, LevelFilterDropsInfoLines) {
  StartBridge({"--log_format=json", "--log_level=warning"});
  ASSERT_EQ(PostEvent(bridge_->http_port()), 1u);
  ASSERT_EQ(*bridge_->Stop(), 0);
  // Every line of a clean run (ready, access, shutdown) is info.
  EXPECT_EQ(bridge_->CapturedStderr(), "");
}

TEST_F(ObservabilityE2ETest, BadLogFlagsStopStartupNamingTheFlag) {
  StartBridgeExpectingFailure({"--log_format=xml"}, "--log_format");
  StartBridgeExpectingFailure({"--log_level=loud"}, "--log_level");
}

// Lines logged before --log_format is read (a bad flag, a bad config file,
// an unknown command, a REFIR_BRIDGE_ variable that names no setting) follow
// the auto rule like the rest: stderr here is a file, so each is JSON.
TEST_F(ObservabilityE2ETest, EarlyLinesAreJsonWhenStderrIsNotATerminal) {
  const std::string dir = MakeTempDir();
  const std::string config = absl::StrCat(dir, "/bridge.conf");
  {
    std::ofstream out(config);
    out << "http_prot = 1\n";
  }
  struct Case {
    std::string command;
    std::vector<std::string> flags;
    std::string error;  // the start of the error line's msg
    // Whether REFIR_BRIDGE_SERVICE_HOST is warned about first (once the
    // config file and environment are read).
    bool warns = false;
  };
  const std::vector<Case> cases = {
      {"", {"--no_such_flag=1"}, "bad flag: --no_such_flag is not a flag"},
      {"", {"--http_port=abc"}, "bad flag: --http_port: bad value \"abc\""},
      {"", {"--log_format=xml"}, "bad flag: --log_format: unknown log format", true},
      {"", {absl::StrCat("--config=", config)}, absl::StrCat("bad configuration: ", config, ":1:")},
      {"frobnicate", {}, "unknown command \"frobnicate\""},
  };
  ASSERT_EQ(setenv("REFIR_BRIDGE_SERVICE_HOST", "10.0.0.1", 1), 0);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error);
    BridgeProcess bridge(absl::StrCat(dir, "/data"), c.flags);
    if (!c.command.empty()) bridge.set_command(c.command);
    bridge.set_stderr_file(absl::StrCat(dir, "/stderr.log"));
    EXPECT_FALSE(bridge.Start().ok());
    const std::string log = bridge.CapturedStderr();
    std::vector<std::string> messages;
    for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
      nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      ASSERT_TRUE(parsed.is_object() && parsed.contains("msg") && parsed["msg"].is_string())
          << "not a JSON log line: " << line;
      messages.push_back(parsed["msg"].get<std::string>());
    }
    ASSERT_EQ(messages.size(), c.warns ? 2u : 1u) << log;
    if (c.warns) {
      EXPECT_THAT(messages[0], HasSubstr("ignoring REFIR_BRIDGE_SERVICE_HOST"));
    }
    EXPECT_THAT(messages.back(), ::testing::StartsWith(c.error));
  }
  unsetenv("REFIR_BRIDGE_SERVICE_HOST");
}

}  // namespace
}  // namespace refir::bridge::testing
