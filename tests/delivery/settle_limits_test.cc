// Unit tests of the bounds on what one SettleResult lists and on filters.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/delivery/consumer_group.h"
#include "bridge/delivery/event_filter.h"
#include "bridge/delivery/settle_result.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/fake_journal.h"

namespace refir::bridge {
namespace {

using ::testing::HasSubstr;

TEST(SettleResultTest, ListsUpToTheCapThenCounts) {
  v1::SettleResult result;
  for (int i = 0; i < kMaxListedAckIds + 30; ++i) AddUnknownAckId(absl::StrCat("u", i), &result);
  for (int i = 0; i < kMaxListedAckIds + 7; ++i) AddExpiredAckId(absl::StrCat("e", i), &result);
  EXPECT_EQ(result.unknown_ack_ids_size(), kMaxListedAckIds);
  EXPECT_EQ(result.unknown_ack_ids_not_listed(), 30);
  EXPECT_EQ(result.expired_ack_ids_size(), kMaxListedAckIds);
  EXPECT_EQ(result.expired_ack_ids_not_listed(), 7);
  EXPECT_EQ(result.unknown_ack_ids(0), "u0");
}

TEST(SettleResultTest, LongIdsAreCountedNotEchoed) {
  v1::SettleResult result;
  AddUnknownAckId(std::string(kMaxListedAckIdBytes, 'a'), &result);
  AddUnknownAckId(std::string(kMaxListedAckIdBytes + 1, 'b'), &result);
  AddUnknownAckId(std::string(1 << 20, 'c'), &result);
  ASSERT_EQ(result.unknown_ack_ids_size(), 1);
  EXPECT_EQ(result.unknown_ack_ids(0).size(), kMaxListedAckIdBytes);
  EXPECT_EQ(result.unknown_ack_ids_not_listed(), 2);
}

TEST(SettleResultTest, ConsumerGroupSettleOfManyUnknownIdsStaysSmall) {
  testing::FakeJournal journal;
  internal::GroupState state;
  state.set_name("g");
  state.set_max_delivery_attempts(3);
  state.set_cursor(1);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  ConsumerGroup group(state, *EventFilter::Create({}), &journal, /*epoch=*/7, now);
  MemberSettings settings;
  settings.max_outstanding = 10;
  settings.max_batch = 10;
  settings.max_batch_bytes = 2 * 1024 * 1024;
  settings.ack_deadline = absl::Seconds(10);
  const StreamId stream = group.Attach(settings);
  v1::Settle settle;
  for (int i = 0; i < 10000; ++i) settle.add_ack_ids(absl::StrCat("7-1-", 1000000 + i));
  for (int i = 0; i < 10000; ++i) settle.add_ack_ids(absl::StrCat("not an ack id ", i));
  v1::SettleResult result;
  group.Settle(stream, settle, now, &result);
  EXPECT_EQ(result.unknown_ack_ids_size() + result.unknown_ack_ids_not_listed() +
                result.expired_ack_ids_size() + result.expired_ack_ids_not_listed(),
            20000);
  EXPECT_LE(result.unknown_ack_ids_size(), kMaxListedAckIds);
  EXPECT_LE(result.expired_ack_ids_size(), kMaxListedAckIds);
  EXPECT_LT(result.ByteSizeLong(), 2u * kMaxListedAckIds * (kMaxListedAckIdBytes + 2) + 64);
}

TEST(FilterLimitsTest, EntryCountAndLength) {
  EXPECT_TRUE(CheckFilterEntryCount(0).ok());
  EXPECT_TRUE(CheckFilterEntryCount(kMaxFilterEntries).ok());
  absl::Status too_many = CheckFilterEntryCount(20000);
  EXPECT_TRUE(absl::IsInvalidArgument(too_many));
  EXPECT_EQ(too_many.message(), "filter.types has 20000 entries; the limit is 100");
  EXPECT_TRUE(EventFilter::Create({std::string(kMaxFilterEntryBytes, 'a')}).ok());
  absl::StatusOr<EventFilter> too_long =
      EventFilter::Create({std::string(kMaxFilterEntryBytes + 1, 'a')});
  EXPECT_TRUE(absl::IsInvalidArgument(too_long.status()));
  EXPECT_THAT(too_long.status().message(), HasSubstr("entry of 257 bytes; the limit is 256"));
}

}  // namespace
}  // namespace refir::bridge
