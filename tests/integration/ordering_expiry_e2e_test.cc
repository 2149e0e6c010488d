// Per-key ordering (Event.ordering_key, SubscribeInit.enable_ordering), idle
// expiry of consumer groups (SubscribeInit.idle_expiry, --group_idle_expiry)
// and the groups-holding-the-journal warning, end to end on the real bridge
// binary over HTTP and gRPC. Waits on deliveries, group states and metrics;
// the only fixed waits are the windows in which nothing may be delivered.
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/bridge_test.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::HasSubstr;

// How long a held event must stay undelivered for the test to believe it.
constexpr absl::Duration kQuietWindow = absl::Milliseconds(600);

// POSTs a Refir webhook about lead `lead_id` (JSON text: "\"L1\"" or a
// number); returns its sequence.
uint64_t PostForLead(int http_port, const std::string& event, const std::string& lead_id) {
  HttpResult result = PostWebhook(
      http_port, absl::StrCat(R"({"event":")", event, R"(","lead":{"id":)", lead_id, "}}"));
  EXPECT_EQ(result.status, 200) << result.body;
  return result.json.value("sequence", uint64_t{0});
}

v1::SubscribeInit OrderedInit(const std::string& group) {
  v1::SubscribeInit init = GroupInit(group);
  init.mutable_start()->mutable_earliest();
  init.set_enable_ordering(true);
  return init;
}

// The value of the metric line starting with `series` ("name{labels}"), or
// -1 when it is absent.
double MetricValue(int admin_port, const std::string& series) {
  HttpResult scraped = SendHttp(admin_port, "GET", "/metrics", "");
  for (absl::string_view line : absl::StrSplit(scraped.body, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      double value = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) return value;
    }
  }
  return -1;
}

// Polls the metric until `done` holds or `timeout` passes; returns the last value.
double WaitForMetric(int admin_port, const std::string& series,
                     const std::function<bool(double)>& done,
                     absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  double value = MetricValue(admin_port, series);
  while (!done(value) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    value = MetricValue(admin_port, series);
  }
  return value;
}

using OrderingE2ETest = BridgeTest;

TEST_F(OrderingE2ETest, OneLeadsEventsComeOneAtATimeAndOtherLeadsAreNotHeldUp) {
  const int port = bridge_->http_port();
  const uint64_t l1_added = PostForLead(port, "user_added", R"("L1")");
  const uint64_t l2_added = PostForLead(port, "user_added", R"("L2")");
  const uint64_t l1_referral = PostForLead(port, "referral_created", R"("L1")");
  const uint64_t l1_third = PostForLead(port, "referral_created", R"("L1")");

  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(OrderedInit("ordered"));
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_TRUE(confirm->enable_ordering());

  std::vector<ReceivedDelivery> first = stream.ReadDeliveries(2, absl::Seconds(10));
  ASSERT_EQ(SequencesOf(first), (std::vector<uint64_t>{l1_added, l2_added}));
  EXPECT_EQ(first[0].delivery.event().ordering_key(), "L1");
  EXPECT_EQ(first[1].delivery.event().ordering_key(), "L2");
  EXPECT_TRUE(stream.NoDeliveryFor(kQuietWindow)) << "L1's referral waits for its user_added";

  // A RETRY nack redelivers the same event, still before the next of L1.
  v1::Nack retry;
  retry.set_ack_id(first[0].ack_id());
  retry.set_action(v1::Nack::RETRY);
  ASSERT_TRUE(stream.Nack({retry}));
  std::vector<ReceivedDelivery> again = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(SequencesOf(again), (std::vector<uint64_t>{l1_added}));
  EXPECT_EQ(again[0].attempt(), 2);

  ASSERT_TRUE(stream.AckAndWait({again[0].ack_id()}).has_value());
  std::vector<ReceivedDelivery> second = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(SequencesOf(second), (std::vector<uint64_t>{l1_referral}));
  EXPECT_TRUE(stream.NoDeliveryFor(kQuietWindow));
  ASSERT_TRUE(stream.AckAndWait({second[0].ack_id()}).has_value());
  EXPECT_EQ(SequencesOf(stream.ReadDeliveries(1, absl::Seconds(10))),
            (std::vector<uint64_t>{l1_third}));

  v1::ConsumerGroup described;
  ASSERT_TRUE(GetGroup(*stub_, "ordered", &described).ok());
  EXPECT_TRUE(described.enable_ordering());
  EXPECT_TRUE(described.has_last_acked_at());
  EXPECT_TRUE(described.has_oldest_unacked_received_at()) << "L2's and L1's last are pending";

  // A group without ordering gets all four at once.
  GroupStream plain(*stub_);
  v1::SubscribeInit plain_init = GroupInit("unordered");
  plain_init.mutable_start()->mutable_earliest();
  ASSERT_TRUE(plain.Open(plain_init).ok());
  EXPECT_EQ(plain.ReadDeliveries(4, absl::Seconds(10)).size(), 4u);
}

TEST_F(OrderingE2ETest, ANumericLeadIdKeepsItsTextAsTheKey) {
  PostForLead(bridge_->http_port(), "user_added", "18446744073709551617");
  PostForLead(bridge_->http_port(), "user_added", "18446744073709551629");
  GroupStream stream(*stub_);
  ASSERT_TRUE(stream.Open(OrderedInit("numeric")).ok());
  std::vector<ReceivedDelivery> delivered = stream.ReadDeliveries(2, absl::Seconds(10));
  ASSERT_EQ(delivered.size(), 2u) << "two different ids are two keys";
  EXPECT_EQ(delivered[0].delivery.event().ordering_key(), "18446744073709551617");
  EXPECT_EQ(delivered[1].delivery.event().ordering_key(), "18446744073709551629");
}

TEST_F(OrderingE2ETest, OrderingIsFixedWhenTheGroupIsCreated) {
  GroupStream first(*stub_);
  ASSERT_TRUE(first.Open(OrderedInit("fixed")).ok());
  GroupStream unordered(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> refused = unordered.Open(GroupInit("fixed"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("enable_ordering true"));

  GroupStream ephemeral(*stub_);
  v1::SubscribeInit init;
  init.set_enable_ordering(true);
  absl::StatusOr<v1::SubscribeConfirm> no_group = ephemeral.Open(init);
  ASSERT_FALSE(no_group.ok());
  EXPECT_EQ(no_group.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_group.status().message()), HasSubstr("needs a consumer_group"));
}

TEST(OrderingKeyFromSourcesE2ETest, ASourcesJsonPointerSetsTheKey) {
  const std::string dir = MakeTempDir();
  const std::string sources = WriteFile(dir, "sources.json", R"({"sources": [
    {"name": "orders", "path": "/orders", "mapping": {"kind": "generic", "type_field": "/type"},
     "ordering_key": "/order/id"},
    {"name": "unkeyed", "path": "/unkeyed", "ordering_key": "none"}]})");
  BridgeProcess bridge(dir, {absl::StrCat("--sources_file=", sources)});
  ASSERT_TRUE(bridge.Start().ok());
  auto stub = MakeStub(bridge.grpc_target());
  ASSERT_EQ(SendHttp(bridge.http_port(), "POST", "/orders",
                     R"({"type":"order.paid","order":{"id":987654321987654321987}})")
                .status,
            200);
  ASSERT_EQ(SendHttp(bridge.http_port(), "POST", "/unkeyed",
                     R"({"event":"user_added","lead":{"id":"L"}})")
                .status,
            200);
  GroupStream stream(*stub);
  ASSERT_TRUE(stream.Open(OrderedInit("keys")).ok());
  std::vector<ReceivedDelivery> delivered = stream.ReadDeliveries(2, absl::Seconds(10));
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_EQ(delivered[0].delivery.event().ordering_key(), "987654321987654321987");
  EXPECT_EQ(delivered[1].delivery.event().ordering_key(), "") << "ordering_key none";

  // A key that is not a JSON pointer stops startup with the field named.
  const std::string bad = WriteFile(dir, "bad.json", R"({"sources": [
    {"name": "orders", "path": "/orders", "ordering_key": "order.id"}]})");
  BridgeProcess refused(MakeTempDir(), {absl::StrCat("--sources_file=", bad)});
  refused.set_stderr_file(absl::StrCat(dir, "/refused.log"));
  EXPECT_FALSE(refused.Start().ok());
  EXPECT_THAT(refused.CapturedStderr(), HasSubstr("ordering_key"));
}

TEST(IdleExpiryE2ETest, AGroupWithoutAStreamForItsIdleExpiryIsDeletedAndCounted) {
  BridgeProcess bridge(MakeTempDir(), {"--group_idle_expiry=1s"});
  ASSERT_TRUE(bridge.Start().ok());
  auto stub = MakeStub(bridge.grpc_target());

  // "never" sets 0 explicitly, "default" takes the flag's 1 s, "long" an hour.
  v1::SubscribeInit never = GroupInit("never");
  never.mutable_idle_expiry()->set_seconds(0);
  v1::SubscribeInit long_lived = GroupInit("long");
  long_lived.mutable_idle_expiry()->set_seconds(3600);
  for (const v1::SubscribeInit& init : {never, GroupInit("default"), long_lived}) {
    GroupStream stream(*stub);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
    ASSERT_TRUE(confirm.ok()) << confirm.status();
    if (init.consumer_group() == "default") {
      EXPECT_EQ(confirm->idle_expiry().seconds(), 1);
    }
    stream.Cancel();
    stream.WaitForEnd(absl::Seconds(10));
    ASSERT_TRUE(stream.ended());
  }
  // The stream's departure reaches the group a moment after the cancel.
  v1::ConsumerGroup described = WaitForGroup(
      *stub, "long", [](const v1::ConsumerGroup& group) { return group.has_expires_at(); });
  EXPECT_EQ(described.idle_expiry().seconds(), 3600);
  EXPECT_TRUE(described.has_expires_at());

  // Rejoining with another explicit idle expiry is refused.
  GroupStream other(*stub);
  v1::SubscribeInit changed = GroupInit("long");
  changed.mutable_idle_expiry()->set_seconds(60);
  absl::StatusOr<v1::SubscribeConfirm> refused = other.Open(changed);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);

  const std::string expired_total = "refir_bridge_consumer_groups_expired_total";
  EXPECT_EQ(WaitForMetric(bridge.admin_port(), expired_total, [](double v) { return v >= 1; }), 1);
  EXPECT_EQ(GetGroup(*stub, "default", &described).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(GetGroup(*stub, "never", &described).ok());
  EXPECT_TRUE(GetGroup(*stub, "long", &described).ok());

  // Out of range.
  for (int64_t seconds : {int64_t{-1}, int64_t{366} * 24 * 3600}) {
    GroupStream bad(*stub);
    v1::SubscribeInit init = GroupInit("bad");
    init.mutable_idle_expiry()->set_seconds(seconds);
    absl::StatusOr<v1::SubscribeConfirm> invalid = bad.Open(init);
    ASSERT_FALSE(invalid.ok());
    EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(invalid.status().message()), HasSubstr("idle_expiry"));
  }
}

TEST(IdleExpiryE2ETest, AStreamAttachedKeepsTheGroupAlive) {
  BridgeProcess bridge(MakeTempDir(), {"--group_idle_expiry=1s"});
  ASSERT_TRUE(bridge.Start().ok());
  auto stub = MakeStub(bridge.grpc_target());
  GroupStream attached(*stub);
  ASSERT_TRUE(attached.Open(GroupInit("attached")).ok());
  GroupStream left(*stub);
  ASSERT_TRUE(left.Open(GroupInit("left")).ok());
  left.Cancel();
  left.WaitForEnd(absl::Seconds(10));
  ASSERT_TRUE(left.ended());
  // Once "left" has expired, "attached" (same expiry, a stream on it) must not have.
  EXPECT_EQ(WaitForMetric(bridge.admin_port(), "refir_bridge_consumer_groups_expired_total",
                          [](double v) { return v >= 1; }),
            1);
  v1::ConsumerGroup described;
  ASSERT_TRUE(GetGroup(*stub, "attached", &described).ok());
  EXPECT_FALSE(described.has_expires_at());
  EXPECT_EQ(
      MetricValue(
          bridge.admin_port(),
          R"(refir_bridge_consumer_group_seconds_since_last_attach{consumer_group="attached"})"),
      0);
}

TEST(HoldingJournalE2ETest, AGroupKeepingEventsPastRetentionIsFlaggedUntilItAcks) {
  const std::string dir = MakeTempDir();
  BridgeProcess bridge(dir, {"--retention=1s", "--retention_check_interval=200ms"});
  bridge.set_stderr_file(absl::StrCat(dir, "/bridge.log"));
  ASSERT_TRUE(bridge.Start().ok());
  auto stub = MakeStub(bridge.grpc_target());
  GroupStream stream(*stub);
  ASSERT_TRUE(stream.Open(GroupInit("slow")).ok());
  PostEvent(bridge.http_port());
  std::vector<ReceivedDelivery> delivered = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(delivered.size(), 1u);

  const std::string holding =
      R"(refir_bridge_consumer_group_holding_journal{consumer_group="slow"})";
  EXPECT_EQ(WaitForMetric(bridge.admin_port(), holding, [](double v) { return v == 1; }), 1);
  v1::ConsumerGroup described =
      WaitForGroup(*stub, "slow", [](const v1::ConsumerGroup& g) { return g.holding_journal(); });
  EXPECT_TRUE(described.holding_journal());
  EXPECT_GT(MetricValue(
                bridge.admin_port(),
                R"(refir_bridge_consumer_group_oldest_unacked_age_seconds{consumer_group="slow"})"),
            0.5);
  EXPECT_THAT(bridge.CapturedStderr(), HasSubstr("holds the journal past --retention"));

  ASSERT_TRUE(stream.AckAndWait({delivered[0].ack_id()}).has_value());
  EXPECT_EQ(WaitForMetric(bridge.admin_port(), holding, [](double v) { return v == 0; }), 0);
}

}  // namespace
}  // namespace refir::bridge::testing
