// The dedup window in process: the webhook handler over a real SQLite
// journal, with the receive time of each request chosen (the edge stamps
// WebhookRequest.received_at; here the test does), so that "after the
// window" needs no sleep.
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/http_edge/webhook_handler.h"
#include "bridge/journal/sqlite/sqlite_journal.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/journal/sqlite_test_util.h"

namespace refir::bridge::testing {
namespace {

class DedupWindowTest : public SqliteFileTest {
 protected:
  DedupWindowTest() : SqliteFileTest("dedup_window", "journal.db") {}

  void SetUp() override {
    SqliteFileTest::SetUp();
    SqliteJournalOptions options;
    options.path = path_;
    absl::StatusOr<std::unique_ptr<Journal>> journal = OpenSqliteJournal(options);
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = *std::move(journal);
    SourceConfig source;
    source.dedup.window = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<WebhookHandler>> handler =
        WebhookHandler::Create({source}, journal_.get());
    ASSERT_TRUE(handler.ok()) << handler.status();
    handler_ = *std::move(handler);
  }
  void TearDown() override {
    handler_.reset();
    if (journal_ != nullptr) journal_->Close();
    SqliteFileTest::TearDown();
  }

  // POSTs {"n":1} with `webhook_id`, received at `received_at`.
  nlohmann::json Post(const std::string& webhook_id, absl::Time received_at) {
    WebhookRequest request;
    request.path = "/webhook";
    request.client_ip = "127.0.0.1";
    request.remote_addr = "127.0.0.1:5555";
    request.body = R"({"n":1})";
    request.content_type = "application/json";
    request.headers = {{"Content-Type", request.content_type}, {"webhook-id", webhook_id}};
    request.received_at = received_at;
    HttpReply reply = handler_->Handle(request);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  }

  std::unique_ptr<Journal> journal_;
  std::unique_ptr<WebhookHandler> handler_;
  const absl::Time t0_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(DedupWindowTest, WithinTheWindowAResendIsTheOriginal) {
  nlohmann::json first = Post("wh-1", t0_);
  nlohmann::json within = Post("wh-1", t0_ + absl::Milliseconds(999));
  EXPECT_EQ(within["duplicate"], true);
  EXPECT_EQ(within["sequence"], first["sequence"]);
  EXPECT_EQ(within["id"], "wh-1");
  EXPECT_EQ(journal_->HeadSequence(), 1u);
}

TEST_F(DedupWindowTest, AfterTheWindowAResendIsStoredAgainUnderAFreshId) {
  nlohmann::json first = Post("wh-late", t0_);
  ASSERT_EQ(first["sequence"], 1);
  nlohmann::json late = Post("wh-late", t0_ + absl::Seconds(1));
  EXPECT_FALSE(late.contains("duplicate"));
  EXPECT_EQ(late["sequence"], 2);
  const std::string fresh_id = late["id"].get<std::string>();
  EXPECT_NE(fresh_id, "wh-late");
  absl::StatusOr<v1::Event> fresh = journal_->GetById(fresh_id);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->sequence(), 2u);
  EXPECT_EQ(fresh->headers().at("webhook-id"), "wh-late");
  absl::StatusOr<v1::Event> original = journal_->GetById("wh-late");
  ASSERT_TRUE(original.ok()) << original.status();
  EXPECT_EQ(original->sequence(), 1u);
  // The resend opened a new window of its own.
  nlohmann::json again = Post("wh-late", t0_ + absl::Milliseconds(1500));
  EXPECT_EQ(again["duplicate"], true);
  EXPECT_EQ(again["sequence"], 2);
}

}  // namespace
}  // namespace refir::bridge::testing
