// KnownServerDrift excuses only the drift of nats-server 2.9.10 (each
// difference exactly one below its answer), never another difference.
#include "tests/nats/sequence_drift.h"

#include "gtest/gtest.h"

namespace refir::bridge::testing {
namespace {

TEST(KnownServerDriftTest, NoDifferenceIsNoDrift) {
  EXPECT_EQ(KnownServerDrift({}), "");
  EXPECT_EQ(KnownServerDrift({{"a", 10, 10}, {"b", 11, 11}}), "");
}

TEST(KnownServerDriftTest, DifferencesAllOneBelowAreTheKnownDrift) {
  EXPECT_EQ(KnownServerDrift({{"a", 10, 10}, {"b", 12, 11}, {"c", 14, 13}}),
            "2 read one below their answer's sequence (b at 11, answered 12)");
}

TEST(KnownServerDriftTest, AnyOtherDifferenceIsNotExcused) {
  EXPECT_EQ(KnownServerDrift({{"b", 12, 11}, {"c", 14, 15}}), "") << "one above";
  EXPECT_EQ(KnownServerDrift({{"b", 12, 11}, {"c", 14, 12}}), "") << "two below";
}

}  // namespace
}  // namespace refir::bridge::testing
