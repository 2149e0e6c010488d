// Unit tests of the pure webhook handler, with an in-memory fake journal (the
// real journal and HTTP server are exercised in tests/integration).
#include "bridge/http_edge/webhook_handler.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "bridge/common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/common/fake_journal.h"

namespace refir::bridge {
namespace {

using testing::FakeJournal;

class WebhookHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<WebhookHandler>> handler =
        WebhookHandler::Create({SourceConfig()}, &journal_);
    ASSERT_TRUE(handler.ok()) << handler.status();
    handler_ = *std::move(handler);
  }

  WebhookRequest Request(std::string body, std::string content_type = "application/json") {
    WebhookRequest request;
    request.path = "/webhook";
    request.client_ip = "127.0.0.1";
    request.body = std::move(body);
    request.content_type = std::move(content_type);
    request.headers = {{"Content-Type", request.content_type}};
    request.remote_addr = "127.0.0.1:5555";
    request.received_at = absl::Now();
    return request;
  }

  FakeJournal journal_;
  std::unique_ptr<WebhookHandler> handler_;
};

TEST_F(WebhookHandlerTest, StoresAndAnswers200) {
  HttpReply reply = handler_->Handle(Request(R"({"message":"hi"})"));
  EXPECT_EQ(reply.status, 200);
  nlohmann::json body = nlohmann::json::parse(reply.body);
  EXPECT_EQ(body["message"], "Webhook received successfully");
  EXPECT_EQ(body["sequence"], 1);
  ASSERT_EQ(journal_.appended.size(), 1u);
  EXPECT_EQ(body["id"], journal_.appended[0].id());
  EXPECT_FALSE(body.contains("duplicate"));
}

TEST_F(WebhookHandlerTest, JournalUnavailableIs503WithRetryAfter) {
  journal_.append_status =
      ErrorWithReason(absl::StatusCode::kUnavailable, "journal_unavailable", "disk I/O error");
  HttpReply reply = handler_->Handle(Request("{}"));
  EXPECT_EQ(reply.status, 503);
  nlohmann::json body = nlohmann::json::parse(reply.body);
  EXPECT_EQ(body["error"], "journal_unavailable");
  bool has_retry_after = false;
  for (const auto& [name, value] : reply.headers) {
    if (name == "Retry-After") has_retry_after = !value.empty();
  }
  EXPECT_TRUE(has_retry_after);
}

TEST_F(WebhookHandlerTest, DrainingIs503AndStoresNothing) {
  handler_->StartDraining();
  HttpReply reply = handler_->Handle(Request("{}"));
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["error"], "shutting_down");
  // Retry later, on a new connection (to another bridge behind a balancer).
  EXPECT_THAT(
      reply.headers,
      ::testing::IsSupersetOf({std::make_pair(std::string("Retry-After"), std::string("1")),
                               std::make_pair(std::string("Connection"), std::string("close"))}));
  EXPECT_TRUE(journal_.appended.empty());
}

TEST_F(WebhookHandlerTest, NonJsonContentTypeIs415AndStoresNothing) {
  HttpReply reply = handler_->Handle(Request("{}", "text/plain"));
  EXPECT_EQ(reply.status, 415);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["error"], "unsupported_media_type");
  EXPECT_TRUE(journal_.appended.empty());
}

TEST_F(WebhookHandlerTest, InvalidJsonIs400WithDetail) {
  HttpReply reply = handler_->Handle(Request("{"));
  EXPECT_EQ(reply.status, 400);
  nlohmann::json body = nlohmann::json::parse(reply.body);
  EXPECT_EQ(body["error"], "invalid_json");
  EXPECT_FALSE(body["detail"].get<std::string>().empty());
  EXPECT_TRUE(journal_.appended.empty());
}

TEST_F(WebhookHandlerTest, PassesTheWebhookIdDedupKeyToTheJournal) {
  WebhookRequest request = Request("{}");
  request.headers.emplace_back("webhook-id", "wh_7");
  ASSERT_EQ(handler_->Handle(request).status, 200);
  ASSERT_EQ(journal_.keys.size(), 1u);
  EXPECT_EQ(journal_.keys[0].key, "refir|webhook_id|wh_7");
  EXPECT_EQ(journal_.keys[0].window, absl::Minutes(10));
}

TEST_F(WebhookHandlerTest, BadDedupFieldIs400AndStoresNothing) {
  SourceConfig source;
  source.dedup.by = DedupBy::kJsonField;
  source.dedup.json_field = "/event_id";
  absl::StatusOr<std::unique_ptr<WebhookHandler>> handler =
      WebhookHandler::Create({source}, &journal_);
  ASSERT_TRUE(handler.ok()) << handler.status();
  HttpReply reply = (*handler)->Handle(Request(R"({"event_id":{"nested":true}})"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["error"], "invalid_dedup_field");
  EXPECT_TRUE(journal_.appended.empty());
}

TEST_F(WebhookHandlerTest, DuplicateAnswerCarriesTheOriginal) {
  journal_.duplicate_of = AppendResult{3, "first-id", true};
  HttpReply reply = handler_->Handle(Request("{}"));
  EXPECT_EQ(reply.status, 200);
  nlohmann::json body = nlohmann::json::parse(reply.body);
  EXPECT_EQ(body["sequence"], 3);
  EXPECT_EQ(body["id"], "first-id");
  EXPECT_EQ(body["duplicate"], true);
}

// Each source dedups with its own settings, keyed by its own name.
TEST_F(WebhookHandlerTest, EachSourceHasItsOwnDedupSettings) {
  SourceConfig by_id;
  SourceConfig by_body;
  by_body.name = "shop";
  by_body.path = "/shop";
  by_body.dedup.by = DedupBy::kBodySha256;
  by_body.dedup.window = absl::Hours(1);
  absl::StatusOr<std::unique_ptr<WebhookHandler>> handler =
      WebhookHandler::Create({by_id, by_body}, &journal_);
  ASSERT_TRUE(handler.ok()) << handler.status();
  WebhookRequest request = Request("{}");
  request.headers.emplace_back("webhook-id", "wh_1");
  ASSERT_EQ((*handler)->Handle(request).status, 200);
  request.path = "/shop";
  ASSERT_EQ((*handler)->Handle(request).status, 200);
  ASSERT_EQ(journal_.keys.size(), 2u);
  EXPECT_EQ(journal_.keys[0].key, "refir|webhook_id|wh_1");
  EXPECT_EQ(journal_.keys[0].window, absl::Minutes(10));
  EXPECT_TRUE(absl::StartsWith(journal_.keys[1].key, "shop|body_sha256|")) << journal_.keys[1].key;
  EXPECT_EQ(journal_.keys[1].window, absl::Hours(1));
  EXPECT_EQ(journal_.appended[1].source(), "shop");
}

TEST_F(WebhookHandlerTest, UnusableDedupSettingsStopCreateNamingTheSource) {
  SourceConfig source;
  source.name = "shop";
  source.dedup.by = DedupBy::kJsonField;
  source.dedup.json_field = "/a/~2";
  absl::StatusOr<std::unique_ptr<WebhookHandler>> handler =
      WebhookHandler::Create({source}, &journal_);
  ASSERT_FALSE(handler.ok());
  EXPECT_TRUE(absl::StartsWith(handler.status().message(), "source \"shop\": dedup: "))
      << handler.status();
}

TEST(IsJsonContentTypeTest, AcceptsJsonMediaTypes) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(IsJsonContentType("application/cloudevents+json"));
  EXPECT_FALSE(IsJsonContentType(""));
  EXPECT_FALSE(IsJsonContentType("text/json-ish"));
  EXPECT_FALSE(IsJsonContentType("application/xml"));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
}

TEST(ReplyForErrorTest, MapsCodesOnce) {
  EXPECT_EQ(ReplyForError(absl::InvalidArgumentError("x")).status, 400);
  EXPECT_EQ(ReplyForError(absl::UnauthenticatedError("why")).status, 401);
  EXPECT_EQ(ReplyForError(absl::UnauthenticatedError("why")).body,
            R"({"error":"unauthenticated"})");
  EXPECT_EQ(ReplyForError(absl::ResourceExhaustedError("x")).status, 429);
  EXPECT_EQ(ReplyForError(absl::UnavailableError("x")).status, 503);
  EXPECT_EQ(ReplyForError(absl::InternalError("x")).status, 500);
}

}  // namespace
}  // namespace refir::bridge
