#include "bridge/delivery/wakeup_hub.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

class CountingWakeable : public Wakeable {
 public:
  void Wake() override {
    wakes.fetch_add(1);
    woken.Notify();
  }
  std::atomic<int> wakes{0};
  absl::Notification woken;
};

TEST(WakeupHubTest, WakesWhenHeadReachesTheParkedSequence) {
  WakeupHub hub(/*head_sequence=*/5);
  CountingWakeable target;
  hub.Park(&target, 6);
  hub.OnHeadAdvanced(5);
  EXPECT_FALSE(target.woken.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  hub.OnHeadAdvanced(6);
  EXPECT_TRUE(target.woken.WaitForNotificationWithTimeout(absl::Seconds(10)));
  hub.Unpark(&target);
  EXPECT_EQ(target.wakes.load(), 1);
}

TEST(WakeupHubTest, ParkingBehindTheHeadWakesAtOnce) {
  WakeupHub hub(/*head_sequence=*/10);
  CountingWakeable target;
  hub.Park(&target, 3);
  EXPECT_TRUE(target.woken.WaitForNotificationWithTimeout(absl::Seconds(10)));
  hub.Unpark(&target);
}

TEST(WakeupHubTest, UnparkedTargetIsNeverWoken) {
  WakeupHub hub(/*head_sequence=*/0);
  CountingWakeable target;
  hub.Park(&target, 1);
  hub.Unpark(&target);
  hub.OnHeadAdvanced(100);
  CountingWakeable other;
  hub.Park(&other, 1);  // the hub thread wakes this one, after any for target
  ASSERT_TRUE(other.woken.WaitForNotificationWithTimeout(absl::Seconds(10)));
  hub.Unpark(&other);
  EXPECT_EQ(target.wakes.load(), 0);
}

}  // namespace
}  // namespace refir::bridge
