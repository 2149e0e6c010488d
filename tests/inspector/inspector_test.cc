// Inspector::Serve and the JSON API over a real SQLite journal and group
// registry: what the events and groups endpoints answer and bound, that
// values are JSON-escaped, the token check, and the headers of every answer.
#include "bridge/inspector/inspector.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/inspector/inspector_assets.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/common/sqlite_core.h"

namespace refir::bridge {
namespace {

using testing::SqliteCore;

constexpr char kToken[] = "inspector-token-0123456789";

AdminRequest Get(std::string path, std::string authorization = "") {
  AdminRequest request;
  const size_t query = path.find('?');
  if (query != std::string::npos) {
    // Tests use at most one name=value.
    const std::string pair = path.substr(query + 1);
    const size_t equals = pair.find('=');
    request.params.emplace(pair.substr(0, equals), pair.substr(equals + 1));
    path.resize(query);
  }
  request.path = std::move(path);
  request.authorization = std::move(authorization);
  return request;
}

std::string Header(const HttpReply& reply, const std::string& name) {
  for (const auto& [key, value] : reply.headers) {
    if (key == name) return value;
  }
  return "";
}

class InspectorTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(core_.Open().ok()); }

  std::unique_ptr<Inspector> Make(const std::string& token, InspectorLimits limits = {}) {
    absl::StatusOr<std::unique_ptr<Inspector>> inspector =
        Inspector::Create(core_.journal.get(), core_.groups.get(), token, limits);
    EXPECT_TRUE(inspector.ok()) << inspector.status();
    return inspector.ok() ? *std::move(inspector) : nullptr;
  }

  uint64_t Append(const std::string& body, std::map<std::string, std::string> headers = {}) {
    v1::Event event;
    event.set_id(absl::StrCat("evt-", ++appended_));
    event.set_source("refir");
    event.set_type("refir.referral.created");
    event.set_body(body);
    event.set_content_type("application/json");
    event.mutable_refir()->set_message(body.substr(0, 16));
    event.mutable_refir()->mutable_lead()->set_email("lead@example.com");
    for (auto& [name, value] : headers) (*event.mutable_headers())[name] = value;
    absl::StatusOr<AppendResult> result = core_.journal->Append(std::move(event), DedupKey{});
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->sequence : 0;
  }

  static nlohmann::json Json(const HttpReply& reply) {
    EXPECT_EQ(reply.content_type, "application/json");
    return nlohmann::json::parse(reply.body);
  }

  SqliteCore core_;
  int appended_ = 0;
};

TEST_F(InspectorTest, EventsCarryTheirFieldsBodyAndHeaders) {
  const uint64_t sequence = Append(R"({"message":"hello"})", {{"user-agent", "refir/1"}});
  std::unique_ptr<Inspector> inspector = Make("");
  HttpReply reply = inspector->Serve(Get("/ui/api/events"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  nlohmann::json body = Json(reply);
  EXPECT_EQ(body["head"], sequence);
  ASSERT_EQ(body["events"].size(), 1u);
  const nlohmann::json& event = body["events"][0];
  EXPECT_EQ(event["sequence"], sequence);
  EXPECT_EQ(event["id"], "evt-1");
  EXPECT_EQ(event["source"], "refir");
  EXPECT_EQ(event["type"], "refir.referral.created");
  EXPECT_EQ(event["refir"]["lead"]["email"], "lead@example.com");
  EXPECT_EQ(event["headers"]["user-agent"], "refir/1");
  EXPECT_EQ(event["body"], R"({"message":"hello"})");
  EXPECT_EQ(event["body_bytes"], 19);
  EXPECT_EQ(event["body_truncated"], false);
  EXPECT_TRUE(absl::EndsWith(event["received_at"].get<std::string>(), "Z"));
}

TEST_F(InspectorTest, AfterReturnsOnlyNewerEvents) {
  Append("{}");
  const uint64_t second = Append("{}");
  const uint64_t third = Append("{}");
  std::unique_ptr<Inspector> inspector = Make("");
  nlohmann::json body =
      Json(inspector->Serve(Get(absl::StrCat("/ui/api/events?after=", second - 1))));
  ASSERT_EQ(body["events"].size(), 2u);
  EXPECT_EQ(body["events"][0]["sequence"], second);
  EXPECT_EQ(body["events"][1]["sequence"], third);
  body = Json(inspector->Serve(Get(absl::StrCat("/ui/api/events?after=", third))));
  EXPECT_TRUE(body["events"].empty());
  EXPECT_EQ(body["head"], third);
}

TEST_F(InspectorTest, AnswersAreBoundedToTheNewestEventsAndClippedBodies) {
  InspectorLimits limits;
  limits.max_events = 3;
  limits.max_body_bytes = 8;
  for (int i = 0; i < 5; ++i) Append(std::string(20, 'x'));
  std::unique_ptr<Inspector> inspector = Make("", limits);
  for (const char* path : {"/ui/api/events", "/ui/api/events?after=0"}) {
    nlohmann::json body = Json(inspector->Serve(Get(path)));
    ASSERT_EQ(body["events"].size(), 3u) << path;
    EXPECT_EQ(body["events"][0]["sequence"], 3);
    EXPECT_EQ(body["events"][2]["sequence"], 5);
    EXPECT_EQ(body["events"][0]["body"], "xxxxxxxx");
    EXPECT_EQ(body["events"][0]["body_bytes"], 20);
    EXPECT_EQ(body["events"][0]["body_truncated"], true);
  }
}

TEST_F(InspectorTest, BodiesAndHeadersAreJsonEscapedAndBadUtf8Replaced) {
  const std::string hostile = "</script><img src=x onerror=alert(1)>\"\\\n\x01";
  Append(hostile + "\xff\xfe", {{"x-evil", "\"<b>"}});
  std::unique_ptr<Inspector> inspector = Make("");
  HttpReply reply = inspector->Serve(Get("/ui/api/events"));
  ASSERT_EQ(reply.status, 200);
  // Raw control characters never reach the wire; the document parses back
  // to the same text, with the invalid bytes as U+FFFD.
  EXPECT_FALSE(absl::StrContains(reply.body, "\n"));
  EXPECT_FALSE(absl::StrContains(reply.body, "\x01"));
  nlohmann::json event = Json(reply)["events"][0];
  EXPECT_EQ(event["body"], hostile + "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(event["headers"]["x-evil"], "\"<b>");
}

TEST_F(InspectorTest, BadAfterIs400) {
  std::unique_ptr<Inspector> inspector = Make("");
  for (const char* path : {"/ui/api/events?after=x", "/ui/api/events?after=-1"}) {
    HttpReply reply = inspector->Serve(Get(path));
    EXPECT_EQ(reply.status, 400) << path;
    EXPECT_EQ(Json(reply)["error"], "bad_request");
  }
}

TEST_F(InspectorTest, GroupsShowLagPendingAndDeadLetters) {
  for (int i = 0; i < 4; ++i) Append("{}");
  JoinRequest request;
  request.group = "billing";
  request.start = StreamPosition::Earliest();
  request.max_delivery_attempts = 5;
  MemberSettings settings;
  settings.client_id = "worker-1";
  settings.max_outstanding = 100;
  settings.max_batch = 100;
  settings.max_batch_bytes = 1 << 20;
  settings.ack_deadline = absl::Seconds(30);
  absl::StatusOr<JoinedGroup> joined = core_.groups->Join(request, settings, absl::Now());
  ASSERT_TRUE(joined.ok()) << joined.status();

  std::unique_ptr<Inspector> inspector = Make("");
  nlohmann::json body = Json(inspector->Serve(Get("/ui/api/groups")));
  ASSERT_EQ(body["groups"].size(), 1u);
  nlohmann::json group = body["groups"][0];
  EXPECT_EQ(group["name"], "billing");
  EXPECT_EQ(group["lag"], 4);
  EXPECT_EQ(group["pending"], 0);
  EXPECT_EQ(group["dead_letters"], 0);
  EXPECT_EQ(group["head_sequence"], 4);
  ASSERT_EQ(group["consumers"].size(), 1u);
  EXPECT_EQ(group["consumers"][0]["client_id"], "worker-1");
  EXPECT_EQ(body["more"], false);

  // Delivered, not acked: lag becomes pending.
  OutgoingBatch batch;
  ASSERT_TRUE(joined->feed->Pull(absl::Now(), &batch).ok());
  group = Json(inspector->Serve(Get("/ui/api/groups")))["groups"][0];
  EXPECT_EQ(group["lag"], 0);
  EXPECT_EQ(group["pending"], 4);
}

TEST_F(InspectorTest, WithoutATokenEverythingIsOpen) {
  std::unique_ptr<Inspector> inspector = Make("");
  EXPECT_EQ(inspector->Serve(Get("/ui")).status, 200);
  EXPECT_EQ(inspector->Serve(Get("/ui/api/groups")).status, 200);
}

TEST_F(InspectorTest, TheTokenIsNeededAsBearerOrOnThePageAsAQueryParameter) {
  std::unique_ptr<Inspector> inspector = Make(kToken);
  const std::string bearer = absl::StrCat("Bearer ", kToken);
  EXPECT_EQ(inspector->Serve(Get("/ui/api/events", bearer)).status, 200);
  EXPECT_EQ(inspector->Serve(Get("/ui/api/groups", absl::StrCat("bearer ", kToken))).status, 200);
  EXPECT_EQ(inspector->Serve(Get("/ui", bearer)).status, 200);
  EXPECT_EQ(inspector->Serve(Get(absl::StrCat("/ui?token=", kToken))).status, 200);

  const AdminRequest refused[] = {
      Get("/ui"),
      Get("/ui?token=wrong-token-0123456789"),
      Get("/ui/api/events"),
      Get("/ui/api/groups", "Bearer wrong-token-0123456789"),
      Get("/ui/api/groups", absl::StrCat("Basic ", kToken)),
      Get("/ui/api/groups", absl::StrCat("Bearer ", kToken, "x")),
      // The query parameter opens the page only; the API wants the header.
      Get(absl::StrCat("/ui/api/events?token=", kToken)),
  };
  for (const AdminRequest& request : refused) {
    HttpReply reply = inspector->Serve(request);
    EXPECT_EQ(reply.status, 401) << request.path << " " << request.authorization;
    EXPECT_EQ(Json(reply)["error"], "unauthenticated");
    EXPECT_FALSE(absl::StrContains(reply.body, kToken));
  }
  // The script and style sheet hold no data and load without the token.
  EXPECT_EQ(inspector->Serve(Get("/ui/inspector.js")).status, 200);
  EXPECT_EQ(inspector->Serve(Get("/ui/inspector.css")).status, 200);
}

TEST_F(InspectorTest, EveryAnswerCarriesTheSecurityHeaders) {
  std::unique_ptr<Inspector> inspector = Make(kToken);
  const std::string bearer = absl::StrCat("Bearer ", kToken);
  for (const AdminRequest& request :
       {Get("/ui", bearer), Get("/ui/inspector.js"), Get("/ui/api/events", bearer),
        Get("/ui/api/groups"), Get("/ui/nothing", bearer)}) {
    HttpReply reply = inspector->Serve(request);
    EXPECT_EQ(Header(reply, "Cache-Control"), "no-store") << request.path;
    EXPECT_EQ(Header(reply, "X-Content-Type-Options"), "nosniff") << request.path;
    EXPECT_EQ(Header(reply, "Referrer-Policy"), "no-referrer") << request.path;
    const std::string csp = Header(reply, "Content-Security-Policy");
    EXPECT_TRUE(absl::StartsWith(csp, "default-src 'self';")) << csp;
    EXPECT_FALSE(absl::StrContains(csp, "unsafe-inline")) << csp;
  }
}

TEST_F(InspectorTest, AssetsHaveTheirContentTypes) {
  std::unique_ptr<Inspector> inspector = Make("");
  EXPECT_EQ(inspector->Serve(Get("/ui")).content_type, "text/html; charset=utf-8");
  EXPECT_EQ(inspector->Serve(Get("/ui/inspector.js")).content_type,
            "text/javascript; charset=utf-8");
  EXPECT_EQ(inspector->Serve(Get("/ui/inspector.css")).content_type, "text/css; charset=utf-8");
  HttpReply missing = inspector->Serve(Get("/ui/other.js"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Json(missing)["error"], "not_found");
}

// The page loads nothing from elsewhere, runs no inline script, and puts
// data into the document only as text.
TEST(InspectorAssetsTest, ThePageIsSelfContainedAndWritesTextOnly) {
  const InspectorAsset* page = FindInspectorAsset("/ui");
  const InspectorAsset* script = FindInspectorAsset("/ui/inspector.js");
  ASSERT_NE(page, nullptr);
  ASSERT_NE(script, nullptr);
  ASSERT_NE(FindInspectorAsset("/ui/inspector.css"), nullptr);
  for (const InspectorAsset* asset : {page, script}) {
    EXPECT_FALSE(absl::StrContains(asset->body, "http://")) << asset->path;
    EXPECT_FALSE(absl::StrContains(asset->body, "https://")) << asset->path;
  }
  EXPECT_TRUE(absl::StrContains(page->body, R"(<script src="/ui/inspector.js")"));
  EXPECT_FALSE(absl::StrContains(page->body, "<script>"));
  EXPECT_FALSE(absl::StrContains(page->body, "style="));
  for (const char* sink :
       {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("}) {
    EXPECT_FALSE(absl::StrContains(script->body, sink)) << sink;
  }
  EXPECT_TRUE(absl::StrContains(script->body, "textContent"));
}

}  // namespace
}  // namespace refir::bridge
