// Unit tests of the wire conversions of SubscribeInit.retry_policy.
#include "bridge/grpc_api/wire_convert.h"

#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using ::testing::HasSubstr;

v1::RetryPolicy Wire(int64_t min_seconds, int32_t min_nanos, int64_t max_seconds,
                     int32_t max_nanos) {
  v1::RetryPolicy policy;
  policy.mutable_minimum_backoff()->set_seconds(min_seconds);
  policy.mutable_minimum_backoff()->set_nanos(min_nanos);
  policy.mutable_maximum_backoff()->set_seconds(max_seconds);
  policy.mutable_maximum_backoff()->set_nanos(max_nanos);
  return policy;
}

std::string Message(const absl::StatusOr<RetryPolicy>& policy) {
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(policy.status().message());
}

TEST(RetryPolicyFromProtoTest, ConvertsExactly) {
  absl::StatusOr<RetryPolicy> policy = RetryPolicyFromProto(Wire(0, 1500000, 3600, 0));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->minimum_backoff, absl::Microseconds(1500));
  EXPECT_EQ(policy->maximum_backoff, absl::Hours(1));
}

TEST(RetryPolicyFromProtoTest, RefusesOutOfRangeNamingTheFieldAndTheLimit) {
  EXPECT_THAT(Message(RetryPolicyFromProto(Wire(0, 999999, 1, 0))),
              HasSubstr("init.retry_policy.minimum_backoff must be between 1ms and 1h, got"));
  EXPECT_THAT(Message(RetryPolicyFromProto(Wire(1, 0, 3600, 1))),
              HasSubstr("init.retry_policy.maximum_backoff must be between 1ms and 1h, got"));
  EXPECT_THAT(Message(RetryPolicyFromProto(Wire(-1, 0, 1, 0))),
              HasSubstr("init.retry_policy.minimum_backoff must be between 1ms and 1h, got -1s"));
  EXPECT_THAT(Message(RetryPolicyFromProto(Wire(5, 0, 4, 0))),
              HasSubstr("init.retry_policy.minimum_backoff (5s) must not exceed "
                        "init.retry_policy.maximum_backoff (4s)"));
  EXPECT_THAT(Message(RetryPolicyFromProto(v1::RetryPolicy())),
              HasSubstr("init.retry_policy.minimum_backoff must be between 1ms and 1h, got 0"));
}

TEST(RetryPolicyFromProtoTest, RefusesMalformedDurations) {
  EXPECT_THAT(Message(RetryPolicyFromProto(Wire(1, -1, 2, 0))),
              HasSubstr("init.retry_policy.minimum_backoff is not a valid Duration"));
  EXPECT_THAT(Message(RetryPolicyFromProto(Wire(1, 0, 2, 1000000000))),
              HasSubstr("init.retry_policy.maximum_backoff is not a valid Duration"));
  EXPECT_THAT(Message(RetryPolicyFromProto(Wire(1, 0, 315576000001, 0))),
              HasSubstr("init.retry_policy.maximum_backoff is not a valid Duration"));
}

}  // namespace
}  // namespace refir::bridge
