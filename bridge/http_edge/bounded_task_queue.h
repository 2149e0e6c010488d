// BoundedTaskQueue: a fixed pool of worker threads for cpp-httplib with a
// bounded backlog. When every worker is busy and the backlog is full,
// enqueue() blocks the accept loop, so excess connections wait in the
// kernel's listen queue instead of growing memory without bound.
#ifndef REFIR_BRIDGE_HTTP_EDGE_BOUNDED_TASK_QUEUE_H_
#define REFIR_BRIDGE_HTTP_EDGE_BOUNDED_TASK_QUEUE_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "httplib.h"

namespace refir::bridge {

class BoundedTaskQueue final : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t threads, size_t max_queued);
  ~BoundedTaskQueue() override;

  void enqueue(std::function<void()> fn) override;
  // Runs what is queued, then joins the workers.
  void shutdown() override;

 private:
  void Work();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_BOUNDED_TASK_QUEUE_H_
