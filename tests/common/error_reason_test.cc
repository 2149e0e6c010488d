#include "bridge/common/error_reason.h"

#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

TEST(ErrorReasonTest, RoundTripsReason) {
  absl::Status status =
      ErrorWithReason(absl::StatusCode::kInvalidArgument, "invalid_json", "bad byte at 3");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "bad byte at 3");
  EXPECT_EQ(ReasonOf(status), "invalid_json");
}

TEST(ErrorReasonTest, NoReasonIsEmpty) { EXPECT_EQ(ReasonOf(absl::InternalError("x")), ""); }

TEST(ErrorReasonTest, OkStaysOk) {
  EXPECT_TRUE(WithReason(absl::OkStatus(), "ignored").ok());
  EXPECT_EQ(ReasonOf(WithReason(absl::OkStatus(), "ignored")), "");
}

}  // namespace
}  // namespace refir::bridge
