// What the bridge files a webhook under, end to end on the real binary
// (issue 17): JSON numbers keep their exact text in dedup keys and typed
// ids; every spelling of an event name is one type.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& content) {
  const std::string path = absl::StrCat(dir, "/", name);
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << content;
  return path;
}

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

}  // namespace
}  // namespace refir::bridge::testing
