// Retry backoff (SubscribeInit.retry_policy), end to end on the real bridge
// binary: redelivery gaps that double and stay capped, expired deadlines
// backing off, validation, the fixed-at-creation rule, GetConsumerGroup and
// ListConsumerGroups showing the policy, and a restart forgetting a pending
// backoff. Times are measured and asserted with tolerances; the test waits
// on deliveries, never sleeps.
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::HasSubstr;

// A redelivery may be measured a little early (the server's timer and the
// test's clock are read at different points) and, on a busy machine, late.
constexpr absl::Duration kEarly = absl::Milliseconds(100);
constexpr absl::Duration kLate = absl::Milliseconds(800);

void SetDuration(absl::Duration duration, google::protobuf::Duration* out) {
  out->set_seconds(absl::ToInt64Seconds(duration));
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(duration % absl::Seconds(1))));
}

v1::SubscribeInit BackoffInit(const std::string& group, absl::Duration minimum,
                              absl::Duration maximum) {
  v1::SubscribeInit init = GroupInit(group);
  SetDuration(minimum, init.mutable_retry_policy()->mutable_minimum_backoff());
  SetDuration(maximum, init.mutable_retry_policy()->mutable_maximum_backoff());
  return init;
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

v1::Nack Retry(const std::string& ack_id) {
  v1::Nack nack;
  nack.set_ack_id(ack_id);
  nack.set_action(v1::Nack::RETRY);
  return nack;
}

class RetryBackoffE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = MakeTempDir();
    bridge_ = std::make_unique<BridgeProcess>(data_dir_);
    ASSERT_TRUE(bridge_->Start().ok());
    stub_ = MakeStub(bridge_->grpc_target());
  }

  // Opens `init` and expects the stream to be refused with `code`, with a
  // message containing `message`.
  void ExpectRefused(const v1::SubscribeInit& init, absl::StatusCode code,
                     const std::string& message) {
    GroupStream stream(*stub_);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
    ASSERT_FALSE(confirm.ok()) << init.ShortDebugString();
    EXPECT_EQ(confirm.status().code(), code) << confirm.status();
    EXPECT_THAT(std::string(confirm.status().message()), HasSubstr(message));
  }

  std::string data_dir_;
  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<v1::EventStream::Stub> stub_;
  std::vector<std::unique_ptr<v1::EventStream::Stub>> retired_stubs_;
};

TEST_F(RetryBackoffE2ETest, NackedEventComesBackAfterDoublingGapsThatStayCapped) {
  constexpr absl::Duration kMinimum = absl::Milliseconds(300);
  constexpr absl::Duration kMaximum = absl::Milliseconds(1200);
  v1::SubscribeInit init = BackoffInit("backoff", kMinimum, kMaximum);
  init.set_max_delivery_attempts(10);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();

  v1::ConsumerGroup described;
  ASSERT_TRUE(GetGroup(*stub_, "backoff", &described).ok());
  ASSERT_TRUE(described.has_retry_policy());
  EXPECT_EQ(FromProto(described.retry_policy().minimum_backoff()), kMinimum);
  EXPECT_EQ(FromProto(described.retry_policy().maximum_backoff()), kMaximum);

  const uint64_t sequence = PostEvent(bridge_->http_port());
  std::vector<ReceivedDelivery> delivered = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(delivered.size(), 1u);
  // Expected gaps: 300, 600, 1200 ms, then capped at 1200 ms.
  const std::vector<absl::Duration> expected = {kMinimum, 2 * kMinimum, kMaximum, kMaximum,
                                                kMaximum};
  std::vector<absl::Duration> gaps;
  for (size_t i = 0; i < expected.size(); ++i) {
    const absl::Time nacked_at = absl::Now();
    ASSERT_TRUE(stream.Nack({Retry(delivered[0].ack_id())}));
    delivered = stream.ReadDeliveries(1, absl::Seconds(10));
    ASSERT_EQ(delivered.size(), 1u) << "redelivery " << i + 1 << " never came";
    EXPECT_EQ(delivered[0].sequence(), sequence);
    EXPECT_EQ(delivered[0].attempt(), static_cast<int>(i) + 2);
    gaps.push_back(delivered[0].received_at - nacked_at);
    std::optional<v1::SettleResult> nacked = stream.WaitForSettleResult(absl::Seconds(5));
    ASSERT_TRUE(nacked.has_value());
    EXPECT_EQ(nacked->nacked(), 1);
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_GE(gaps[i], expected[i] - kEarly)
        << "redelivery " << i + 1 << " after " << absl::FormatDuration(gaps[i]);
    EXPECT_LE(gaps[i], expected[i] + kLate)
        << "redelivery " << i + 1 << " after " << absl::FormatDuration(gaps[i]);
  }
  std::optional<v1::SettleResult> acked = stream.AckAndWait({delivered[0].ack_id()});
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 1);
}

TEST_F(RetryBackoffE2ETest, ExpiredAckDeadlineBacksOffAndExplicitDelayOverrides) {
  v1::SubscribeInit init = BackoffInit("deadline", absl::Seconds(1), absl::Seconds(1));
  init.set_ack_deadline_seconds(1);
  GroupStream stream(*stub_);
  ASSERT_TRUE(stream.Open(init).ok());
  PostEvent(bridge_->http_port());
  std::vector<ReceivedDelivery> first = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(first.size(), 1u);
  // Not acked: the 1 s deadline passes, then the 1 s backoff.
  std::vector<ReceivedDelivery> second = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempt(), 2);
  const absl::Duration gap = second[0].received_at - first[0].received_at;
  EXPECT_GE(gap, absl::Seconds(2) - kEarly) << absl::FormatDuration(gap);
  EXPECT_LE(gap, absl::Seconds(2) + kLate) << absl::FormatDuration(gap);

  // A nack with an explicit delay of 0 is redelivered at once.
  v1::Nack now = Retry(second[0].ack_id());
  now.mutable_delay();
  const absl::Time nacked_at = absl::Now();
  ASSERT_TRUE(stream.Nack({now}));
  std::vector<ReceivedDelivery> third = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].attempt(), 3);
  EXPECT_LT(third[0].received_at - nacked_at, absl::Seconds(1) - kEarly);
  std::optional<v1::SettleResult> nacked = stream.WaitForSettleResult(absl::Seconds(5));
  ASSERT_TRUE(nacked.has_value());
  EXPECT_EQ(nacked->nacked(), 1);
  std::optional<v1::SettleResult> acked = stream.AckAndWait({third[0].ack_id()});
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 1);
}

TEST_F(RetryBackoffE2ETest, OutOfRangePoliciesAreInvalidArgumentNamingFieldAndLimit) {
  ExpectRefused(BackoffInit("v1", absl::Microseconds(500), absl::Seconds(1)),
                absl::StatusCode::kInvalidArgument,
                "init.retry_policy.minimum_backoff must be between 1ms and 1h");
  ExpectRefused(BackoffInit("v2", absl::Seconds(1), absl::Hours(2)),
                absl::StatusCode::kInvalidArgument,
                "init.retry_policy.maximum_backoff must be between 1ms and 1h");
  ExpectRefused(BackoffInit("v3", absl::Seconds(2), absl::Seconds(1)),
                absl::StatusCode::kInvalidArgument,
                "init.retry_policy.minimum_backoff (2s) must not exceed "
                "init.retry_policy.maximum_backoff (1s)");
  v1::SubscribeInit half = GroupInit("v4");
  SetDuration(absl::Seconds(1), half.mutable_retry_policy()->mutable_minimum_backoff());
  ExpectRefused(half, absl::StatusCode::kInvalidArgument,
                "init.retry_policy.maximum_backoff must be between 1ms and 1h, got 0");
  v1::SubscribeInit malformed = BackoffInit("v5", absl::Seconds(1), absl::Seconds(2));
  malformed.mutable_retry_policy()->mutable_minimum_backoff()->set_nanos(-5);
  ExpectRefused(malformed, absl::StatusCode::kInvalidArgument,
                "init.retry_policy.minimum_backoff is not a valid Duration");

  // Ephemeral streams: the same validation, and a valid policy needs a group.
  v1::SubscribeInit ephemeral = BackoffInit("", absl::Hours(2), absl::Hours(3));
  ExpectRefused(ephemeral, absl::StatusCode::kInvalidArgument,
                "init.retry_policy.minimum_backoff must be between 1ms and 1h");
  ExpectRefused(BackoffInit("", absl::Seconds(1), absl::Seconds(2)),
                absl::StatusCode::kInvalidArgument, "init.retry_policy needs a consumer_group");

  // No group was created by any of these.
  v1::ListConsumerGroupsRequest request;
  v1::ListConsumerGroupsResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ListConsumerGroups(&context, request, &response).ok());
  EXPECT_EQ(response.groups_size(), 0);
}

TEST_F(RetryBackoffE2ETest, PolicyIsFixedWhenTheGroupIsCreated) {
  const v1::SubscribeInit init = BackoffInit("fixed", absl::Seconds(1), absl::Seconds(10));
  GroupStream creator(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> created = creator.Open(init);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->group_created());

  GroupStream same(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> joined = same.Open(init);
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_FALSE(joined->group_created());
  ASSERT_TRUE(joined->has_retry_policy()) << "the confirm shows the group's policy";
  EXPECT_EQ(FromProto(joined->retry_policy().minimum_backoff()), absl::Seconds(1));
  EXPECT_EQ(FromProto(joined->retry_policy().maximum_backoff()), absl::Seconds(10));

  ExpectRefused(BackoffInit("fixed", absl::Seconds(1), absl::Seconds(20)),
                absl::StatusCode::kFailedPrecondition, "exists with retry_policy");
  ExpectRefused(GroupInit("fixed"), absl::StatusCode::kFailedPrecondition,
                "this init asks for none");
  // A group without a policy refuses a join that brings one.
  GroupStream plain(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> plain_confirm = plain.Open(GroupInit("plain"));
  ASSERT_TRUE(plain_confirm.ok()) << plain_confirm.status();
  EXPECT_FALSE(plain_confirm->has_retry_policy());
  ExpectRefused(BackoffInit("plain", absl::Seconds(1), absl::Seconds(2)),
                absl::StatusCode::kFailedPrecondition, "exists with retry_policy none");

  v1::ListConsumerGroupsRequest request;
  v1::ListConsumerGroupsResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ListConsumerGroups(&context, request, &response).ok());
  ASSERT_EQ(response.groups_size(), 2);
  EXPECT_EQ(response.groups(0).name(), "fixed");
  ASSERT_TRUE(response.groups(0).has_retry_policy());
  EXPECT_EQ(FromProto(response.groups(0).retry_policy().maximum_backoff()), absl::Seconds(10));
  EXPECT_EQ(response.groups(1).name(), "plain");
  EXPECT_FALSE(response.groups(1).has_retry_policy());
}

TEST_F(RetryBackoffE2ETest, RestartKeepsThePolicyAndForgetsPendingBackoff) {
  const v1::SubscribeInit init = BackoffInit("restart", absl::Hours(1), absl::Hours(1));
  {
    GroupStream stream(*stub_);
    ASSERT_TRUE(stream.Open(init).ok());
    PostEvent(bridge_->http_port());
    std::vector<ReceivedDelivery> first = stream.ReadDeliveries(1, absl::Seconds(10));
    ASSERT_EQ(first.size(), 1u);
    ASSERT_TRUE(stream.Nack({Retry(first[0].ack_id())}));
    std::optional<v1::SettleResult> nacked = stream.WaitForSettleResult(absl::Seconds(5));
    ASSERT_TRUE(nacked.has_value());
    EXPECT_EQ(nacked->nacked(), 1);
    EXPECT_TRUE(stream.NoDeliveryFor(absl::Milliseconds(300))) << "backing off for an hour";
    stream.Close();
  }
  absl::StatusOr<int> exit_code = bridge_->Stop();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  bridge_ = std::make_unique<BridgeProcess>(data_dir_);
  ASSERT_TRUE(bridge_->Start().ok());
  retired_stubs_.push_back(std::move(stub_));
  stub_ = MakeStub(bridge_->grpc_target());

  v1::ConsumerGroup described;
  ASSERT_TRUE(GetGroup(*stub_, "restart", &described).ok());
  ASSERT_TRUE(described.has_retry_policy()) << "persisted with the group";
  EXPECT_EQ(FromProto(described.retry_policy().minimum_backoff()), absl::Hours(1));

  GroupStream stream(*stub_);
  ASSERT_TRUE(stream.Open(init).ok());
  std::vector<ReceivedDelivery> again = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(again.size(), 1u) << "the pending backoff is forgotten: due at once";
  EXPECT_EQ(again[0].attempt(), 2);
}

}  // namespace
}  // namespace refir::bridge::testing
