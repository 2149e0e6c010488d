#include "bridge/http_edge/elastic_task_queue.h"

#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bridge/common/log.h"

namespace refir::bridge {
namespace {

thread_local bool t_refusing = false;

}  // namespace

ElasticTaskQueue::ElasticTaskQueue(size_t warm_threads, size_t max_tasks, absl::Duration idle_exit,
                                   AtLimit at_limit)
    : max_tasks_(max_tasks), at_limit_(at_limit), idle_exit_(idle_exit) {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < warm_threads; ++i) StartWorkerLocked(/*warm=*/true);
}

ElasticTaskQueue::~ElasticTaskQueue() { shutdown(); }

bool ElasticTaskQueue::Refusing() { return t_refusing; }

size_t ElasticTaskQueue::ThreadsForTesting() const {
  absl::MutexLock lock(&mu_);
  return workers_.size() - exited_.size();
}

size_t ElasticTaskQueue::TasksForTesting() const {
  absl::MutexLock lock(&mu_);
  return running_ + queued_.size();
}

size_t ElasticTaskQueue::RefusedForTesting() const {
  absl::MutexLock lock(&mu_);
  return refused_;
}

void ElasticTaskQueue::StartWorkerLocked(bool warm) {
  try {
    workers_.emplace_back([this, warm] { Work(warm); });
  } catch (const std::system_error& e) {
    // The task stays queued for the next free worker.
    LogError(absl::StrCat("cannot start an HTTP worker thread: ", e.what()));
  }
}

void ElasticTaskQueue::JoinExitedLocked() {
  if (exited_.empty()) return;
  for (auto it = workers_.begin(); it != workers_.end();) {
    bool exited = false;
    for (const std::thread::id& id : exited_) exited = exited || it->get_id() == id;
    if (exited) {
      // It has left Work() and only returns now: a short join.
      it->join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  exited_.clear();
}

void ElasticTaskQueue::enqueue(std::function<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    JoinExitedLocked();
    if (at_limit_ == AtLimit::kWait) {
      auto has_room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || running_ + queued_.size() < max_tasks_;
      };
      mu_.Await(absl::Condition(&has_room));
    }
    if (!stopping_ && running_ + queued_.size() < max_tasks_) {
      queued_.push_back(std::move(fn));
      if (idle_ < queued_.size()) StartWorkerLocked(/*warm=*/false);
      return;
    }
    if (!stopping_) ++refused_;
  }
  // At the limit (or stopping): the task owns a socket and must run to close
  // it; it sees Refusing() and answers without serving.
  t_refusing = true;
  fn();
  t_refusing = false;
}

void ElasticTaskQueue::shutdown() {
  std::list<std::thread> workers;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    workers.swap(workers_);
    exited_.clear();
  }
  for (std::thread& worker : workers) {
    if (worker.joinable()) worker.join();
  }
}

void ElasticTaskQueue::Work(bool warm) {
  absl::MutexLock lock(&mu_);
  while (true) {
    auto ready = [this]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queued_.empty(); };
    ++idle_;
    bool woke = true;
    if (warm) {
      mu_.Await(absl::Condition(&ready));
    } else {
      woke = mu_.AwaitWithTimeout(absl::Condition(&ready), idle_exit_);
    }
    --idle_;
    if (queued_.empty()) {
      if (stopping_) return;
      if (!woke) {
        exited_.push_back(std::this_thread::get_id());
        return;
      }
      continue;
    }
    std::function<void()> task = std::move(queued_.front());
    queued_.pop_front();
    ++running_;
    mu_.Unlock();
    task();
    task = nullptr;
    mu_.Lock();
    --running_;
  }
}

}  // namespace refir::bridge
