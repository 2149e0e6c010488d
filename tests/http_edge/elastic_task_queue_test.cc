#include "bridge/http_edge/elastic_task_queue.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

// Polls `condition` until it holds or 10 s pass.
template <typename Condition>
bool Eventually(Condition condition) {
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < until) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return condition();
}

TEST(ElasticTaskQueueTest, RunsEveryTaskBeforeShutdownReturns) {
  std::atomic<int> ran{0};
  ElasticTaskQueue queue(2, 1000, absl::Seconds(30));
  for (int i = 0; i < 500; ++i) queue.enqueue([&ran] { ran.fetch_add(1); });
  queue.shutdown();
  EXPECT_EQ(ran.load(), 500);
  EXPECT_EQ(queue.RefusedForTesting(), 0u);
}

TEST(ElasticTaskQueueTest, GrowsAThreadPerBusyTaskThenIdleExtrasExit) {
  ElasticTaskQueue queue(2, 64, absl::Milliseconds(100));
  EXPECT_EQ(queue.ThreadsForTesting(), 2u);
  absl::Notification release;
  std::atomic<int> started{0};
  for (int i = 0; i < 10; ++i) {
    queue.enqueue([&] {
      started.fetch_add(1);
      release.WaitForNotification();
    });
  }
  // Ten blocked tasks at once: each got a thread of its own (a warm thread
  // not yet waiting when the first tasks came may add one or two more).
  ASSERT_TRUE(Eventually([&] { return started.load() == 10; }));
  EXPECT_GE(queue.ThreadsForTesting(), 10u);
  EXPECT_LE(queue.ThreadsForTesting(), 12u);
  EXPECT_EQ(queue.TasksForTesting(), 10u);
  release.Notify();
  // The extra threads exit once idle; the warm ones stay.
  ASSERT_TRUE(Eventually([&] { return queue.ThreadsForTesting() == 2u; }));
  // And the pool still serves (the next enqueue joins the exited threads).
  std::atomic<bool> ran{false};
  queue.enqueue([&] { ran.store(true); });
  queue.shutdown();
  EXPECT_TRUE(ran.load());
  EXPECT_EQ(queue.ThreadsForTesting(), 0u);
}

TEST(ElasticTaskQueueTest, RefusesInlineAtTheLimit) {
  ElasticTaskQueue queue(1, 3, absl::Seconds(30));
  absl::Notification release;
  std::atomic<int> started{0};
  std::atomic<int> refused_seen{0};
  for (int i = 0; i < 3; ++i) {
    queue.enqueue([&] {
      if (ElasticTaskQueue::Refusing()) refused_seen.fetch_add(1);
      started.fetch_add(1);
      release.WaitForNotification();
    });
  }
  ASSERT_TRUE(Eventually([&] { return started.load() == 3; }));
  // The fourth runs at once, on this thread, told it is refused.
  bool ran_inline = false;
  bool refusing = false;
  queue.enqueue([&] {
    ran_inline = true;
    refusing = ElasticTaskQueue::Refusing();
  });
  EXPECT_TRUE(ran_inline);
  EXPECT_TRUE(refusing);
  EXPECT_FALSE(ElasticTaskQueue::Refusing());
  EXPECT_EQ(queue.RefusedForTesting(), 1u);
  EXPECT_EQ(refused_seen.load(), 0);
  release.Notify();
  // Room again once they finish.
  ASSERT_TRUE(Eventually([&] { return queue.TasksForTesting() == 0u; }));
  std::atomic<bool> served{false};
  queue.enqueue([&] { served.store(!ElasticTaskQueue::Refusing()); });
  queue.shutdown();
  EXPECT_TRUE(served.load());
  EXPECT_EQ(queue.RefusedForTesting(), 1u);
}

TEST(ElasticTaskQueueTest, WaitModeBlocksAtTheLimitInsteadOfRefusing) {
  ElasticTaskQueue queue(1, 1, absl::Seconds(30), ElasticTaskQueue::AtLimit::kWait);
  absl::Notification release;
  absl::Notification busy;
  queue.enqueue([&] {
    busy.Notify();
    release.WaitForNotification();
  });
  busy.WaitForNotification();
  std::atomic<bool> second_enqueued{false};
  std::atomic<bool> second_refused{true};
  std::thread enqueuer([&] {
    queue.enqueue([&] { second_refused.store(ElasticTaskQueue::Refusing()); });
    second_enqueued.store(true);
  });
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_FALSE(second_enqueued.load());
  release.Notify();
  enqueuer.join();
  queue.shutdown();
  EXPECT_FALSE(second_refused.load());
  EXPECT_EQ(queue.RefusedForTesting(), 0u);
}

}  // namespace
}  // namespace refir::bridge
