// Unit tests of a consumer group's per-key ordering and idle expiry, with a
// fake journal and a controlled clock (times are passed in).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bridge/common/proto_time.h"
#include "bridge/delivery/consumer_group.h"
#include "gtest/gtest.h"
#include "tests/common/fake_journal.h"

namespace refir::bridge {
namespace {

using ::refir::bridge::testing::FakeJournal;

class OrderingTest : public ::testing::Test {
 protected:
  internal::GroupState State(bool ordered, int max_attempts = 3) {
    internal::GroupState state;
    state.set_name("g");
    state.set_max_delivery_attempts(max_attempts);
    state.set_cursor(1);
    state.set_enable_ordering(ordered);
    state.set_created_at_unix_micros(absl::ToUnixMicros(now_));
    return state;
  }
  std::unique_ptr<ConsumerGroup> MakeGroup(internal::GroupState state) {
    return std::make_unique<ConsumerGroup>(std::move(state), *EventFilter::Create({}), &journal_,
                                           /*epoch=*/7, now_);
  }
  MemberSettings Settings(int window = 100) {
    MemberSettings settings;
    settings.client_id = "c";
    settings.max_outstanding = window;
    settings.max_batch = 100;
    settings.max_batch_bytes = 2 * 1024 * 1024;
    settings.ack_deadline = absl::Seconds(10);
    settings.connected_at = now_;
    return settings;
  }
  // Sequence -> ack id of one Pull.
  std::map<uint64_t, std::string> Pull(ConsumerGroup& group, StreamId stream) {
    OutgoingBatch batch;
    EXPECT_TRUE(group.Pull(stream, now_, &batch).ok());
    std::map<uint64_t, std::string> out;
    absl::StatusOr<std::vector<v1::Delivery>> deliveries = batch.ToDeliveriesForTesting();
    EXPECT_TRUE(deliveries.ok()) << deliveries.status();
    if (!deliveries.ok()) return out;
    for (const v1::Delivery& d : *deliveries) {
      out[d.event().sequence()] = d.ack_id();
    }
    return out;
  }
  static std::vector<uint64_t> Keys(const std::map<uint64_t, std::string>& pulled) {
    std::vector<uint64_t> out;
    for (const auto& [sequence, ack_id] : pulled) out.push_back(sequence);
    return out;
  }
  void Ack(ConsumerGroup& group, StreamId stream, const std::string& ack_id) {
    v1::Settle settle;
    settle.add_ack_ids(ack_id);
    v1::SettleResult result;
    group.Settle(stream, settle, now_, &result);
    EXPECT_EQ(result.acked(), 1);
  }
  void Nack(ConsumerGroup& group, StreamId stream, const std::string& ack_id,
            v1::Nack::Action action = v1::Nack::RETRY) {
    v1::Settle settle;
    v1::Nack* nack = settle.add_nacks();
    nack->set_ack_id(ack_id);
    nack->set_action(action);
    v1::SettleResult result;
    group.Settle(stream, settle, now_, &result);
    EXPECT_EQ(result.nacked(), 1);
  }

  FakeJournal journal_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(OrderingTest, DeliversOneEventPerKeyAtATimeInSequenceOrder) {
  journal_.Add("t", "A");  // 1
  journal_.Add("t", "B");  // 2
  journal_.Add("t", "A");  // 3
  journal_.Add("t", "");   // 4: no key, never held
  journal_.Add("t", "A");  // 5
  journal_.Add("t", "B");  // 6
  auto group = MakeGroup(State(/*ordered=*/true));
  StreamId stream = group->Attach(Settings());
  auto first = Pull(*group, stream);
  EXPECT_EQ(Keys(first), (std::vector<uint64_t>{1, 2, 4}));
  EXPECT_TRUE(Pull(*group, stream).empty()) << "3, 5 wait for 1; 6 waits for 2";
  v1::ConsumerGroup described;
  group->Describe(now_, &described);
  EXPECT_EQ(described.pending(), 6u) << "held events count as pending";
  EXPECT_EQ(described.cursor_sequence(), 7u);
  EXPECT_TRUE(described.enable_ordering());

  Ack(*group, stream, first[4]);
  EXPECT_TRUE(Pull(*group, stream).empty()) << "an event without a key releases nothing";
  Ack(*group, stream, first[2]);
  EXPECT_EQ(Keys(Pull(*group, stream)), (std::vector<uint64_t>{6}));
  Ack(*group, stream, first[1]);
  auto three = Pull(*group, stream);
  EXPECT_EQ(Keys(three), (std::vector<uint64_t>{3})) << "5 waits for 3";
  Ack(*group, stream, three[3]);
  EXPECT_EQ(Keys(Pull(*group, stream)), (std::vector<uint64_t>{5}));
}

TEST_F(OrderingTest, TheNextEventOfAKeyFollowsTheAckOfThePrevious) {
  for (int i = 0; i < 4; ++i) journal_.Add("t", "lead-1");
  auto group = MakeGroup(State(/*ordered=*/true));
  StreamId stream = group->Attach(Settings());
  for (uint64_t expected = 1; expected <= 4; ++expected) {
    auto pulled = Pull(*group, stream);
    ASSERT_EQ(Keys(pulled), (std::vector<uint64_t>{expected}));
    EXPECT_TRUE(Pull(*group, stream).empty());
    Ack(*group, stream, pulled[expected]);
  }
  v1::ConsumerGroup described;
  group->Describe(now_, &described);
  EXPECT_EQ(described.pending(), 0u);
}

TEST_F(OrderingTest, AnUnorderedGroupDeliversEveryKeyAtOnce) {
  for (int i = 0; i < 4; ++i) journal_.Add("t", "lead-1");
  auto group = MakeGroup(State(/*ordered=*/false));
  StreamId stream = group->Attach(Settings());
  EXPECT_EQ(Keys(Pull(*group, stream)), (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST_F(OrderingTest, RedeliveriesKeepTheOrderAndADeadLetterReleasesTheKey) {
  journal_.Add("t", "A");
  journal_.Add("t", "A");
  auto group = MakeGroup(State(/*ordered=*/true, /*max_attempts=*/3));
  StreamId stream = group->Attach(Settings());
  auto first = Pull(*group, stream);
  ASSERT_EQ(Keys(first), (std::vector<uint64_t>{1}));
  Nack(*group, stream, first[1]);
  auto second = Pull(*group, stream);
  ASSERT_EQ(Keys(second), (std::vector<uint64_t>{1})) << "the retry, not 2";
  // An expired ack deadline is a failed attempt too; 2 still waits.
  now_ += absl::Seconds(11);
  auto third = Pull(*group, stream);
  ASSERT_EQ(Keys(third), (std::vector<uint64_t>{1}));
  // The third failure dead-letters 1, and 2 becomes due.
  Nack(*group, stream, third[1]);
  auto next = Pull(*group, stream);
  EXPECT_EQ(Keys(next), (std::vector<uint64_t>{2}));
  ASSERT_EQ(group->TakeCheckpoint().added_dead_letters.size(), 1u);
}

TEST_F(OrderingTest, ADeadLetterNackReleasesTheKeyAtOnce) {
  journal_.Add("t", "A");
  journal_.Add("t", "A");
  auto group = MakeGroup(State(/*ordered=*/true));
  StreamId stream = group->Attach(Settings());
  auto first = Pull(*group, stream);
  Nack(*group, stream, first[1], v1::Nack::DEAD_LETTER);
  EXPECT_EQ(Keys(Pull(*group, stream)), (std::vector<uint64_t>{2}));
}

TEST_F(OrderingTest, CompetingMembersNeverWorkOnOneKeyAtTheSameTime) {
  journal_.Add("t", "A");  // 1
  journal_.Add("t", "A");  // 2
  journal_.Add("t", "B");  // 3
  auto group = MakeGroup(State(/*ordered=*/true));
  StreamId a = group->Attach(Settings(/*window=*/1));
  StreamId b = group->Attach(Settings(/*window=*/1));
  auto to_a = Pull(*group, a);
  EXPECT_EQ(Keys(to_a), (std::vector<uint64_t>{1}));
  EXPECT_EQ(Keys(Pull(*group, b)), (std::vector<uint64_t>{3})) << "2 waits for 1 on a";
  Ack(*group, a, to_a[1]);
  EXPECT_EQ(Keys(Pull(*group, a)), (std::vector<uint64_t>{2}));
}

TEST_F(OrderingTest, ADetachedMembersLeaseGoesBackFirstAndOthersAreWoken) {
  journal_.Add("t", "A");
  journal_.Add("t", "A");
  auto group = MakeGroup(State(/*ordered=*/true));
  StreamId a = group->Attach(Settings());
  StreamId b = group->Attach(Settings());
  ASSERT_EQ(Keys(Pull(*group, a)), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(Pull(*group, b).empty());
  group->Detach(a, now_);
  EXPECT_EQ(Keys(Pull(*group, b)), (std::vector<uint64_t>{1})) << "1 again, before 2";
}

TEST_F(OrderingTest, OrderHoldsAcrossARestart) {
  journal_.Add("t", "A");  // 1
  journal_.Add("t", "B");  // 2
  journal_.Add("t", "A");  // 3
  auto group = MakeGroup(State(/*ordered=*/true));
  StreamId stream = group->Attach(Settings());
  ASSERT_EQ(Keys(Pull(*group, stream)), (std::vector<uint64_t>{1, 2}));
  internal::GroupState saved = group->TakeCheckpoint().state;
  EXPECT_EQ(saved.unsettled_sequences_size(), 3) << "1 and 2 leased, 3 held";

  // A restart: every unsettled event is due again, keys unknown.
  auto restarted = MakeGroup(saved);
  StreamId again = restarted->Attach(Settings());
  auto pulled = Pull(*restarted, again);
  EXPECT_EQ(Keys(pulled), (std::vector<uint64_t>{1, 2})) << "3 still waits for 1";
  Ack(*restarted, again, pulled[1]);
  EXPECT_EQ(Keys(Pull(*restarted, again)), (std::vector<uint64_t>{3}));
}

TEST_F(OrderingTest, ARequeuedDeadLetterWaitsBehindItsKeysEventInFlight) {
  journal_.Add("t", "A");  // 1
  journal_.Add("t", "A");  // 2
  auto group = MakeGroup(State(/*ordered=*/true));
  StreamId stream = group->Attach(Settings());
  auto first = Pull(*group, stream);
  Nack(*group, stream, first[1], v1::Nack::DEAD_LETTER);
  auto second = Pull(*group, stream);
  ASSERT_EQ(Keys(second), (std::vector<uint64_t>{2}));
  group->TakeCheckpoint();
  group->Requeue({1}, now_);
  EXPECT_TRUE(Pull(*group, stream).empty()) << "1 waits: 2 of its key is in flight";
  Ack(*group, stream, second[2]);
  EXPECT_EQ(Keys(Pull(*group, stream)), (std::vector<uint64_t>{1}));
}

TEST_F(OrderingTest, ASeekForgetsHeldEvents) {
  journal_.Add("t", "A");
  journal_.Add("t", "A");
  journal_.Add("t", "A");
  auto group = MakeGroup(State(/*ordered=*/true));
  StreamId stream = group->Attach(Settings());
  ASSERT_EQ(Keys(Pull(*group, stream)), (std::vector<uint64_t>{1}));
  group->Seek(2);
  auto pulled = Pull(*group, stream);
  EXPECT_EQ(Keys(pulled), (std::vector<uint64_t>{2})) << "order again from the new position";
  Ack(*group, stream, pulled[2]);
  EXPECT_EQ(Keys(Pull(*group, stream)), (std::vector<uint64_t>{3}));
}

TEST_F(OrderingTest, OneBusyKeyHoldsABoundedNumberOfEventsInMemory) {
  const uint64_t total = ConsumerGroup::kMaxHeldEvents + 5000;
  for (uint64_t i = 0; i < total; ++i) journal_.Add("t", "hot");
  auto group = MakeGroup(State(/*ordered=*/true));
  StreamId stream = group->Attach(Settings());
  auto first = Pull(*group, stream);
  ASSERT_EQ(Keys(first), (std::vector<uint64_t>{1}));
  v1::ConsumerGroup described;
  uint64_t cursor = 0;
  do {  // pull until the group stops reading
    group->Describe(now_, &described);
    cursor = described.cursor_sequence();
    EXPECT_TRUE(Pull(*group, stream).empty());
    group->Describe(now_, &described);
  } while (described.cursor_sequence() != cursor);
  EXPECT_LT(described.cursor_sequence(), total) << "the rest waits in the journal";
  EXPECT_GE(described.pending(), ConsumerGroup::kMaxHeldEvents);
  EXPECT_LE(described.pending(), ConsumerGroup::kMaxHeldEvents + 1000);
  // Each ack lets the next event of the key out; once fewer than the limit
  // are held, reading resumes.
  std::string ack_id = first[1];
  for (uint64_t next = 2; next < 2000 && described.cursor_sequence() == cursor; ++next) {
    Ack(*group, stream, ack_id);
    auto pulled = Pull(*group, stream);
    ASSERT_EQ(Keys(pulled), (std::vector<uint64_t>{next}));
    ack_id = pulled[next];
    group->Describe(now_, &described);
  }
  EXPECT_GT(described.cursor_sequence(), cursor);
}

class IdleExpiryTest : public OrderingTest {};

TEST_F(IdleExpiryTest, ExpiresOnlyAfterTheIdleTimeWithNoStream) {
  internal::GroupState state = State(/*ordered=*/false);
  state.set_idle_expiry_nanos(absl::ToInt64Nanoseconds(absl::Minutes(30)));
  auto group = MakeGroup(state);
  EXPECT_FALSE(group->IdleExpired(now_ + absl::Minutes(29)));
  EXPECT_TRUE(group->IdleExpired(now_ + absl::Minutes(30))) << "never attached since created";

  StreamId stream = group->Attach(Settings());
  EXPECT_FALSE(group->IdleExpired(now_ + absl::Hours(5))) << "a stream is attached";
  v1::ConsumerGroup described;
  group->Describe(now_ + absl::Hours(5), &described);
  EXPECT_EQ(FromProtoTimestamp(described.last_attached_at()), now_ + absl::Hours(5));
  EXPECT_FALSE(described.has_expires_at());
  EXPECT_EQ(FromProtoDuration(described.idle_expiry()), absl::Minutes(30));

  const absl::Time left = now_ + absl::Hours(6);
  group->Detach(stream, left);
  EXPECT_FALSE(group->IdleExpired(left + absl::Minutes(29)));
  EXPECT_TRUE(group->IdleExpired(left + absl::Minutes(30)));
  group->Describe(left, &described);
  EXPECT_EQ(FromProtoTimestamp(described.expires_at()), left + absl::Minutes(30));
  EXPECT_EQ(FromProtoTimestamp(described.last_attached_at()), left);
}

TEST_F(IdleExpiryTest, WithoutAnIdleExpiryAGroupNeverExpires) {
  auto group = MakeGroup(State(/*ordered=*/false));
  EXPECT_FALSE(group->IdleExpired(now_ + absl::Hours(24 * 365 * 10)));
}

TEST_F(IdleExpiryTest, TheIdleClockSurvivesARestartWithAGraceForConsumers) {
  internal::GroupState state = State(/*ordered=*/false);
  state.set_idle_expiry_nanos(absl::ToInt64Nanoseconds(absl::Hours(1)));
  auto group = MakeGroup(state);
  StreamId stream = group->Attach(Settings());
  group->Detach(stream, now_ + absl::Minutes(1));
  internal::GroupState saved = group->TakeCheckpoint().state;
  EXPECT_EQ(saved.last_attached_unix_micros(), absl::ToUnixMicros(now_ + absl::Minutes(1)));

  // Restarted 20 minutes later: 40 minutes of idle time left.
  now_ += absl::Minutes(21);
  auto restarted = MakeGroup(saved);
  EXPECT_FALSE(restarted->IdleExpired(now_ + absl::Minutes(39)));
  EXPECT_TRUE(restarted->IdleExpired(now_ + absl::Minutes(40)));

  // Restarted after the hour ran out while the bridge was down: 10 more
  // minutes for a consumer to come back.
  now_ += absl::Hours(5);
  auto late = MakeGroup(saved);
  EXPECT_FALSE(late->IdleExpired(now_ + absl::Minutes(9)));
  EXPECT_TRUE(late->IdleExpired(now_ + absl::Minutes(10)));
}

TEST_F(IdleExpiryTest, AcksAreRecordedForTheLastAckTime) {
  journal_.Add("t");
  auto group = MakeGroup(State(/*ordered=*/false));
  StreamId stream = group->Attach(Settings());
  v1::ConsumerGroup described;
  group->Describe(now_, &described);
  EXPECT_FALSE(described.has_last_acked_at());
  auto pulled = Pull(*group, stream);
  now_ += absl::Seconds(3);
  Ack(*group, stream, pulled[1]);
  group->Describe(now_, &described);
  EXPECT_EQ(FromProtoTimestamp(described.last_acked_at()), now_);
  EXPECT_EQ(group->TakeCheckpoint().state.last_acked_unix_micros(), absl::ToUnixMicros(now_));
}

}  // namespace
}  // namespace refir::bridge
