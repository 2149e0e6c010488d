#include "bridge/delivery/wakeup_hub.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace refir::bridge {

WakeupHub::WakeupHub(uint64_t head_sequence) : head_(head_sequence) {
  thread_ = std::thread([this] { Run(); });
}

WakeupHub::~WakeupHub() { Shutdown(); }

void WakeupHub::OnHeadAdvanced(uint64_t head_sequence) {
  absl::MutexLock lock(&mu_);
  if (head_sequence > head_) {
    head_ = head_sequence;
    // Wake the hub thread only when someone waits: commits are frequent.
    if (!parked_.empty()) changed_ = true;
  }
}

void WakeupHub::Park(Wakeable* target, uint64_t sequence, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  parked_[target] = Parked{sequence, deadline};
  changed_ = true;
}

void WakeupHub::Unpark(Wakeable* target) {
  absl::MutexLock lock(&mu_);
  parked_.erase(target);
  due_.erase(std::remove(due_.begin(), due_.end(), target), due_.end());
  while (waking_ == target) wake_finished_.Wait(&mu_);
}

void WakeupHub::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool WakeupHub::HeadWorkLocked() const { return stopping_ || changed_ || !due_.empty(); }

absl::Time WakeupHub::CollectDueLocked(absl::Time now) {
  absl::Time earliest = absl::InfiniteFuture();
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (it->second.sequence <= head_ || it->second.deadline <= now) {
      due_.push_back(it->first);
      parked_.erase(it++);
    } else {
      earliest = std::min(earliest, it->second.deadline);
      ++it;
    }
  }
  return earliest;
}

void WakeupHub::Run() {
  absl::MutexLock lock(&mu_);
  absl::Time next_deadline = absl::InfiniteFuture();
  while (true) {
    // Sleep until the head moves, someone parks, or the earliest deadline.
    mu_.AwaitWithDeadline(absl::Condition(this, &WakeupHub::HeadWorkLocked), next_deadline);
    if (stopping_) return;
    changed_ = false;
    next_deadline = CollectDueLocked(absl::Now());
    while (!due_.empty() && !stopping_) {
      Wakeable* target = due_.back();
      due_.pop_back();
      waking_ = target;
      mu_.Unlock();
      target->Wake();
      mu_.Lock();
      waking_ = nullptr;
      wake_finished_.SignalAll();
    }
    // Wakes may have parked again; look before sleeping.
    if (changed_) continue;
  }
}

}  // namespace refir::bridge
