// Unit tests of retry backoff: the delay computation, policy validation, and
// a consumer group's redelivery timing with a controlled clock (times are
// passed in; nothing sleeps).
#include <optional>

#include "absl/time/time.h"
#include "bridge/delivery/consumer_group.h"
#include "bridge/delivery/retry_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/fake_journal.h"

namespace refir::bridge {
namespace {

using ::refir::bridge::testing::FakeJournal;
using ::testing::HasSubstr;

RetryPolicy Policy(absl::Duration minimum, absl::Duration maximum) {
  RetryPolicy policy;
  policy.minimum_backoff = minimum;
  policy.maximum_backoff = maximum;
  return policy;
}

TEST(BackoffDelayTest, DoublesPerRedeliveryUpToTheCap) {
  const RetryPolicy policy = Policy(absl::Milliseconds(100), absl::Seconds(1));
  EXPECT_EQ(BackoffDelay(policy, 1), absl::Milliseconds(100));
  EXPECT_EQ(BackoffDelay(policy, 2), absl::Milliseconds(200));
  EXPECT_EQ(BackoffDelay(policy, 3), absl::Milliseconds(400));
  EXPECT_EQ(BackoffDelay(policy, 4), absl::Milliseconds(800));
  EXPECT_EQ(BackoffDelay(policy, 5), absl::Seconds(1)) << "1600 ms capped";
  EXPECT_EQ(BackoffDelay(policy, 6), absl::Seconds(1));
}

TEST(BackoffDelayTest, NeverOverflowsAndTreatsSmallCountsAsTheFirst) {
  const RetryPolicy policy = Policy(absl::Milliseconds(1), absl::Hours(1));
  EXPECT_EQ(BackoffDelay(policy, 0), absl::Milliseconds(1));
  EXPECT_EQ(BackoffDelay(policy, -5), absl::Milliseconds(1));
  EXPECT_EQ(BackoffDelay(policy, 100), absl::Hours(1));
  EXPECT_EQ(BackoffDelay(policy, 1 << 30), absl::Hours(1));
}

TEST(BackoffDelayTest, EqualBoundsGiveAConstantDelay) {
  const RetryPolicy policy = Policy(absl::Seconds(2), absl::Seconds(2));
  for (int n = 1; n < 10; ++n) EXPECT_EQ(BackoffDelay(policy, n), absl::Seconds(2));
}

TEST(ValidateRetryPolicyTest, AcceptsTheBoundsAndRefusesOutsideThem) {
  EXPECT_TRUE(ValidateRetryPolicy(Policy(absl::Milliseconds(1), absl::Hours(1)), "p").ok());
  EXPECT_TRUE(ValidateRetryPolicy(Policy(absl::Seconds(1), absl::Seconds(1)), "p").ok());

  absl::Status too_small =
      ValidateRetryPolicy(Policy(absl::Microseconds(999), absl::Seconds(1)), "init.retry_policy");
  EXPECT_EQ(too_small.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_small.message()),
              HasSubstr("init.retry_policy.minimum_backoff must be between 1ms and 1h"));

  absl::Status too_large = ValidateRetryPolicy(
      Policy(absl::Seconds(1), absl::Hours(1) + absl::Nanoseconds(1)), "init.retry_policy");
  EXPECT_EQ(too_large.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_large.message()),
              HasSubstr("init.retry_policy.maximum_backoff must be between 1ms and 1h"));

  absl::Status unset = ValidateRetryPolicy(Policy(absl::ZeroDuration(), absl::Seconds(1)), "p");
  EXPECT_THAT(std::string(unset.message()), HasSubstr("got 0"));

  absl::Status inverted =
      ValidateRetryPolicy(Policy(absl::Seconds(2), absl::Seconds(1)), "init.retry_policy");
  EXPECT_EQ(inverted.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(inverted.message()),
              HasSubstr("init.retry_policy.minimum_backoff (2s) must not exceed "
                        "init.retry_policy.maximum_backoff (1s)"));
}

TEST(RetryPolicyStateTest, RoundTripsExactlyAndAbsentMeansNone) {
  internal::GroupState state;
  EXPECT_FALSE(RetryPolicyFromState(state).has_value());
  const RetryPolicy policy = Policy(absl::Nanoseconds(1500001), absl::Seconds(3));
  RetryPolicyToState(policy, &state);
  EXPECT_EQ(RetryPolicyFromState(state), std::optional<RetryPolicy>(policy));
  RetryPolicyToState(std::nullopt, &state);
  EXPECT_FALSE(state.has_retry_policy());
}

class GroupBackoffTest : public ::testing::Test {
 protected:
  std::unique_ptr<ConsumerGroup> MakeGroup(std::optional<RetryPolicy> policy, int max_attempts) {
    internal::GroupState state;
    state.set_name("g");
    state.set_max_delivery_attempts(max_attempts);
    state.set_cursor(1);
    RetryPolicyToState(policy, &state);
    return std::make_unique<ConsumerGroup>(state, *EventFilter::Create({}), &journal_,
                                           /*epoch=*/7, now_);
  }
  MemberSettings Settings() {
    MemberSettings settings;
    settings.client_id = "c";
    settings.max_outstanding = 100;
    settings.max_batch = 100;
    settings.max_batch_bytes = 2 * 1024 * 1024;
    settings.ack_deadline = absl::Seconds(10);
    return settings;
  }
  std::vector<v1::Delivery> Pull(ConsumerGroup& group, StreamId stream, absl::Time now) {
    OutgoingBatch batch;
    EXPECT_TRUE(group.Pull(stream, now, &batch).ok());
    return *batch.ToDeliveriesForTesting();
  }
  void Nack(ConsumerGroup& group, StreamId stream, const std::string& ack_id, absl::Time now,
            std::optional<absl::Duration> delay = std::nullopt) {
    v1::Settle settle;
    v1::Nack* nack = settle.add_nacks();
    nack->set_ack_id(ack_id);
    nack->set_action(v1::Nack::RETRY);
    if (delay.has_value()) {
      nack->mutable_delay()->set_seconds(absl::ToInt64Seconds(*delay));
    }
    v1::SettleResult result;
    group.Settle(stream, settle, now, &result);
    ASSERT_EQ(result.nacked(), 1);
  }
  // Nacks the event on every delivery; returns the gap before each
  // redelivery, found by asking for the stream's next wake-up and checking
  // that nothing comes a microsecond before it.
  std::vector<absl::Duration> NackedGaps(ConsumerGroup& group, int redeliveries) {
    StreamId stream = group.Attach(Settings());
    std::vector<v1::Delivery> delivered = Pull(group, stream, now_);
    EXPECT_EQ(delivered.size(), 1u);
    std::vector<absl::Duration> gaps;
    for (int i = 0; i < redeliveries && delivered.size() == 1; ++i) {
      Nack(group, stream, delivered[0].ack_id(), now_);
      const absl::Time due = group.NextWait(stream, now_).deadline;
      EXPECT_TRUE(Pull(group, stream, due - absl::Microseconds(1)).empty()) << "early at " << i;
      delivered = Pull(group, stream, due);
      EXPECT_EQ(delivered.size(), 1u) << "not due at " << i;
      if (delivered.size() != 1) break;
      EXPECT_EQ(delivered[0].delivery_attempt(), i + 2);
      gaps.push_back(due - now_);
      now_ = due;
    }
    return gaps;
  }

  FakeJournal journal_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(GroupBackoffTest, NacksWithoutDelayWaitDoublingUpToTheCap) {
  journal_.Add("t");
  auto group = MakeGroup(Policy(absl::Seconds(1), absl::Seconds(5)), /*max_attempts=*/10);
  EXPECT_EQ(NackedGaps(*group, 6),
            (std::vector<absl::Duration>{absl::Seconds(1), absl::Seconds(2), absl::Seconds(4),
                                         absl::Seconds(5), absl::Seconds(5), absl::Seconds(5)}));
}

TEST_F(GroupBackoffTest, WithoutAPolicyNacksAreDueAtOnce) {
  journal_.Add("t");
  auto group = MakeGroup(std::nullopt, /*max_attempts=*/10);
  StreamId stream = group->Attach(Settings());
  auto first = Pull(*group, stream, now_);
  ASSERT_EQ(first.size(), 1u);
  Nack(*group, stream, first[0].ack_id(), now_);
  auto again = Pull(*group, stream, now_);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].delivery_attempt(), 2);
}

TEST_F(GroupBackoffTest, AnExplicitDelayOverridesThePolicy) {
  journal_.Add("t");
  auto group = MakeGroup(Policy(absl::Seconds(10), absl::Seconds(60)), /*max_attempts=*/10);
  StreamId stream = group->Attach(Settings());
  auto first = Pull(*group, stream, now_);
  Nack(*group, stream, first[0].ack_id(), now_, absl::ZeroDuration());
  EXPECT_EQ(Pull(*group, stream, now_).size(), 1u) << "delay 0 set explicitly: at once";
}

TEST_F(GroupBackoffTest, ExpiredDeadlinesBackOffToo) {
  journal_.Add("t");
  auto group = MakeGroup(Policy(absl::Seconds(3), absl::Seconds(4)), /*max_attempts=*/10);
  StreamId stream = group->Attach(Settings());
  ASSERT_EQ(Pull(*group, stream, now_).size(), 1u);
  // The lease (10 s) expires; the first redelivery waits 3 s more.
  const absl::Time expiry = now_ + absl::Seconds(10);
  EXPECT_TRUE(Pull(*group, stream, expiry).empty());
  EXPECT_EQ(group->NextWait(stream, expiry).deadline, expiry + absl::Seconds(3));
  EXPECT_TRUE(Pull(*group, stream, expiry + absl::Seconds(3) - absl::Microseconds(1)).empty());
  auto second = Pull(*group, stream, expiry + absl::Seconds(3));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].delivery_attempt(), 2);
  // Second expiry: 3 s doubled is capped at 4 s.
  const absl::Time expiry2 = expiry + absl::Seconds(13);
  EXPECT_TRUE(Pull(*group, stream, expiry2).empty());
  EXPECT_TRUE(Pull(*group, stream, expiry2 + absl::Seconds(4) - absl::Microseconds(1)).empty());
  EXPECT_EQ(Pull(*group, stream, expiry2 + absl::Seconds(4)).size(), 1u);
}

TEST_F(GroupBackoffTest, BackoffRunsFromTheDeadlineEvenWhenNoticedLate) {
  journal_.Add("t");
  auto group = MakeGroup(Policy(absl::Seconds(3), absl::Seconds(3)), /*max_attempts=*/10);
  StreamId stream = group->Attach(Settings());
  ASSERT_EQ(Pull(*group, stream, now_).size(), 1u);
  const absl::Time expiry = now_ + absl::Seconds(10);
  // First looked at 2 s after the deadline: due 1 s later, not 3 s.
  EXPECT_TRUE(Pull(*group, stream, expiry + absl::Seconds(2)).empty());
  EXPECT_EQ(group->NextWait(stream, expiry + absl::Seconds(2)).deadline, expiry + absl::Seconds(3));
  EXPECT_EQ(Pull(*group, stream, expiry + absl::Seconds(3)).size(), 1u);
}

TEST_F(GroupBackoffTest, BackoffDoesNotHoldUpOtherEvents) {
  journal_.Add("t");
  auto group = MakeGroup(Policy(absl::Minutes(1), absl::Minutes(1)), /*max_attempts=*/10);
  StreamId stream = group->Attach(Settings());
  auto first = Pull(*group, stream, now_);
  Nack(*group, stream, first[0].ack_id(), now_);
  journal_.Add("t");
  auto next = Pull(*group, stream, now_);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].event().sequence(), 2u);
}

TEST_F(GroupBackoffTest, PolicyIsDescribedAndCheckpointedButPendingBackoffIsNot) {
  journal_.Add("t");
  const RetryPolicy policy = Policy(absl::Milliseconds(1500), absl::Minutes(2));
  auto group = MakeGroup(policy, /*max_attempts=*/10);
  v1::ConsumerGroup described;
  group->Describe(now_, &described);
  ASSERT_TRUE(described.has_retry_policy());
  EXPECT_EQ(described.retry_policy().minimum_backoff().seconds(), 1);
  EXPECT_EQ(described.retry_policy().minimum_backoff().nanos(), 500000000);
  EXPECT_EQ(described.retry_policy().maximum_backoff().seconds(), 120);

  StreamId stream = group->Attach(Settings());
  auto first = Pull(*group, stream, now_);
  Nack(*group, stream, first[0].ack_id(), now_);
  GroupCheckpoint checkpoint = group->TakeCheckpoint();
  EXPECT_EQ(RetryPolicyFromState(checkpoint.state), std::optional<RetryPolicy>(policy));

  // After a restart the backed-off event is due at once (documented).
  ConsumerGroup restarted(checkpoint.state, *EventFilter::Create({}), &journal_, /*epoch=*/8, now_);
  EXPECT_EQ(restarted.retry_policy(), std::optional<RetryPolicy>(policy));
  StreamId again = restarted.Attach(Settings());
  EXPECT_EQ(Pull(restarted, again, now_).size(), 1u);

  auto plain = MakeGroup(std::nullopt, 5);
  v1::ConsumerGroup plain_described;
  plain->Describe(now_, &plain_described);
  EXPECT_FALSE(plain_described.has_retry_policy());
}

TEST_F(GroupBackoffTest, DeadLettersAfterMaxAttemptsWithoutWaiting) {
  journal_.Add("t");
  auto group = MakeGroup(Policy(absl::Seconds(1), absl::Seconds(1)), /*max_attempts=*/2);
  StreamId stream = group->Attach(Settings());
  auto first = Pull(*group, stream, now_);
  Nack(*group, stream, first[0].ack_id(), now_);
  now_ += absl::Seconds(1);
  auto second = Pull(*group, stream, now_);
  ASSERT_EQ(second.size(), 1u);
  Nack(*group, stream, second[0].ack_id(), now_);
  GroupCheckpoint checkpoint = group->TakeCheckpoint();
  ASSERT_EQ(checkpoint.added_dead_letters.size(), 1u);
  EXPECT_EQ(checkpoint.added_dead_letters[0].delivery_attempts(), 2);
  EXPECT_EQ(checkpoint.state.unsettled_sequences_size(), 0);
}

}  // namespace
}  // namespace refir::bridge
