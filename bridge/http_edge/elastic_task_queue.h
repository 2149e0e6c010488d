// ElasticTaskQueue: the webhook listener's worker pool for cpp-httplib. Keeps
// `warm_threads` threads, grows one thread per busy connection up to
// `max_tasks`, and lets the extra threads exit after `idle_exit` without
// work. At the limit, with kRefuse, it never blocks the accept loop: the
// task is run at once on the calling thread with Refusing() true, so the
// connection can be answered "too many connections" and closed without being
// served. With kWait (for servers that cannot refuse; no listener uses it
// now) enqueue() waits for room, so excess connections stay in the kernel's
// listen queue.
#ifndef REFIR_BRIDGE_HTTP_EDGE_ELASTIC_TASK_QUEUE_H_
#define REFIR_BRIDGE_HTTP_EDGE_ELASTIC_TASK_QUEUE_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "httplib.h"

namespace refir::bridge {

class ElasticTaskQueue final : public httplib::TaskQueue {
 public:
  enum class AtLimit { kRefuse, kWait };
  ElasticTaskQueue(size_t warm_threads, size_t max_tasks, absl::Duration idle_exit,
                   AtLimit at_limit = AtLimit::kRefuse);
  ~ElasticTaskQueue() override;

  ElasticTaskQueue(const ElasticTaskQueue&) = delete;
  ElasticTaskQueue& operator=(const ElasticTaskQueue&) = delete;

  // Queues `fn` for a worker, starting one if none is idle. With `max_tasks`
  // tasks already running or queued, runs `fn` inline with Refusing() true.
  void enqueue(std::function<void()> fn) override;
  // Runs what is queued, then joins every worker.
  void shutdown() override;

  // True only while a refused task runs (on the thread that enqueued it).
  static bool Refusing();

  // Worker threads, queued tasks and refused tasks so far (tests only).
  size_t ThreadsForTesting() const;
  size_t TasksForTesting() const;
  size_t RefusedForTesting() const;

 private:
  void Work(bool warm);
  void StartWorkerLocked(bool warm) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void JoinExitedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_tasks_;
  const AtLimit at_limit_;
  const absl::Duration idle_exit_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queued_ ABSL_GUARDED_BY(mu_);
  size_t running_ ABSL_GUARDED_BY(mu_) = 0;
  size_t idle_ ABSL_GUARDED_BY(mu_) = 0;
  size_t refused_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::list<std::thread> workers_ ABSL_GUARDED_BY(mu_);
  // Extra workers that have left Work() and wait to be joined.
  std::vector<std::thread::id> exited_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_ELASTIC_TASK_QUEUE_H_
