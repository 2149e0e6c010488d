#include "bridge/http_edge/webhook_observer.h"

#include <memory>
#include <string>

#include "absl/strings/str_split.h"
#include "bridge/common/log_setup.h"
#include "bridge/metrics/metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/common/capturing_log_sink.h"

namespace refir::bridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class WebhookObserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sink_ = std::make_shared<testing::CapturingLogSink>();
    InitLogging({LogFormat::kJson, LogLevel::kInfo}, sink_);
    request_.source = "refir";
    request_.body = R"({"event":"user_added"})";
    request_.remote_addr = "10.0.0.5:51234";
    request_.received_at = absl::FromUnixSeconds(1000);
    request_.headers = {{"Authorization", "Bearer secret-token"}, {"Webhook-Id", "wh-7"}};
  }
  void TearDown() override { InitLogging(LogOptions{}); }

  // The single line logged, parsed.
  nlohmann::json OnlyLine() {
    FlushLogs();
    std::vector<std::string> lines = absl::StrSplit(sink_->text(), '\n', absl::SkipEmpty());
    EXPECT_EQ(lines.size(), 1u) << sink_->text();
    return lines.empty() ? nlohmann::json() : nlohmann::json::parse(lines[0]);
  }

  std::shared_ptr<testing::CapturingLogSink> sink_;
  WebhookRequest request_;
  Metrics metrics_;
};

TEST_F(WebhookObserverTest, StoredWebhookLineHasEventAndNoHeaders) {
  WebhookObserver observer({}, metrics_.ForSource("refir"));
  HttpReply reply;
  reply.status = 200;
  reply.event_id = "wh-7";
  reply.sequence = 42;
  observer.Observe(request_, reply, request_.received_at + absl::Microseconds(1534));
  const nlohmann::json line = OnlyLine();
  EXPECT_EQ(line["msg"], "webhook");
  EXPECT_EQ(line["source"], "refir");
  EXPECT_EQ(line["id"], "wh-7");
  EXPECT_EQ(line["sequence"], 42);
  EXPECT_EQ(line["status"], 200);
  EXPECT_DOUBLE_EQ(line["latency_ms"].get<double>(), 1.534);
  EXPECT_EQ(line["remote_addr"], "10.0.0.5:51234");
  EXPECT_EQ(line["body_bytes"], request_.body.size());
  EXPECT_FALSE(line.contains("body"));
  EXPECT_FALSE(line.contains("error"));
  EXPECT_THAT(sink_->text(), Not(HasSubstr("secret-token")));
  EXPECT_THAT(
      metrics_.Scrape(),
      HasSubstr("refir_bridge_webhooks_received_total{source=\"refir\",status=\"200\"} 1\n"));
}

TEST_F(WebhookObserverTest, UnparsedBodiesAreMarkedAndCountedDuplicatesNot) {
  WebhookObserver observer({}, metrics_.ForSource("raw"));
  HttpReply reply;
  reply.status = 200;
  reply.event_id = "e-1";
  reply.sequence = 1;
  reply.unparsed = true;
  observer.Observe(request_, reply, request_.received_at);
  EXPECT_EQ(OnlyLine()["unparsed"], true);
  reply.duplicate = true;
  observer.Observe(request_, reply, request_.received_at);
  EXPECT_THAT(metrics_.Scrape(),
              HasSubstr("refir_bridge_webhooks_unparsed_total{source=\"raw\"} 1\n"));
}

TEST_F(WebhookObserverTest, RefusedWebhookLineEchoesWebhookIdAndError) {
  WebhookObserver observer({}, nullptr);
  HttpReply reply = JsonErrorReply(400, "invalid_json", "bad");
  observer.Observe(request_, reply, request_.received_at);
  const nlohmann::json line = OnlyLine();
  EXPECT_EQ(line["status"], 400);
  EXPECT_EQ(line["error"], "invalid_json");
  EXPECT_EQ(line["id"], "wh-7");  // from the header, matched case-insensitively
  EXPECT_FALSE(line.contains("sequence"));
}

TEST_F(WebhookObserverTest, BodyOnlyWhenAskedForAndCut) {
  AccessLogOptions options;
  options.include_body = true;
  options.max_logged_body_bytes = 8;
  WebhookObserver observer(options, nullptr);
  observer.Observe(request_, JsonErrorReply(415, "unsupported_media_type", ""),
                   request_.received_at);
  const nlohmann::json line = OnlyLine();
  EXPECT_EQ(line["body"], request_.body.substr(0, 8));
  EXPECT_EQ(line["body_truncated"], true);
  EXPECT_EQ(line["body_bytes"], request_.body.size());
}

TEST_F(WebhookObserverTest, DisabledAccessLogStillCounts) {
  AccessLogOptions options;
  options.enabled = false;
  WebhookObserver observer(options, metrics_.ForSource("refir"));
  observer.Observe(request_, JsonErrorReply(503, "journal_unavailable", ""), request_.received_at);
  FlushLogs();
  EXPECT_EQ(sink_->text(), "");
  EXPECT_THAT(
      metrics_.Scrape(),
      HasSubstr("refir_bridge_webhooks_received_total{source=\"refir\",status=\"503\"} 1\n"));
}

}  // namespace
}  // namespace refir::bridge
