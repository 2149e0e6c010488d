// Unit tests of the pure webhook handler, with an in-memory fake journal (the
// real journal and HTTP server are exercised in tests/integration).
#include "bridge/http_edge/webhook_handler.h"

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "bridge/common/error_reason.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/http_edge/fake_journal.h"

namespace refir::bridge {
namespace {

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
