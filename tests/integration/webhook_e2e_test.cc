// Webhooks in over real HTTP, events out over a real gRPC channel, against
// the real bridge binary, on both journals (SQLite and JetStream; the file
// modes are SQLite's own).
#include <sys/stat.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/bridge_test.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

// Permission bits of `path`, or -1 when it does not exist.
int ModeOf(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int>(info.st_mode & 07777);
}

// journal.db and groups.db (and their -wal/-shm) hold webhook bodies: 0600
// even in an existing data directory of mode 0755, and even when the test
// process's umask is 0 (the bridge sets its own, and the mode explicitly).
TEST(WebhookFilesE2ETest, DatabaseFilesAreOwnerOnlyInAnExisting0755Dir) {
  const std::string dir = MakeTempDir();
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  const mode_t old_umask = umask(0);
  BridgeProcess bridge(dir);
  const absl::Status started = bridge.Start();
  umask(old_umask);
  ASSERT_TRUE(started.ok()) << started;
  HttpResult stored = PostWebhook(bridge.http_port(), R"({"email":"a@example.com"})");
  ASSERT_EQ(stored.status, 200) << stored.body;
  for (const char* name : {"journal.db", "journal.db-wal", "groups.db", "groups.db-wal"}) {
    EXPECT_EQ(ModeOf(absl::StrCat(dir, "/", name)), 0600) << name;
  }
  for (const char* name : {"journal.db-shm", "groups.db-shm"}) {
    const int mode = ModeOf(absl::StrCat(dir, "/", name));
    if (mode != -1) {
      EXPECT_EQ(mode, 0600) << name;
    }
  }
  ASSERT_TRUE(bridge.Stop().ok());
}

// An existing journal file readable by others is kept, with a warning.
TEST(WebhookFilesE2ETest, ExistingWorldReadableJournalIsAWarning) {
  const std::string dir = MakeTempDir();
  {
    BridgeProcess bridge(dir);
    ASSERT_TRUE(bridge.Start().ok());
    ASSERT_TRUE(bridge.Stop().ok());
  }
  const std::string journal = dir + "/journal.db";
  ASSERT_EQ(chmod(journal.c_str(), 0644), 0);
  BridgeProcess bridge(dir, {"--log_format=text"});
  bridge.set_stderr_file(dir + "/bridge.stderr");
  ASSERT_TRUE(bridge.Start().ok());
  EXPECT_NE(bridge.CapturedStderr().find("database file \"" + journal +
                                         "\" is readable by group or others"),
            std::string::npos)
      << bridge.CapturedStderr();
}

constexpr char kReferralBody[] =
    R"({"event":"referral_created","lead":{"id":18446744073709551615,"email":"lead@example.com",)"
    R"("firstName":"Ada","lastName":"Lovelace"},"referrer":{"user_id":"u-42",)"
    R"("email":"ref@example.com","referralCode":"ADA42"},"message":"Ada joined via u-42",)"
    R"("campaign":{"id":7,"name":"Spring"},"extra":[1,2,3]})";

using WebhookE2ETest = BridgeOnJournalTest;

TEST_P(WebhookE2ETest, PostAnswers200WithIdAndSequence) {
  HttpResult first = PostWebhook(bridge_->http_port(), kReferralBody);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json["message"], "Webhook received successfully");
  EXPECT_EQ(first.json["sequence"], 1);
  ASSERT_TRUE(first.json["id"].is_string());
  EXPECT_EQ(first.json["id"].get<std::string>().size(), 36u);  // a UUIDv7
  EXPECT_EQ(first.content_type, "application/json");

  HttpResult second = PostWebhook(bridge_->http_port(), R"({"message":"hi"})");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json["sequence"], 2);
}

TEST_P(WebhookE2ETest, SubscriberReceivesTypedFieldsAndByteExactBody) {
  const std::string body = std::string(" \n") + kReferralBody + "\n ";
  HttpResult posted = PostWebhook(
      bridge_->http_port(), body,
      {{"Webhook-Id", "wh_0001"}, {"Authorization", "Bearer s3cret"}, {"User-Agent", "Refir/1.0"}});
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_EQ(posted.json["id"], "wh_0001");

  Subscription subscription(*stub_, InitFromEarliest());
  v1::SubscribeConfirm confirm;
  ASSERT_TRUE(subscription.ReadConfirm(&confirm));
  EXPECT_EQ(confirm.start_sequence(), 1u);
  EXPECT_EQ(confirm.head_sequence(), 1u);
  std::vector<v1::Event> events = subscription.ReadEvents(1);
  ASSERT_EQ(events.size(), 1u);
  const v1::Event& event = events[0];
  EXPECT_EQ(event.id(), "wh_0001");
  EXPECT_EQ(event.sequence(), 1u);
  EXPECT_EQ(event.source(), "refir");
  EXPECT_EQ(event.type(), "refir.referral.created");
  EXPECT_EQ(event.body(), body);
  EXPECT_EQ(event.content_type(), "application/json");
  EXPECT_GT(event.received_at().seconds(), 1600000000);
  EXPECT_EQ(event.refir().lead().id(), "18446744073709551615");
  EXPECT_EQ(event.refir().lead().email(), "lead@example.com");
  EXPECT_EQ(event.refir().lead().name(), "Ada Lovelace");
  EXPECT_EQ(event.refir().referrer().id(), "u-42");
  EXPECT_EQ(event.refir().referrer().referral_code(), "ADA42");
  EXPECT_EQ(event.refir().message(), "Ada joined via u-42");
  EXPECT_EQ(event.refir().campaign().id(), "7");
  EXPECT_EQ(event.refir().campaign().name(), "Spring");
  EXPECT_EQ(event.headers().at("user-agent"), "Refir/1.0");
  EXPECT_EQ(event.headers().count("authorization"), 0u);
  EXPECT_NE(event.remote_addr().find("127.0.0.1:"), std::string::npos);
}

TEST_P(WebhookE2ETest, LiveSubscriberGetsEventsPostedAfterItJoined) {
  ASSERT_EQ(PostWebhook(bridge_->http_port(), R"({"message":"before"})").status, 200);
  Subscription subscription(*stub_, InitFromLatest());
  v1::SubscribeConfirm confirm;
  ASSERT_TRUE(subscription.ReadConfirm(&confirm));
  EXPECT_EQ(confirm.start_sequence(), 2u);

  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(
        PostWebhook(bridge_->http_port(), absl::StrCat(R"({"message":"live )", i, R"("})")).status,
        200);
  }
  std::vector<v1::Event> events = subscription.ReadEvents(20);
  ASSERT_EQ(events.size(), 20u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].sequence(), i + 2);
    EXPECT_EQ(events[i].refir().message(), absl::StrCat("live ", i));
  }
}

TEST_P(WebhookE2ETest, BacklogArrivesInBatchesInSequenceOrder) {
  constexpr int kEvents = 300;
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([this, t] {
      for (int i = 0; i < kEvents / 4; ++i) {
        EXPECT_EQ(
            PostWebhook(bridge_->http_port(), absl::StrCat(R"({"message":"t)", t, "-", i, R"("})"))
                .status,
            200);
      }
    });
  }
  for (std::thread& poster : posters) poster.join();

  Subscription subscription(*stub_, InitFromEarliest(/*max_batch=*/100));
  v1::SubscribeConfirm confirm;
  ASSERT_TRUE(subscription.ReadConfirm(&confirm));
  EXPECT_EQ(confirm.max_batch(), 100);
  size_t batches = 0;
  std::vector<v1::Event> events = subscription.ReadEvents(kEvents, &batches);
  ASSERT_EQ(events.size(), static_cast<size_t>(kEvents));
  EXPECT_LE(batches, 3u) << "a ready backlog must ride in full batches";
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].sequence(), i + 1);
}

TEST_P(WebhookE2ETest, StartAtSequenceSkipsEarlierEvents) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(PostWebhook(bridge_->http_port(), "{}").status, 200);
  v1::SubscribeInit init;
  init.mutable_start()->set_sequence(4);
  Subscription subscription(*stub_, init);
  v1::SubscribeConfirm confirm;
  ASSERT_TRUE(subscription.ReadConfirm(&confirm));
  EXPECT_EQ(confirm.start_sequence(), 4u);
  std::vector<v1::Event> events = subscription.ReadEvents(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].sequence(), 4u);
  EXPECT_EQ(events[1].sequence(), 5u);
}

TEST_P(WebhookE2ETest, SubscribeWithoutInitIsInvalidArgument) {
  grpc::ClientContext context;
  auto stream = stub_->Subscribe(&context);
  v1::SubscribeRequest empty;
  ASSERT_TRUE(stream->Write(empty));
  v1::SubscribeResponse response;
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("init"), std::string::npos);
}

TEST_P(WebhookE2ETest, SubscribeWithBadMaxBatchIsInvalidArgument) {
  Subscription subscription(*stub_, InitFromEarliest(/*max_batch=*/5000));
  grpc::Status status = subscription.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("max_batch"), std::string::npos);
}

TEST_P(WebhookE2ETest, GetEventByIdAndSequence) {
  HttpResult posted = PostWebhook(bridge_->http_port(), kReferralBody, {{"webhook-id", "abc"}});
  ASSERT_EQ(posted.status, 200);
  if (jetstream()) {
    // JetStream keeps no index of ids (docs/api.md): by id is UNIMPLEMENTED,
    // with the way that works named; by sequence works as on SQLite.
    for (const char* id : {"abc", "missing"}) {
      grpc::ClientContext context;
      v1::GetEventRequest request;
      request.set_id(id);
      v1::Event event;
      const grpc::Status status = stub_->GetEvent(&context, request, &event);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << id;
      EXPECT_NE(status.error_message().find("sequence"), std::string::npos)
          << status.error_message();
    }
  } else {
    grpc::ClientContext context;
    v1::GetEventRequest request;
    request.set_id("abc");
    v1::Event event;
    ASSERT_TRUE(stub_->GetEvent(&context, request, &event).ok());
    EXPECT_EQ(event.sequence(), 1u);
    EXPECT_EQ(event.body(), kReferralBody);
  }
  {
    grpc::ClientContext context;
    v1::GetEventRequest request;
    request.set_sequence(1);
    v1::Event event;
    ASSERT_TRUE(stub_->GetEvent(&context, request, &event).ok());
    EXPECT_EQ(event.id(), "abc");
  }
  {
    grpc::ClientContext context;
    v1::GetEventRequest request;
    request.set_sequence(2);
    v1::Event event;
    EXPECT_EQ(stub_->GetEvent(&context, request, &event).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  if (!jetstream()) {
    grpc::ClientContext context;
    v1::GetEventRequest request;
    request.set_id("missing");
    v1::Event event;
    EXPECT_EQ(stub_->GetEvent(&context, request, &event).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    v1::GetEventRequest request;
    v1::Event event;
    EXPECT_EQ(stub_->GetEvent(&context, request, &event).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_P(WebhookE2ETest, ListEventsPagesThroughTheJournal) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_EQ(PostWebhook(bridge_->http_port(), absl::StrCat(R"({"n":)", i, "}")).status, 200);
  }
  v1::ListEventsRequest request;
  request.set_page_size(10);
  std::vector<uint64_t> sequences;
  for (int page = 0; page < 4; ++page) {
    grpc::ClientContext context;
    v1::ListEventsResponse response;
    ASSERT_TRUE(stub_->ListEvents(&context, request, &response).ok());
    EXPECT_EQ(response.head_sequence(), 25u);
    for (const v1::Event& event : response.events()) sequences.push_back(event.sequence());
    request.set_page_token(response.next_page_token());
  }
  ASSERT_EQ(sequences.size(), 25u);
  for (size_t i = 0; i < sequences.size(); ++i) EXPECT_EQ(sequences[i], i + 1);

  grpc::ClientContext context;
  v1::ListEventsRequest bad;
  bad.set_page_token("not-a-token");
  v1::ListEventsResponse response;
  EXPECT_EQ(stub_->ListEvents(&context, bad, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_P(WebhookE2ETest, DuplicateWebhookIdIsAcknowledgedAndStoredOnce) {
  HttpResult first = PostWebhook(bridge_->http_port(), R"({"n":1})", {{"webhook-id", "dup-1"}});
  HttpResult again = PostWebhook(bridge_->http_port(), R"({"n":1})", {{"webhook-id", "dup-1"}});
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["sequence"], first.json["sequence"]);
  EXPECT_EQ(again.json["duplicate"], true);
  EXPECT_EQ(ListAllEvents(*stub_).size(), 1u);
}

struct BadRequestCase {
  std::string name;
  std::string method;
  std::string path;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  int status;
  std::string error;
};

TEST_P(WebhookE2ETest, BadRequestsGetTheirDocumentedStatusAndJsonError) {
  const std::vector<BadRequestCase> cases = {
      {"truncated json",
       "POST",
       "/webhook",
       R"({"lead":)",
       "application/json",
       {},
       400,
       "invalid_json"},
      {"trailing garbage",
       "POST",
       "/webhook",
       R"({} x)",
       "application/json",
       {},
       400,
       "invalid_json"},
      {"array body", "POST", "/webhook", "[1,2]", "application/json", {}, 400, "invalid_json"},
      {"empty body", "POST", "/webhook", "", "application/json", {}, 400, "invalid_json"},
      {"invalid utf-8",
       "POST",
       "/webhook",
       "{\"m\":\"\xff\xfe\"}",
       "application/json",
       {},
       400,
       "invalid_json"},
      {"bad webhook-id",
       "POST",
       "/webhook",
       "{}",
       "application/json",
       {{"webhook-id", std::string(300, 'x')}},
       400,
       "invalid_header"},
      {"text/plain", "POST", "/webhook", "{}", "text/plain", {}, 415, "unsupported_media_type"},
      {"form",
       "POST",
       "/webhook",
       "a=b",
       "application/x-www-form-urlencoded",
       {},
       415,
       "unsupported_media_type"},
      {"unknown path", "POST", "/nope", "{}", "application/json", {}, 404, "not_found"},
      {"GET on webhook", "GET", "/webhook", "", "", {}, 405, "method_not_allowed"},
      {"PUT on webhook",
       "PUT",
       "/webhook",
       "{}",
       "application/json",
       {},
       405,
       "method_not_allowed"},
      {"DELETE on webhook", "DELETE", "/webhook", "", "", {}, 405, "method_not_allowed"},
      {"over 1 MiB",
       "POST",
       "/webhook",
       "{\"m\":\"" + std::string(1024 * 1024, 'a') + "\"}",
       "application/json",
       {},
       413,
       "payload_too_large"},
  };
  for (const BadRequestCase& c : cases) {
    SCOPED_TRACE(c.name);
    HttpResult result =
        SendHttp(bridge_->http_port(), c.method, c.path, c.body, c.content_type, c.headers);
    EXPECT_EQ(result.status, c.status) << result.body;
    ASSERT_TRUE(result.json.is_object()) << result.body;
    EXPECT_EQ(result.json["error"], c.error) << result.body;
    if (c.status == 405) {
      EXPECT_EQ(result.allow, "POST");
    }
    if (c.status == 400) {
      ASSERT_TRUE(result.json["detail"].is_string()) << result.body;
      EXPECT_FALSE(result.json["detail"].get<std::string>().empty());
    }
    // A good request between the bad ones still works.
    ASSERT_EQ(PostWebhook(bridge_->http_port(), R"({"ok":true})").status, 200);
  }
  EXPECT_EQ(ListAllEvents(*stub_).size(), cases.size()) << "only the good requests are stored";
}

TEST_P(WebhookE2ETest, InvalidJsonDetailCarriesTheParserMessage) {
  HttpResult result = PostWebhook(bridge_->http_port(), R"({"a":1,})");
  ASSERT_EQ(result.status, 400);
  const std::string detail = result.json["detail"];
  EXPECT_NE(detail.find("syntax error"), std::string::npos) << detail;
}

TEST_P(WebhookE2ETest, AdminListenerAnswersHealthAndReadiness) {
  HttpResult health = SendHttp(bridge_->admin_port(), "GET", "/healthz", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.json["status"], "ok");
  HttpResult ready = SendHttp(bridge_->admin_port(), "GET", "/readyz", "");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json["status"], "ready");
  EXPECT_EQ(SendHttp(bridge_->admin_port(), "GET", "/nope", "").status, 404);
  // The webhook port does not serve the probes.
  EXPECT_EQ(SendHttp(bridge_->http_port(), "GET", "/healthz", "").status, 404);
}

TEST_P(WebhookE2ETest, SigtermEndsSubscriberStreamsWithUnavailable) {
  Subscription subscription(*stub_, InitFromLatest());
  v1::SubscribeConfirm confirm;
  ASSERT_TRUE(subscription.ReadConfirm(&confirm));
  // The subscriber keeps reading, as a real one does, while the bridge stops.
  grpc::Status status;
  std::thread reader([&] { status = subscription.Finish(); });
  absl::StatusOr<int> exit_code = bridge_->Stop();
  reader.join();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

INSTANTIATE_TEST_SUITE_P(Journals, WebhookE2ETest, AllJournalBackends(), JournalBackendName);

}  // namespace
}  // namespace refir::bridge::testing
