#include "bridge/server/health_watcher.h"

#include <utility>

namespace refir::bridge {

HealthWatcher::HealthWatcher(std::function<bool()> healthy, std::function<void(bool)> publish,
                             absl::Duration interval)
    : healthy_(std::move(healthy)), publish_(std::move(publish)), interval_(interval) {
  thread_ = std::thread([this] { Run(); });
}

HealthWatcher::~HealthWatcher() { Stop(); }

void HealthWatcher::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void HealthWatcher::Run() {
  bool published = healthy_();
  publish_(published);
  while (!stop_.WaitForNotificationWithTimeout(interval_)) {
    const bool now = healthy_();
    if (now != published) {
      published = now;
      publish_(published);
    }
  }
}

}  // namespace refir::bridge
