// Unit tests of the pure webhook handler, with an in-memory fake journal (the
// real journal and HTTP server are exercised in tests/integration).
#include "bridge/http_edge/webhook_handler.h"

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "bridge/common/error_reason.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {
namespace {

class FakeJournal : public Journal {
 public:
  absl::StatusOr<AppendResult> Append(v1::Event event, DedupKey dedup) override {
    if (!append_status.ok()) return append_status;
    appended.push_back(event);
    keys.push_back(dedup);
    if (duplicate_of.duplicate) return duplicate_of;
    return AppendResult{appended.size(), event.id(), false};
  }
  absl::StatusOr<std::vector<v1::Event>> Read(uint64_t, size_t, size_t) override {
    return std::vector<v1::Event>();
  }
  absl::StatusOr<v1::Event> GetBySequence(uint64_t) override { return absl::NotFoundError("fake"); }
  absl::StatusOr<v1::Event> GetById(absl::string_view) override {
    return absl::NotFoundError("fake");
  }
  absl::StatusOr<uint64_t> FirstSequenceAtOrAfter(absl::Time) override { return 1; }
  absl::StatusOr<uint64_t> FirstSequence() override { return 1; }
  absl::StatusOr<DeleteResult> DeleteOldest(const DeleteRequest&) override {
    return absl::UnimplementedError("not in the fake");
  }
  absl::StatusOr<uint64_t> StoredBytes() override { return 0; }
  uint64_t HeadSequence() const override { return appended.size(); }
  bool Writable() const override { return true; }
  void AddAppendListener(AppendListener) override {}
  void Close() override {}

  absl::Status append_status;
  std::vector<v1::Event> appended;
  std::vector<DedupKey> keys;
  // Answered to every append when its `duplicate` is set.
  AppendResult duplicate_of;
};

class WebhookHandlerTest : public ::testing::Test {
 protected:
  WebhookRequest Request(std::string body, std::string content_type = "application/json") {
    WebhookRequest request;
    request.source = "refir";
    request.body = std::move(body);
    request.content_type = std::move(content_type);
    request.headers = {{"Content-Type", request.content_type}};
    request.remote_addr = "127.0.0.1:5555";
    request.received_at = absl::Now();
    return request;
  }

  WebhookConverter converter_;
  FakeJournal journal_;
  WebhookHandler handler_{&converter_, &journal_};
};

TEST_F(WebhookHandlerTest, StoresAndAnswers200) {
  HttpReply reply = handler_.Handle(Request(R"({"message":"hi"})"));
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
  HttpReply reply = handler_.Handle(Request("{}"));
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
  handler_.StartDraining();
  HttpReply reply = handler_.Handle(Request("{}"));
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["error"], "shutting_down");
  EXPECT_TRUE(journal_.appended.empty());
}

TEST_F(WebhookHandlerTest, NonJsonContentTypeIs415AndStoresNothing) {
  HttpReply reply = handler_.Handle(Request("{}", "text/plain"));
  EXPECT_EQ(reply.status, 415);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["error"], "unsupported_media_type");
  EXPECT_TRUE(journal_.appended.empty());
}

TEST_F(WebhookHandlerTest, InvalidJsonIs400WithDetail) {
  HttpReply reply = handler_.Handle(Request("{"));
  EXPECT_EQ(reply.status, 400);
  nlohmann::json body = nlohmann::json::parse(reply.body);
  EXPECT_EQ(body["error"], "invalid_json");
  EXPECT_FALSE(body["detail"].get<std::string>().empty());
  EXPECT_TRUE(journal_.appended.empty());
}

TEST_F(WebhookHandlerTest, PassesTheWebhookIdDedupKeyToTheJournal) {
  WebhookRequest request = Request("{}");
  request.headers.emplace_back("webhook-id", "wh_7");
  ASSERT_EQ(handler_.Handle(request).status, 200);
  ASSERT_EQ(journal_.keys.size(), 1u);
  EXPECT_EQ(journal_.keys[0].key, "refir|webhook_id|wh_7");
  EXPECT_EQ(journal_.keys[0].window, absl::Minutes(10));
}

TEST_F(WebhookHandlerTest, BadDedupFieldIs400AndStoresNothing) {
  DedupConfig dedup;
  dedup.by = DedupConfig::By::kJsonField;
  dedup.json_field = "/event_id";
  WebhookHandler handler(&converter_, &journal_, dedup);
  HttpReply reply = handler.Handle(Request(R"({"event_id":{"nested":true}})"));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["error"], "invalid_dedup_field");
  EXPECT_TRUE(journal_.appended.empty());
}

TEST_F(WebhookHandlerTest, DuplicateAnswerCarriesTheOriginal) {
  journal_.duplicate_of = AppendResult{3, "first-id", true};
  HttpReply reply = handler_.Handle(Request("{}"));
  EXPECT_EQ(reply.status, 200);
  nlohmann::json body = nlohmann::json::parse(reply.body);
  EXPECT_EQ(body["sequence"], 3);
  EXPECT_EQ(body["id"], "first-id");
  EXPECT_EQ(body["duplicate"], true);
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
  EXPECT_EQ(ReplyForError(absl::UnauthenticatedError("why")).body, R"({"error":"unauthorized"})");
  EXPECT_EQ(ReplyForError(absl::ResourceExhaustedError("x")).status, 429);
  EXPECT_EQ(ReplyForError(absl::UnavailableError("x")).status, 503);
  EXPECT_EQ(ReplyForError(absl::InternalError("x")).status, 500);
}

}  // namespace
}  // namespace refir::bridge
