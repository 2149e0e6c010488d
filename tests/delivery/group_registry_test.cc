// GroupRegistry in process, over a real SQLite journal and group store in a
// temp directory: joining, durability across a reopen, seeking, dead
// letters listed after N up to a limit, requeueing, paging the groups,
// deleting, and retention keeping what a group still needs (with a chosen
// clock, not sleeps).
#include "bridge/delivery/group_registry.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bridge/delivery/retention.h"
#include "gtest/gtest.h"
#include "tests/common/sqlite_core.h"

namespace refir::bridge::testing {
namespace {

class GroupRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(core_.Open().ok()); }

  // Joins `group` (created at the earliest event) with a fresh member.
  std::unique_ptr<StreamFeed> Join(const std::string& group, int max_attempts = 5,
                                   bool* created = nullptr) {
    JoinRequest request;
    request.group = group;
    request.start = StreamPosition::Earliest();
    request.max_delivery_attempts = max_attempts;
    MemberSettings settings;
    settings.client_id = "test";
    settings.max_outstanding = 100;
    settings.max_batch = 100;
    settings.max_batch_bytes = 1 << 20;
    settings.ack_deadline = absl::Seconds(30);
    absl::StatusOr<JoinedGroup> joined = core_.groups->Join(request, settings, now_);
    EXPECT_TRUE(joined.ok()) << joined.status();
    if (!joined.ok()) return nullptr;
    if (created != nullptr) *created = joined->created;
    return std::move(joined->feed);
  }
  // Redeliveries the registry schedules itself fall due at its own clock.
  std::vector<v1::Delivery> Pull(StreamFeed& feed) {
    now_ = std::max(now_, absl::Now());
    OutgoingBatch batch;
    EXPECT_TRUE(feed.Pull(now_, &batch).ok());
    absl::StatusOr<std::vector<v1::Delivery>> deliveries = batch.ToDeliveriesForTesting();
    EXPECT_TRUE(deliveries.ok()) << deliveries.status();
    return deliveries.ok() ? *deliveries : std::vector<v1::Delivery>{};
  }
  void Ack(StreamFeed& feed, const v1::Delivery& delivery) {
    v1::Settle settle;
    settle.add_ack_ids(delivery.ack_id());
    v1::SettleResult result;
    feed.Settle(settle, now_, &result);
  }
  void NackToDeadLetter(StreamFeed& feed, const v1::Delivery& delivery) {
    v1::Settle settle;
    v1::Nack* nack = settle.add_nacks();
    nack->set_ack_id(delivery.ack_id());
    nack->set_action(v1::Nack::DEAD_LETTER);
    nack->set_reason("poison");
    v1::SettleResult result;
    feed.Settle(settle, now_, &result);
  }
  // Dead-letters every event of a fresh member of `group`.
  void DeadLetterAll(const std::string& group) {
    std::unique_ptr<StreamFeed> feed = Join(group);
    ASSERT_NE(feed, nullptr);
    for (const v1::Delivery& delivery : Pull(*feed)) NackToDeadLetter(*feed, delivery);
    feed->Close(now_);
  }

  SqliteCore core_;
  absl::Time now_ = absl::Now();
};

TEST_F(GroupRegistryTest, JoinCreatesOnceAndAckedPositionSurvivesReopen) {
  for (int i = 0; i < 3; ++i) ASSERT_NE(core_.Append("t"), 0u);
  bool created = false;
  std::unique_ptr<StreamFeed> feed = Join("g", 5, &created);
  ASSERT_NE(feed, nullptr);
  EXPECT_TRUE(created);
  std::vector<v1::Delivery> deliveries = Pull(*feed);
  ASSERT_EQ(deliveries.size(), 3u);
  Ack(*feed, deliveries[0]);
  Ack(*feed, deliveries[1]);
  feed->Close(now_);
  std::unique_ptr<StreamFeed> again = Join("g", 5, &created);
  EXPECT_FALSE(created);
  again->Close(now_);

  core_.Close();
  ASSERT_TRUE(core_.Open().ok());
  absl::StatusOr<v1::ConsumerGroup> described = core_.groups->Describe("g");
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(described->ack_floor(), 3u);
  feed = Join("g");
  deliveries = Pull(*feed);
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].event().sequence(), 3u);
  feed->Close(now_);
}

TEST_F(GroupRegistryTest, JoinWithAnotherFilterIsFailedPrecondition) {
  std::unique_ptr<StreamFeed> feed = Join("g");
  JoinRequest request;
  request.group = "g";
  request.filter_types = {"only.this"};
  absl::StatusOr<JoinedGroup> joined = core_.groups->Join(request, MemberSettings(), now_);
  EXPECT_EQ(joined.status().code(), absl::StatusCode::kFailedPrecondition);
  feed->Close(now_);
}

TEST_F(GroupRegistryTest, RetryPolicyIsPersistedWithTheGroupAndFixedAtCreation) {
  RetryPolicy policy;
  policy.minimum_backoff = absl::Milliseconds(250);
  policy.maximum_backoff = absl::Seconds(30);
  JoinRequest request;
  request.group = "backoff";
  request.retry_policy = policy;
  absl::StatusOr<JoinedGroup> joined = core_.groups->Join(request, MemberSettings(), now_);
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(joined->retry_policy, std::optional<RetryPolicy>(policy));
  joined->feed->Close(now_);

  // Written to groups.db with the group: a reopened registry has it.
  core_.Close();
  ASSERT_TRUE(core_.Open().ok());
  absl::StatusOr<v1::ConsumerGroup> described = core_.groups->Describe("backoff");
  ASSERT_TRUE(described.ok()) << described.status();
  ASSERT_TRUE(described->has_retry_policy());
  EXPECT_EQ(described->retry_policy().minimum_backoff().nanos(), 250000000);
  EXPECT_EQ(described->retry_policy().maximum_backoff().seconds(), 30);

  JoinRequest other = request;
  other.retry_policy->maximum_backoff = absl::Seconds(31);
  EXPECT_EQ(core_.groups->Join(other, MemberSettings(), now_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  other.retry_policy.reset();
  EXPECT_EQ(core_.groups->Join(other, MemberSettings(), now_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  joined = core_.groups->Join(request, MemberSettings(), now_);
  ASSERT_TRUE(joined.ok()) << joined.status();
  joined->feed->Close(now_);

  JoinRequest invalid;
  invalid.group = "invalid";
  invalid.retry_policy = RetryPolicy{absl::Seconds(2), absl::Seconds(1)};
  EXPECT_EQ(core_.groups->Join(invalid, MemberSettings(), now_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(core_.groups->Describe("invalid").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GroupRegistryTest, SeekMovesTheCursorAndUnknownGroupIsNotFound) {
  for (int i = 0; i < 4; ++i) ASSERT_NE(core_.Append("t"), 0u);
  std::unique_ptr<StreamFeed> feed = Join("g");
  for (const v1::Delivery& delivery : Pull(*feed)) Ack(*feed, delivery);
  absl::StatusOr<uint64_t> cursor = core_.groups->Seek("g", StreamPosition::AtSequence(2));
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(*cursor, 2u);
  std::vector<v1::Delivery> deliveries = Pull(*feed);
  ASSERT_EQ(deliveries.size(), 3u);
  EXPECT_EQ(deliveries[0].event().sequence(), 2u);
  EXPECT_EQ(core_.groups->Seek("nope", StreamPosition::Latest()).status().code(),
            absl::StatusCode::kNotFound);
  feed->Close(now_);
}

TEST_F(GroupRegistryTest, DeadLettersAreListedAfterNUpToALimitWithTheirEvents) {
  for (int i = 0; i < 5; ++i) ASSERT_NE(core_.Append("t"), 0u);
  DeadLetterAll("g");
  absl::StatusOr<std::vector<DeadLetter>> page = core_.groups->ListDeadLetters("g", 1, 2);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].sequence, 2u);
  EXPECT_EQ((*page)[1].sequence, 3u);
  EXPECT_EQ((*page)[0].reason, "poison");
  ASSERT_TRUE((*page)[0].event.has_value());
  EXPECT_EQ((*page)[0].event->sequence(), 2u);
  absl::StatusOr<v1::ConsumerGroup> described = core_.groups->Describe("g");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->dead_letters(), 5u);
}

TEST_F(GroupRegistryTest, RequeueTakesTheNamedSequencesOrAllAndSkipsUnknownOnes) {
  for (int i = 0; i < 4; ++i) ASSERT_NE(core_.Append("t"), 0u);
  DeadLetterAll("g");
  absl::StatusOr<size_t> requeued = core_.groups->Requeue("g", std::vector<uint64_t>{2, 3, 99, 0});
  ASSERT_TRUE(requeued.ok()) << requeued.status();
  EXPECT_EQ(*requeued, 2u);
  std::unique_ptr<StreamFeed> feed = Join("g");
  std::vector<v1::Delivery> deliveries = Pull(*feed);
  ASSERT_EQ(deliveries.size(), 2u);
  EXPECT_EQ(deliveries[0].event().sequence(), 2u);
  EXPECT_EQ(deliveries[1].event().sequence(), 3u);
  feed->Close(now_);
  requeued = core_.groups->Requeue("g", std::nullopt);
  ASSERT_TRUE(requeued.ok()) << requeued.status();
  EXPECT_EQ(*requeued, 2u);  // 1 and 4
  absl::StatusOr<std::vector<DeadLetter>> left = core_.groups->ListDeadLetters("g", 0, 10);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

TEST_F(GroupRegistryTest, ListGroupsPagesInNameOrderAndSaysWhetherMoreAreLeft) {
  for (const char* name : {"c", "a", "d", "b"}) Join(name)->Close(now_);
  auto all = [](const std::string&) { return true; };
  absl::StatusOr<GroupPage> page = core_.groups->ListGroups("", 2, 1 << 20, all);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->groups.size(), 2u);
  EXPECT_EQ(page->groups[0].name(), "a");
  EXPECT_EQ(page->groups[1].name(), "b");
  EXPECT_TRUE(page->more);
  page = core_.groups->ListGroups("b", 2, 1 << 20, all);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->groups.size(), 2u);
  EXPECT_EQ(page->groups[1].name(), "d");
  EXPECT_FALSE(page->more);
  // Only included groups count, and the byte cap stops after the first.
  page = core_.groups->ListGroups("", 10, 1, [](const std::string& name) { return name != "a"; });
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->groups.size(), 1u);
  EXPECT_EQ(page->groups[0].name(), "b");
  EXPECT_TRUE(page->more);
}

TEST_F(GroupRegistryTest, DeleteRefusesWhileMembersAreConnected) {
  std::unique_ptr<StreamFeed> feed = Join("g");
  EXPECT_EQ(core_.groups->Delete("g").code(), absl::StatusCode::kFailedPrecondition);
  feed->Close(now_);
  EXPECT_TRUE(core_.groups->Delete("g").ok());
  EXPECT_EQ(core_.groups->Describe("g").status().code(), absl::StatusCode::kNotFound);
  core_.Close();
  ASSERT_TRUE(core_.Open().ok());
  EXPECT_EQ(core_.groups->Describe("g").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GroupRegistryTest, MaxGroupsIsResourceExhausted) {
  core_.Close();
  GroupDefaults defaults;
  defaults.max_groups = 1;
  ASSERT_TRUE(core_.Open(defaults).ok());
  Join("a")->Close(now_);
  JoinRequest request;
  request.group = "b";
  EXPECT_EQ(core_.groups->Join(request, MemberSettings(), now_).status().code(),
            absl::StatusCode::kResourceExhausted);
}

// Was a subprocess test with a 1.5 s sleep; here the retention clock is
// chosen: every event is a day past --retention.
TEST_F(GroupRegistryTest, RetentionDeletesSettledEventsAndKeepsPendingOnes) {
  const absl::Time received = now_ - absl::Hours(48);
  for (int i = 0; i < 3; ++i) ASSERT_NE(core_.Append("t", received), 0u);
  std::unique_ptr<StreamFeed> feed = Join("keeper");
  std::vector<v1::Delivery> deliveries = Pull(*feed);
  ASSERT_EQ(deliveries.size(), 3u);
  Ack(*feed, deliveries[0]);
  Ack(*feed, deliveries[1]);
  RetentionOptions options;
  options.retention = absl::Hours(24);
  Retention retention(options, core_.journal.get(), core_.groups.get());
  ASSERT_TRUE(retention.RunOnce(now_).ok());
  EXPECT_EQ(core_.journal->GetBySequence(1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(core_.journal->GetBySequence(2).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(core_.journal->GetBySequence(3).ok()) << "pending in the group, yet deleted";
  Ack(*feed, deliveries[2]);
  ASSERT_TRUE(retention.RunOnce(now_).ok());
  EXPECT_EQ(core_.journal->GetBySequence(3).status().code(), absl::StatusCode::kNotFound);
  feed->Close(now_);
}

}  // namespace
}  // namespace refir::bridge::testing
