#include "bridge/delivery/wakeup_hub.h"

#include <algorithm>

namespace refir::bridge {

WakeupHub::WakeupHub(uint64_t head_sequence) : head_(head_sequence) {
  thread_ = std::thread([this] { Run(); });
}

WakeupHub::~WakeupHub() { Shutdown(); }

void WakeupHub::OnHeadAdvanced(uint64_t head_sequence) {
  absl::MutexLock lock(&mu_);
  head_ = std::max(head_, head_sequence);
}

void WakeupHub::Park(Wakeable* target, uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  parked_[target] = sequence;
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

bool WakeupHub::HasWorkLocked() const {
  if (stopping_ || !due_.empty()) return true;
  for (const auto& [target, sequence] : parked_) {
    if (sequence <= head_) return true;
  }
  return false;
}

void WakeupHub::Run() {
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.Await(absl::Condition(this, &WakeupHub::HasWorkLocked));
    if (stopping_) return;
    for (auto it = parked_.begin(); it != parked_.end();) {
      if (it->second <= head_) {
        due_.push_back(it->first);
        parked_.erase(it++);
      } else {
        ++it;
      }
    }
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
  }
}

}  // namespace refir::bridge
