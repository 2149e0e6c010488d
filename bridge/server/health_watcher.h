// HealthWatcher: keeps a published health status (gRPC health checking) in
// step with a predicate (journal writable and not draining), polling it on a
// thread of its own and publishing only changes.
#ifndef REFIR_BRIDGE_SERVER_HEALTH_WATCHER_H_
#define REFIR_BRIDGE_SERVER_HEALTH_WATCHER_H_

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace refir::bridge {

class HealthWatcher {
 public:
  // Publishes healthy() at once and then whenever it changes, checking
  // every `interval`. Both callbacks run on the watcher's thread.
  HealthWatcher(std::function<bool()> healthy, std::function<void(bool)> publish,
                absl::Duration interval);
  // Stops the thread; nothing is published afterwards.
  ~HealthWatcher();

  HealthWatcher(const HealthWatcher&) = delete;
  HealthWatcher& operator=(const HealthWatcher&) = delete;

  // Stops the thread (idempotent); nothing is published afterwards.
  void Stop();

 private:
  void Run();

  const std::function<bool()> healthy_;
  const std::function<void(bool)> publish_;
  const absl::Duration interval_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_SERVER_HEALTH_WATCHER_H_
