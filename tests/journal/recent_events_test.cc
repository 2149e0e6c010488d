#include "bridge/journal/recent_events.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// An event whose cost (bytes + type) is exactly 10.
RecentEvents::Entry EntryAt(uint64_t sequence) {
  return RecentEvents::Entry{sequence, "type", absl::StrCat("bytes", sequence % 10)};
}

std::vector<RecentEvents::Entry> Entries(std::vector<uint64_t> sequences) {
  std::vector<RecentEvents::Entry> entries;
  for (uint64_t sequence : sequences) entries.push_back(EntryAt(sequence));
  return entries;
}

// The sequences Visit hands over, or {0} when it does not cover `from`.
std::vector<uint64_t> Visited(const RecentEvents& recent, uint64_t from, size_t max_events = 100,
                              size_t stop_after = SIZE_MAX) {
  std::vector<uint64_t> seen;
  const bool covered = recent.Visit(from, max_events, [&](const StoredEventView& event) {
    if (seen.size() == stop_after) return false;
    EXPECT_EQ(event.type, "type");
    EXPECT_EQ(event.bytes, absl::StrCat("bytes", event.sequence % 10));
    seen.push_back(event.sequence);
    return true;
  });
  if (!covered) {
    EXPECT_THAT(seen, IsEmpty()) << "nothing is visited when not covered";
    return {0};
  }
  return seen;
}

TEST(RecentEventsTest, CoversNothingUntilToldWhereTheHeadIs) {
  RecentEvents recent(1000);
  EXPECT_THAT(Visited(recent, 1), ElementsAre(0));
  recent.CoverAfter(10);
  EXPECT_THAT(Visited(recent, 10), ElementsAre(0)) << "stored before the cache started";
  EXPECT_THAT(Visited(recent, 11), IsEmpty()) << "covered, and nothing is stored there";
  EXPECT_THAT(Visited(recent, 500), IsEmpty());
}

TEST(RecentEventsTest, VisitsFromAnySequenceWithGapsAndHonoursTheLimits) {
  RecentEvents recent(1000);
  recent.CoverAfter(0);
  recent.AddCommitted(Entries({1, 2, 3}));
  recent.AddCommitted(Entries({5, 6}));  // 4 was a duplicate: never stored
  EXPECT_THAT(Visited(recent, 1), ElementsAre(1, 2, 3, 5, 6));
  EXPECT_THAT(Visited(recent, 4), ElementsAre(5, 6));
  EXPECT_THAT(Visited(recent, 2, 2), ElementsAre(2, 3));
  EXPECT_THAT(Visited(recent, 1, 100, 1), ElementsAre(1)) << "the visitor stops";
  EXPECT_THAT(Visited(recent, 7), IsEmpty());
  EXPECT_EQ(recent.bytes(), 50u);
}

TEST(RecentEventsTest, DropsTheOldestBeyondTheBoundAndStopsCoveringThem) {
  RecentEvents recent(30);
  recent.CoverAfter(0);
  recent.AddCommitted(Entries({1, 2, 3}));
  EXPECT_THAT(Visited(recent, 1), ElementsAre(1, 2, 3));
  recent.AddCommitted(Entries({4, 5}));
  EXPECT_EQ(recent.bytes(), 30u);
  EXPECT_THAT(Visited(recent, 1), ElementsAre(0)) << "1 and 2 were dropped: read storage";
  EXPECT_THAT(Visited(recent, 2), ElementsAre(0));
  EXPECT_THAT(Visited(recent, 3), ElementsAre(3, 4, 5));
}

TEST(RecentEventsTest, AnEventLargerThanTheBoundIsNotKept) {
  RecentEvents recent(5);
  recent.CoverAfter(0);
  recent.AddCommitted(Entries({1}));
  EXPECT_EQ(recent.bytes(), 0u);
  EXPECT_THAT(Visited(recent, 1), ElementsAre(0));
  EXPECT_THAT(Visited(recent, 2), IsEmpty());
}

TEST(RecentEventsTest, ZeroBytesTurnsTheCacheOff) {
  RecentEvents recent(0);
  recent.CoverAfter(0);
  recent.AddCommitted(Entries({1, 2}));
  EXPECT_THAT(Visited(recent, 1), ElementsAre(0));
  EXPECT_THAT(Visited(recent, 3), ElementsAre(0));
}

TEST(RecentEventsTest, AfterAFailedCommitCoverageRestartsAtTheNextCommit) {
  RecentEvents recent(1000);
  recent.CoverAfter(0);
  recent.AddCommitted(Entries({1, 2}));
  recent.Invalidate();  // sequence 3 may or may not be stored
  EXPECT_THAT(Visited(recent, 1), ElementsAre(0));
  EXPECT_THAT(Visited(recent, 3), ElementsAre(0));
  recent.AddCommitted(Entries({4, 5}));
  EXPECT_THAT(Visited(recent, 3), ElementsAre(0));
  EXPECT_THAT(Visited(recent, 4), ElementsAre(4, 5));
}

TEST(RecentEventsTest, ForgottenEventsAreReadFromStorage) {
  RecentEvents recent(1000);
  recent.CoverAfter(0);
  recent.AddCommitted(Entries({1, 2, 3, 4}));
  recent.Forget(2);
  EXPECT_EQ(recent.bytes(), 20u);
  EXPECT_THAT(Visited(recent, 1), ElementsAre(0));
  EXPECT_THAT(Visited(recent, 2), ElementsAre(0));
  EXPECT_THAT(Visited(recent, 3), ElementsAre(3, 4));
  recent.Forget(10);  // beyond everything held
  EXPECT_THAT(Visited(recent, 4), ElementsAre(0));
  EXPECT_THAT(Visited(recent, 11), IsEmpty());
  recent.AddCommitted(Entries({11}));
  EXPECT_THAT(Visited(recent, 11), ElementsAre(11));
}

TEST(RecentEventsTest, OutOfOrderAddsMakeItCoverNothing) {
  RecentEvents recent(1000);
  recent.CoverAfter(0);
  recent.AddCommitted(Entries({5, 6}));
  recent.AddCommitted(Entries({4}));
  EXPECT_THAT(Visited(recent, 1), ElementsAre(0));
  EXPECT_THAT(Visited(recent, 5), ElementsAre(0));
  EXPECT_THAT(Visited(recent, 7), ElementsAre(0));
  EXPECT_EQ(recent.bytes(), 0u);
}

}  // namespace
}  // namespace refir::bridge
