#include "bridge/sources/rate_limiter.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

TEST(TokenBucketTest, BurstThenRefillAtRate) {
  TokenBucket bucket(RateLimitConfig{2, 3}, kStart);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.TryTake(kStart), absl::ZeroDuration()) << i;
  const absl::Duration wait = bucket.TryTake(kStart);
  EXPECT_EQ(wait, absl::Milliseconds(500));
  // Half a token later: still refused, a quarter second to go.
  EXPECT_EQ(bucket.TryTake(kStart + absl::Milliseconds(250)), absl::Milliseconds(250));
  EXPECT_EQ(bucket.TryTake(kStart + absl::Milliseconds(500)), absl::ZeroDuration());
  EXPECT_GT(bucket.TryTake(kStart + absl::Milliseconds(500)), absl::ZeroDuration());
}

TEST(TokenBucketTest, RefillStopsAtBurst) {
  TokenBucket bucket(RateLimitConfig{1, 2}, kStart);
  const absl::Time later = kStart + absl::Hours(1);
  EXPECT_TRUE(bucket.IsFull(later));
  EXPECT_EQ(bucket.TryTake(later), absl::ZeroDuration());
  EXPECT_EQ(bucket.TryTake(later), absl::ZeroDuration());
  EXPECT_GT(bucket.TryTake(later), absl::ZeroDuration());
  EXPECT_FALSE(bucket.IsFull(later));
}

TEST(TokenBucketTest, StartingInTheInfinitePastIsFullAtFirstUse) {
  TokenBucket bucket(RateLimitConfig{1, 2}, absl::InfinitePast());
  EXPECT_EQ(bucket.TryTake(kStart), absl::ZeroDuration());
  EXPECT_EQ(bucket.TryTake(kStart), absl::ZeroDuration());
  EXPECT_EQ(bucket.TryTake(kStart), absl::Seconds(1));
}

TEST(TokenBucketTest, ClockGoingBackwardsAddsNothing) {
  TokenBucket bucket(RateLimitConfig{1, 1}, kStart);
  EXPECT_EQ(bucket.TryTake(kStart), absl::ZeroDuration());
  EXPECT_GT(bucket.TryTake(kStart - absl::Hours(1)), absl::ZeroDuration());
  EXPECT_GT(bucket.TryTake(kStart + absl::Milliseconds(999)), absl::ZeroDuration());
  EXPECT_EQ(bucket.TryTake(kStart + absl::Seconds(1)), absl::ZeroDuration());
}

TEST(ClientRateLimiterTest, EachClientHasItsOwnBucket) {
  ClientRateLimiter limiter(RateLimitConfig{1, 1}, 100);
  EXPECT_EQ(limiter.TryTake("10.0.0.1", kStart), absl::ZeroDuration());
  EXPECT_GT(limiter.TryTake("10.0.0.1", kStart), absl::ZeroDuration());
  EXPECT_EQ(limiter.TryTake("10.0.0.2", kStart), absl::ZeroDuration());
  EXPECT_EQ(limiter.TrackedClientsForTesting(), 2u);
}

TEST(ClientRateLimiterTest, TableIsBoundedAndEvictsIdleClientsFirst) {
  ClientRateLimiter limiter(RateLimitConfig{1, 1}, 3);
  // "busy" has used its token and is not refilled at kStart + 0.5 s.
  EXPECT_EQ(limiter.TryTake("busy", kStart + absl::Milliseconds(500)), absl::ZeroDuration());
  EXPECT_EQ(limiter.TryTake("idle1", kStart), absl::ZeroDuration());
  EXPECT_EQ(limiter.TryTake("idle2", kStart), absl::ZeroDuration());
  // At kStart + 1.2 s, idle1 and idle2 have refilled; busy has not.
  const absl::Time now = kStart + absl::Milliseconds(1200);
  EXPECT_EQ(limiter.TryTake("new", now), absl::ZeroDuration());
  EXPECT_LE(limiter.TrackedClientsForTesting(), 3u);
  // busy was kept: still limited.
  EXPECT_GT(limiter.TryTake("busy", now), absl::ZeroDuration());
}

TEST(ClientRateLimiterTest, FullTableOfBusyClientsDropsTheLeastRecentlyUsed) {
  ClientRateLimiter limiter(RateLimitConfig{0.001, 1}, 2);
  EXPECT_EQ(limiter.TryTake("a", kStart), absl::ZeroDuration());
  EXPECT_EQ(limiter.TryTake("b", kStart + absl::Seconds(1)), absl::ZeroDuration());
  EXPECT_EQ(limiter.TryTake("c", kStart + absl::Seconds(2)), absl::ZeroDuration());
  EXPECT_EQ(limiter.TrackedClientsForTesting(), 2u);
  // "a" went (oldest) and starts afresh; "c" is still limited.
  EXPECT_EQ(limiter.TryTake("a", kStart + absl::Seconds(3)), absl::ZeroDuration());
  EXPECT_GT(limiter.TryTake("c", kStart + absl::Seconds(3)), absl::ZeroDuration());
}

TEST(ClientRateLimiterTest, ManyClientsStayBounded) {
  ClientRateLimiter limiter(RateLimitConfig{1, 1}, 50);
  for (int i = 0; i < 5000; ++i) {
    limiter.TryTake(absl::StrCat("10.0.", i / 256, ".", i % 256), kStart);
  }
  EXPECT_LE(limiter.TrackedClientsForTesting(), 50u);
}

TEST(RateLimiterTest, SharedBucket) {
  RateLimiter limiter(RateLimitConfig{10, 2});
  EXPECT_EQ(limiter.TryTake(kStart), absl::ZeroDuration());
  EXPECT_EQ(limiter.TryTake(kStart), absl::ZeroDuration());
  EXPECT_EQ(limiter.TryTake(kStart), absl::Milliseconds(100));
}

TEST(RateLimiterTest, RefundGivesATokenBackUpToTheBurst) {
  RateLimiter limiter(RateLimitConfig{1, 1});
  EXPECT_EQ(limiter.TryTake(kStart), absl::ZeroDuration());
  limiter.Refund();
  EXPECT_EQ(limiter.TryTake(kStart), absl::ZeroDuration());
  EXPECT_GT(limiter.TryTake(kStart), absl::ZeroDuration());
  // Refunds beyond the burst are dropped.
  limiter.Refund();
  limiter.Refund();
  EXPECT_EQ(limiter.TryTake(kStart), absl::ZeroDuration());
  EXPECT_GT(limiter.TryTake(kStart), absl::ZeroDuration());
}

TEST(ClientRateLimiterTest, WaitTimeLooksWithoutTakingOrTracking) {
  ClientRateLimiter limiter(RateLimitConfig{0.5, 1}, 10);
  EXPECT_EQ(limiter.WaitTime("192.0.2.1", kStart), absl::ZeroDuration());
  EXPECT_EQ(limiter.TrackedClientsForTesting(), 0u);
  EXPECT_EQ(limiter.TryTake("192.0.2.1", kStart), absl::ZeroDuration());
  EXPECT_EQ(limiter.WaitTime("192.0.2.1", kStart), absl::Seconds(2));
  EXPECT_EQ(limiter.WaitTime("192.0.2.1", kStart + absl::Seconds(1)), absl::Seconds(1));
  EXPECT_EQ(limiter.WaitTime("192.0.2.1", kStart + absl::Seconds(2)), absl::ZeroDuration());
  EXPECT_EQ(limiter.TryTake("192.0.2.1", kStart + absl::Seconds(2)), absl::ZeroDuration());
}

}  // namespace
}  // namespace refir::bridge
