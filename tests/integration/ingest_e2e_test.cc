// What the bridge files a webhook under, end to end on the real binary
// (issue 17): JSON numbers keep their exact text in dedup keys and typed
// ids; every spelling of an event name is one type; with invalid_body keep,
// bodies that are not a JSON object are stored byte-exact as
// "<source>.unparsed" and reach the groups whose filter matches.
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

// A group created at the earliest event with `types` as its filter.
v1::SubscribeInit EarliestGroup(const std::string& name, const std::vector<std::string>& types) {
  v1::SubscribeInit init = GroupInit(name);
  init.mutable_start()->mutable_earliest();
  for (const std::string& type : types) init.mutable_filter()->add_types(type);
  return init;
}

// Issue 17: with dedup by a JSON field, two ids beyond 2^64 were rounded to
// one double: the second webhook was answered "duplicate" and never stored.
TEST(IngestE2ETest, NumbersBeyond64BitsAreDistinctDedupKeysAndExactIds) {
  const std::string dir = MakeTempDir();
  const std::string sources = WriteFile(dir, "sources.json", R"({"sources": [
    {"name": "refir", "path": "/webhook",
     "dedup": {"by": "json_field", "json_field": "/lead/id", "window_seconds": 600}}]})");
  BridgeProcess bridge(dir + "/data", {"--sources_file=" + sources});
  ASSERT_TRUE(bridge.Start().ok());

  const std::string first = R"({"event": "user_added", "lead": {"id": 18446744073709551617}})";
  const std::string second = R"({"event": "user_added", "lead": {"id": 18446744073709551629}})";
  HttpResult a = PostWebhook(bridge.http_port(), first);
  ASSERT_EQ(a.status, 200) << a.body;
  HttpResult b = PostWebhook(bridge.http_port(), second);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_FALSE(b.json.contains("duplicate")) << b.body;
  EXPECT_NE(a.json["sequence"], b.json["sequence"]);
  // A real resend is still a duplicate.
  HttpResult again = PostWebhook(bridge.http_port(), first);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["duplicate"], true);
  EXPECT_EQ(again.json["sequence"], a.json["sequence"]);
  // Other spellings are other keys (the rule is the text as sent).
  HttpResult spelled =
      PostWebhook(bridge.http_port(), R"({"lead": {"id": 1.8446744073709552e19}})");
  ASSERT_EQ(spelled.status, 200) << spelled.body;
  EXPECT_FALSE(spelled.json.contains("duplicate")) << spelled.body;

  auto stub = MakeStub(bridge.grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].refir().lead().id(), "18446744073709551617");
  EXPECT_EQ(events[1].refir().lead().id(), "18446744073709551629");
  EXPECT_EQ(events[2].refir().lead().id(), "1.8446744073709552e19");
  EXPECT_EQ(events[0].body(), first);
  EXPECT_EQ(events[1].body(), second);
}

// Numbers beyond a double's range are valid JSON (RFC 8259 sets no limit):
// accepted, their text kept.
TEST(IngestE2ETest, NumbersBeyondADoublesRangeAreAcceptedExactly) {
  BridgeProcess bridge(MakeTempDir());
  ASSERT_TRUE(bridge.Start().ok());
  const std::string digits(400, '9');
  for (const std::string& number : {std::string("1e400"), std::string("-1e400"), digits}) {
    HttpResult posted =
        PostWebhook(bridge.http_port(), absl::StrCat(R"({"lead": {"id": )", number, "}}"));
    ASSERT_EQ(posted.status, 200) << number << ": " << posted.body;
  }
  auto stub = MakeStub(bridge.grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].refir().lead().id(), "1e400");
  EXPECT_EQ(events[1].refir().lead().id(), "-1e400");
  EXPECT_EQ(events[2].refir().lead().id(), digits);
}

// Issue 17: userAdded and user_added were filed under two types, so a group
// filtering one missed the other.
TEST(IngestE2ETest, EverySpellingOfAnEventNameIsOneType) {
  BridgeProcess bridge(MakeTempDir());
  ASSERT_TRUE(bridge.Start().ok());
  const std::vector<std::string> spellings = {"userAdded",  "UserAdded",  "user-added",
                                              "user added", "USER_ADDED", "user_added"};
  for (const std::string& spelling : spellings) {
    HttpResult posted = PostWebhook(bridge.http_port(),
                                    absl::StrCat(R"({"event": ")", spelling, R"(", "lead": "l"})"));
    ASSERT_EQ(posted.status, 200) << spelling << ": " << posted.body;
  }
  auto stub = MakeStub(bridge.grpc_target());
  GroupStream stream(*stub);
  ASSERT_TRUE(stream.Open(EarliestGroup("user-added", {"refir.user.added"})).ok());
  std::vector<ReceivedDelivery> got = stream.ReadDeliveries(spellings.size(), absl::Seconds(10));
  ASSERT_EQ(got.size(), spellings.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const v1::Event& event = got[i].delivery.event();
    EXPECT_EQ(event.type(), "refir.user.added");
    EXPECT_EQ(event.refir().event_type(), spellings[i]) << "the name as sent is kept";
  }
}

constexpr char kToken[] = "t0k3n-for-unparsed";

// "raw" keeps what it cannot parse, "strict" (the default) refuses it,
// "signed" keeps it but verifies first.
std::string UnparsedSources(const std::string& token_file) {
  return absl::StrCat(R"({"sources": [
    {"name": "raw", "path": "/hooks/raw", "invalid_body": "keep",
     "dedup": {"by": "json_field", "json_field": "/id", "window_seconds": 600}},
    {"name": "strict", "path": "/hooks/strict"},
    {"name": "signed", "path": "/hooks/signed", "invalid_body": "keep",
     "verification": {"kind": "token", "token_header": "X-Token",
                      "secrets": [{"file": ")",
                      token_file, R"("}]}}]})");
}

// The value of the sample `name` in a /metrics text; -1 when absent.
double Sample(const std::string& metrics, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || !absl::ConsumePrefix(&line, " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return value;
  }
  return -1;
}

class UnparsedE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = MakeTempDir();
    const std::string token = WriteFile(dir, "token", kToken);
    const std::string sources = WriteFile(dir, "sources.json", UnparsedSources(token));
    bridge_ = std::make_unique<BridgeProcess>(
        dir + "/data", std::vector<std::string>{"--sources_file=" + sources});
    ASSERT_TRUE(bridge_->Start().ok());
    stub_ = MakeStub(bridge_->grpc_target());
  }

  HttpResult Post(const std::string& path, const std::string& body,
                  const std::string& content_type = "application/json",
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return SendHttp(bridge_->http_port(), "POST", path, body, content_type, headers);
  }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<v1::EventStream::Stub> stub_;
};

struct BadBody {
  std::string what;
  std::string body;
  std::string content_type;
  int strict_status;
  std::string strict_error;
};

const std::vector<BadBody>& BadBodies() {
  static const auto* bodies = new std::vector<BadBody>{
      {"not JSON", "this is {not json", "application/json", 400, "invalid_json"},
      {"a JSON array", R"([{"event": "user_added"}])", "application/json", 400, "invalid_json"},
      {"another content type", "lead=ana&event=user_added", "application/x-www-form-urlencoded",
       415, "unsupported_media_type"},
      {"binary bytes", std::string("\x00\xff\xfe{\x01", 5), "application/octet-stream", 415,
       "unsupported_media_type"},
  };
  return *bodies;
}

TEST_F(UnparsedE2ETest, KeepStoresEachBadBodyByteExactAndGroupsReceiveIt) {
  // A group for the unparsed type, one with a prefix filter, one for a typed
  // event.
  GroupStream unparsed(*stub_);
  ASSERT_TRUE(unparsed.Open(EarliestGroup("unparsed", {"raw.unparsed"})).ok());
  GroupStream raw(*stub_);
  ASSERT_TRUE(raw.Open(EarliestGroup("raw-all", {"raw.*"})).ok());
  GroupStream users(*stub_);
  ASSERT_TRUE(users.Open(EarliestGroup("users", {"refir.user.added"})).ok());

  for (const BadBody& bad : BadBodies()) {
    HttpResult kept = Post("/hooks/raw", bad.body, bad.content_type);
    ASSERT_EQ(kept.status, 200) << bad.what << ": " << kept.body;
    EXPECT_EQ(kept.json["unparsed"], true) << bad.what;
  }
  // A JSON object on the same source is converted as ever.
  ASSERT_EQ(Post("/hooks/raw", R"({"event": "user_added", "lead": "l"})").status, 200);

  std::vector<ReceivedDelivery> got =
      unparsed.ReadDeliveries(BadBodies().size(), absl::Seconds(10));
  ASSERT_EQ(got.size(), BadBodies().size());
  for (size_t i = 0; i < got.size(); ++i) {
    const v1::Event& event = got[i].delivery.event();
    EXPECT_EQ(event.type(), "raw.unparsed") << BadBodies()[i].what;
    EXPECT_EQ(event.source(), "raw");
    EXPECT_EQ(event.body(), BadBodies()[i].body) << BadBodies()[i].what << ": byte-exact";
    EXPECT_EQ(event.content_type(), BadBodies()[i].content_type);
    EXPECT_FALSE(event.has_refir());
  }
  EXPECT_TRUE(unparsed.NoDeliveryFor(absl::Milliseconds(300))) << "the JSON object is not unparsed";
  // A prefix filter matches too; the JSON object is "refir.user.added"
  // (the source's mapping), not under "raw.".
  EXPECT_EQ(raw.ReadDeliveries(BadBodies().size(), absl::Seconds(10)).size(), BadBodies().size());
  EXPECT_TRUE(raw.NoDeliveryFor(absl::Milliseconds(300)));
  std::vector<ReceivedDelivery> user = users.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(user.size(), 1u);
  EXPECT_EQ(user[0].delivery.event().source(), "raw");
  EXPECT_TRUE(users.NoDeliveryFor(absl::Milliseconds(300)));

  const std::string metrics = SendHttp(bridge_->admin_port(), "GET", "/metrics", "").body;
  EXPECT_EQ(Sample(metrics, R"(refir_bridge_webhooks_unparsed_total{source="raw"})"),
            static_cast<double>(BadBodies().size()))
      << metrics;
  EXPECT_EQ(Sample(metrics, R"(refir_bridge_webhooks_unparsed_total{source="strict"})"), 0);
}

TEST_F(UnparsedE2ETest, RejectIsUnchanged) {
  for (const BadBody& bad : BadBodies()) {
    HttpResult refused = Post("/hooks/strict", bad.body, bad.content_type);
    EXPECT_EQ(refused.status, bad.strict_status) << bad.what << ": " << refused.body;
    EXPECT_EQ(refused.json.value("error", ""), bad.strict_error) << bad.what;
  }
  EXPECT_TRUE(ListAllEvents(*stub_).empty());
}

TEST_F(UnparsedE2ETest, VerificationAndSizeStillComeFirst) {
  HttpResult unsigned_body = Post("/hooks/signed", "not json", "text/plain");
  EXPECT_EQ(unsigned_body.status, 401) << unsigned_body.body;
  HttpResult wrong = Post("/hooks/signed", "not json", "text/plain", {{"X-Token", "wrong"}});
  EXPECT_EQ(wrong.status, 401) << wrong.body;
  HttpResult too_large = Post("/hooks/raw", std::string(2 * 1024 * 1024, 'x'), "text/plain");
  EXPECT_EQ(too_large.status, 413);
  EXPECT_TRUE(ListAllEvents(*stub_).empty());

  HttpResult signed_body = Post("/hooks/signed", "not json", "text/plain", {{"X-Token", kToken}});
  ASSERT_EQ(signed_body.status, 200) << signed_body.body;
  std::vector<v1::Event> events = ListAllEvents(*stub_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), "signed.unparsed");
  EXPECT_EQ(events[0].body(), "not json");
}

// A json_field source cannot read the field of an unparsed body: it dedups
// those by webhook-id; without one, every copy is stored.
TEST_F(UnparsedE2ETest, KeptBodiesDedupByWebhookId) {
  HttpResult first = Post("/hooks/raw", "not json", "text/plain", {{"webhook-id", "wh-raw-1"}});
  ASSERT_EQ(first.status, 200) << first.body;
  HttpResult again = Post("/hooks/raw", "not json", "text/plain", {{"webhook-id", "wh-raw-1"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json["duplicate"], true);
  EXPECT_EQ(again.json["sequence"], first.json["sequence"]);
  ASSERT_EQ(Post("/hooks/raw", "not json", "text/plain").status, 200);
  HttpResult no_id = Post("/hooks/raw", "not json", "text/plain");
  ASSERT_EQ(no_id.status, 200);
  EXPECT_FALSE(no_id.json.contains("duplicate"));
  EXPECT_EQ(ListAllEvents(*stub_).size(), 3u);
}

}  // namespace
}  // namespace refir::bridge::testing
