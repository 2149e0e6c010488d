// Unit tests of the consumer-group state machine, with a fake journal and a
// controlled clock (times are passed in).
#include "bridge/delivery/consumer_group.h"

#include <set>

#include "absl/time/time.h"
#include "bridge/delivery/ack_id.h"
#include "gtest/gtest.h"
#include "tests/common/fake_journal.h"

namespace refir::bridge {
namespace {

using ::refir::bridge::testing::FakeJournal;

class ConsumerGroupTest : public ::testing::Test {
 protected:
  std::unique_ptr<ConsumerGroup> MakeGroup(std::vector<std::string> filter = {},
                                           int max_attempts = 3, uint64_t cursor = 1) {
    internal::GroupState state;
    state.set_name("g");
    state.set_max_delivery_attempts(max_attempts);
    state.set_cursor(cursor);
    return std::make_unique<ConsumerGroup>(state, *EventFilter::Create(filter), &journal_,
                                           /*epoch=*/7, now_);
  }
  MemberSettings Settings(int window = 100, int batch = 100) {
    MemberSettings settings;
    settings.client_id = "c";
    settings.max_outstanding = window;
    settings.max_batch = batch;
    settings.max_batch_bytes = 2 * 1024 * 1024;
    settings.ack_deadline = absl::Seconds(10);
    return settings;
  }
  static std::vector<uint64_t> Sequences(const std::vector<v1::Delivery>& deliveries) {
    std::vector<uint64_t> out;
    for (const v1::Delivery& d : deliveries) out.push_back(d.event().sequence());
    return out;
  }
  // One Pull, decoded from the wire bytes the stream would send.
  static absl::StatusOr<std::vector<v1::Delivery>> Pull(ConsumerGroup& group, StreamId stream,
                                                        absl::Time now) {
    OutgoingBatch batch;
    if (absl::Status pulled = group.Pull(stream, now, &batch); !pulled.ok()) return pulled;
    return batch.ToDeliveriesForTesting();
  }
  v1::SettleResult Ack(ConsumerGroup& group, StreamId stream, std::vector<std::string> ids) {
    v1::Settle settle;
    for (const std::string& id : ids) settle.add_ack_ids(id);
    v1::SettleResult result;
    group.Settle(stream, settle, now_, &result);
    return result;
  }

  FakeJournal journal_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(ConsumerGroupTest, DeliversInSequenceOrderWithinTheWindow) {
  for (int i = 0; i < 10; ++i) journal_.Add("refir.user.added");
  auto group = MakeGroup();
  StreamId stream = group->Attach(Settings(/*window=*/4));
  auto first = Pull(*group, stream, now_);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Sequences(*first), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(Pull(*group, stream, now_)->empty()) << "window is full";
  EXPECT_EQ(Ack(*group, stream, {(*first)[0].ack_id(), (*first)[1].ack_id()}).acked(), 2);
  EXPECT_EQ(Sequences(*Pull(*group, stream, now_)), (std::vector<uint64_t>{5, 6}));
}

TEST_F(ConsumerGroupTest, CompetingMembersNeverGetTheSameEvent) {
  for (int i = 0; i < 10; ++i) journal_.Add("t");
  auto group = MakeGroup();
  StreamId a = group->Attach(Settings(3));
  StreamId b = group->Attach(Settings(3));
  std::set<uint64_t> seen;
  for (StreamId s : {a, b, a, b}) {
    for (uint64_t seq : Sequences(*Pull(*group, s, now_))) EXPECT_TRUE(seen.insert(seq).second);
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST_F(ConsumerGroupTest, ReadyMembersShareTheBacklogFairly) {
  for (int i = 0; i < 8; ++i) journal_.Add("t");
  auto group = MakeGroup();
  StreamId a = group->Attach(Settings(100));
  StreamId b = group->Attach(Settings(100));
  EXPECT_EQ(Pull(*group, a, now_)->size(), 4u) << "half of the backlog, not all of it";
  EXPECT_FALSE(Pull(*group, b, now_)->empty());
  const size_t total = 8 - 4;
  size_t drained = 0;
  for (int i = 0; i < 8 && drained < total; ++i) {
    drained += Pull(*group, i % 2 == 0 ? a : b, now_)->size();
  }
  v1::ConsumerGroup described;
  group->Describe(now_, &described);
  EXPECT_EQ(described.cursor_sequence(), 9u) << "alternating pulls drain the backlog";
}

TEST_F(ConsumerGroupTest, ExpiredLeaseIsRedeliveredWithNextAttemptAndOldAckExpires) {
  journal_.Add("t");
  auto group = MakeGroup();
  StreamId stream = group->Attach(Settings());
  auto first = *Pull(*group, stream, now_);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].delivery_attempt(), 1);
  now_ += absl::Seconds(11);
  auto second = *Pull(*group, stream, now_);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].delivery_attempt(), 2);
  EXPECT_NE(second[0].ack_id(), first[0].ack_id());
  v1::SettleResult late = Ack(*group, stream, {first[0].ack_id()});
  EXPECT_EQ(late.acked(), 0);
  ASSERT_EQ(late.expired_ack_ids_size(), 1);
  EXPECT_EQ(Ack(*group, stream, {second[0].ack_id()}).acked(), 1);
}

TEST_F(ConsumerGroupTest, LowestNeededSequenceCoversCursorPendingAndDeadLetters) {
  for (int i = 0; i < 5; ++i) journal_.Add("t");
  auto group = MakeGroup({}, /*max_attempts=*/1, /*cursor=*/2);
  EXPECT_EQ(group->LowestNeededSequence(), 2u) << "the cursor";
  StreamId stream = group->Attach(Settings(/*window=*/2));
  auto first = *Pull(*group, stream, now_);
  ASSERT_EQ(Sequences(first), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(group->LowestNeededSequence(), 2u) << "2 and 3 pending";
  EXPECT_EQ(Ack(*group, stream, {first[0].ack_id()}).acked(), 1);
  EXPECT_EQ(group->LowestNeededSequence(), 3u) << "3 still pending";
  // A nack with one attempt allowed dead-letters 3: still needed.
  v1::Settle settle;
  settle.add_nacks()->set_ack_id(first[1].ack_id());
  v1::SettleResult result;
  group->Settle(stream, settle, now_, &result);
  EXPECT_EQ(group->LowestNeededSequence(), 3u) << "3 dead-lettered, not yet checkpointed";
  group->TakeCheckpoint();
  EXPECT_EQ(group->LowestNeededSequence(), 4u) << "the store keeps the dead letter now";
}

TEST_F(ConsumerGroupTest, RetryWithDelayWaitsThenDeadLettersAfterMaxAttempts) {
  journal_.Add("t");
  auto group = MakeGroup({}, /*max_attempts=*/2);
  StreamId stream = group->Attach(Settings());
  auto first = *Pull(*group, stream, now_);
  v1::Settle settle;
  v1::Nack* nack = settle.add_nacks();
  nack->set_ack_id(first[0].ack_id());
  nack->set_action(v1::Nack::RETRY);
  nack->mutable_delay()->set_seconds(5);
  v1::SettleResult result;
  group->Settle(stream, settle, now_, &result);
  EXPECT_EQ(result.nacked(), 1);
  EXPECT_TRUE(Pull(*group, stream, now_ + absl::Seconds(4))->empty());
  EXPECT_EQ(group->NextWait(stream, now_).deadline, now_ + absl::Seconds(5));
  auto second = *Pull(*group, stream, now_ + absl::Seconds(5));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].delivery_attempt(), 2);

  v1::Settle again;
  again.add_nacks()->set_ack_id(second[0].ack_id());
  group->Settle(stream, again, now_, &result);
  GroupCheckpoint checkpoint = group->TakeCheckpoint();
  ASSERT_EQ(checkpoint.added_dead_letters.size(), 1u);
  EXPECT_EQ(checkpoint.added_dead_letters[0].sequence(), 1u);
  EXPECT_EQ(checkpoint.added_dead_letters[0].delivery_attempts(), 2);
  EXPECT_EQ(checkpoint.state.unsettled_sequences_size(), 0);
  EXPECT_TRUE(Pull(*group, stream, now_ + absl::Hours(1))->empty());

  group->Requeue({1}, now_);
  auto requeued = *Pull(*group, stream, now_);
  ASSERT_EQ(requeued.size(), 1u);
  EXPECT_EQ(requeued[0].delivery_attempt(), 1);
  EXPECT_EQ(group->TakeCheckpoint().removed_dead_letters, (std::vector<uint64_t>{1}));
}

TEST_F(ConsumerGroupTest, FilterSkipsNonMatchingEvents) {
  journal_.Add("refir.user.added");
  journal_.Add("refir.referral.created");
  journal_.Add("other");
  journal_.Add("refir.referral.created");
  auto group = MakeGroup({"refir.referral.*"});
  StreamId stream = group->Attach(Settings());
  EXPECT_EQ(Sequences(*Pull(*group, stream, now_)), (std::vector<uint64_t>{2, 4}));
  v1::ConsumerGroup described;
  group->Describe(now_, &described);
  EXPECT_EQ(described.cursor_sequence(), 5u);
  EXPECT_EQ(described.pending(), 2u);
}

TEST_F(ConsumerGroupTest, DetachDeadLettersOutstandingWithNoAttemptsLeft) {
  for (int i = 0; i < 3; ++i) journal_.Add("t");
  auto group = MakeGroup({}, /*max_attempts=*/1);
  StreamId a = group->Attach(Settings());
  ASSERT_EQ(Pull(*group, a, now_)->size(), 3u);
  // Each lease is dead-lettered (erased) while Detach walks the group.
  group->Detach(a, now_);
  GroupCheckpoint checkpoint = group->TakeCheckpoint();
  ASSERT_EQ(checkpoint.added_dead_letters.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(checkpoint.added_dead_letters[i].sequence(), i + 1);
  }
  EXPECT_EQ(checkpoint.state.unsettled_sequences_size(), 0);
}

TEST_F(ConsumerGroupTest, DetachMakesOutstandingDueForAnotherMember) {
  for (int i = 0; i < 3; ++i) journal_.Add("t");
  auto group = MakeGroup();
  StreamId a = group->Attach(Settings());
  size_t taken = Pull(*group, a, now_)->size();
  ASSERT_EQ(taken, 3u);
  StreamId b = group->Attach(Settings());
  group->Detach(a, now_);
  auto redelivered = *Pull(*group, b, now_);
  EXPECT_EQ(Sequences(redelivered), (std::vector<uint64_t>{1, 2, 3}));
  for (const v1::Delivery& d : redelivered) EXPECT_EQ(d.delivery_attempt(), 2);
}

TEST_F(ConsumerGroupTest, CheckpointRoundTripRedeliversUnsettledAfterRestart) {
  for (int i = 0; i < 5; ++i) journal_.Add("t");
  auto group = MakeGroup();
  StreamId stream = group->Attach(Settings());
  auto deliveries = *Pull(*group, stream, now_);
  Ack(*group, stream, {deliveries[0].ack_id(), deliveries[2].ack_id()});
  GroupCheckpoint checkpoint = group->TakeCheckpoint();
  EXPECT_EQ(checkpoint.state.cursor(), 6u);

  ConsumerGroup restarted(checkpoint.state, *EventFilter::Create({}), &journal_, /*epoch=*/8, now_);
  StreamId again = restarted.Attach(Settings());
  auto redelivered = *Pull(restarted, again, now_);
  EXPECT_EQ(Sequences(redelivered), (std::vector<uint64_t>{2, 4, 5}));
  for (const v1::Delivery& d : redelivered) EXPECT_EQ(d.delivery_attempt(), 2);
  // Ack ids from before the restart are expired, not accepted.
  v1::SettleResult stale;
  v1::Settle settle;
  settle.add_ack_ids(deliveries[1].ack_id());
  restarted.Settle(again, settle, now_, &stale);
  EXPECT_EQ(stale.expired_ack_ids_size(), 1);
}

TEST_F(ConsumerGroupTest, ExtendPushesTheDeadline) {
  journal_.Add("t");
  auto group = MakeGroup();
  StreamId stream = group->Attach(Settings());
  auto first = *Pull(*group, stream, now_);
  v1::ExtendDeadline extend;
  extend.add_ack_ids(first[0].ack_id());
  extend.set_seconds(60);
  v1::SettleResult result;
  group->Extend(stream, extend, now_, &result);
  EXPECT_EQ(result.extended(), 1);
  EXPECT_TRUE(Pull(*group, stream, now_ + absl::Seconds(30))->empty());
  EXPECT_EQ(Ack(*group, stream, {first[0].ack_id()}).acked(), 1);
}

TEST_F(ConsumerGroupTest, UnknownAndMalformedAckIdsAreReported) {
  journal_.Add("t");
  auto group = MakeGroup();
  StreamId stream = group->Attach(Settings());
  v1::SettleResult result = Ack(*group, stream, {"garbage", AckId{7, 99, 1}.Encode()});
  EXPECT_EQ(result.unknown_ack_ids_size(), 2);
}

TEST_F(ConsumerGroupTest, SeekBackwardsReplaysAndForgetsOutstanding) {
  for (int i = 0; i < 3; ++i) journal_.Add("t");
  auto group = MakeGroup();
  StreamId stream = group->Attach(Settings());
  auto first = *Pull(*group, stream, now_);
  group->Seek(2);
  EXPECT_EQ(Ack(*group, stream, {first[0].ack_id()}).expired_ack_ids_size(), 1);
  EXPECT_EQ(Sequences(*Pull(*group, stream, now_)), (std::vector<uint64_t>{2, 3}));
}

TEST(EventFilterTest, ExactPrefixAndWildcard) {
  auto filter = EventFilter::Create({"refir.referral.*", "refir.user.added"});
  ASSERT_TRUE(filter.ok());
  EXPECT_TRUE(filter->Matches("refir.referral.created"));
  EXPECT_TRUE(filter->Matches("refir.user.added"));
  EXPECT_FALSE(filter->Matches("refir.user.removed"));
  EXPECT_FALSE(filter->Matches("refir.referral"));
  EXPECT_TRUE(EventFilter::Create({})->Matches("anything"));
  EXPECT_TRUE(EventFilter::Create({"*"})->Matches("anything"));
  EXPECT_FALSE(EventFilter::Create({"re*fir"}).ok());
  EXPECT_FALSE(EventFilter::Create({""}).ok());
  EXPECT_EQ(*EventFilter::Create({"b", "a", "a"}), *EventFilter::Create({"a", "b"}));
}

TEST(AckIdTest, RoundTripsAndRejectsGarbage) {
  AckId id{0xdeadbeef, 12345, 3};
  std::optional<AckId> decoded = AckId::Decode(id.Encode());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->epoch, id.epoch);
  EXPECT_EQ(decoded->sequence, id.sequence);
  EXPECT_EQ(decoded->delivery, id.delivery);
  EXPECT_FALSE(AckId::Decode("").has_value());
  EXPECT_FALSE(AckId::Decode("deadbeef-0-1").has_value());
  EXPECT_FALSE(AckId::Decode("xyz-1-1").has_value());
}

}  // namespace
}  // namespace refir::bridge
