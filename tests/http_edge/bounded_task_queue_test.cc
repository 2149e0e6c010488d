#include "bridge/http_edge/bounded_task_queue.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

TEST(BoundedTaskQueueTest, RunsEveryTaskBeforeShutdownReturns) {
  std::atomic<int> ran{0};
  BoundedTaskQueue queue(4, 8);
  for (int i = 0; i < 1000; ++i) queue.enqueue([&ran] { ran.fetch_add(1); });
  queue.shutdown();
  EXPECT_EQ(ran.load(), 1000);
}

TEST(BoundedTaskQueueTest, EnqueueBlocksWhileBacklogIsFull) {
  BoundedTaskQueue queue(1, 1);
  absl::Notification release;
  absl::Notification worker_busy;
  queue.enqueue([&] {
    worker_busy.Notify();
    release.WaitForNotification();
  });
  worker_busy.WaitForNotification();
  queue.enqueue([] {});  // fills the one backlog slot
  absl::Notification third_enqueued;
  std::thread producer([&] {
    queue.enqueue([] {});
    third_enqueued.Notify();
  });
  // While the worker is held and the backlog is full, enqueue must not return.
  EXPECT_FALSE(third_enqueued.WaitForNotificationWithTimeout(absl::Milliseconds(200)));
  release.Notify();
  EXPECT_TRUE(third_enqueued.WaitForNotificationWithTimeout(absl::Seconds(10)));
  producer.join();
  queue.shutdown();
}

}  // namespace
}  // namespace refir::bridge
