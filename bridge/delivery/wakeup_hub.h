// WakeupHub: lets a stream that has nothing to send park until newer events
// are durable or a deadline passes (a redelivery falls due, a heartbeat is
// owed), and wakes it on the hub's own thread (never on the journal's
// committer thread, which must stay quick).
#ifndef REFIR_BRIDGE_DELIVERY_WAKEUP_HUB_H_
#define REFIR_BRIDGE_DELIVERY_WAKEUP_HUB_H_

#include <cstdint>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace refir::bridge {

// Something that can be told "the event you wait for may now be readable".
class Wakeable {
 public:
  virtual ~Wakeable() = default;
  // Called on the hub thread, without hub locks held.
  virtual void Wake() = 0;
};

class WakeupHub {
 public:
  // `head_sequence`: the journal's head when the hub is created.
  explicit WakeupHub(uint64_t head_sequence);
  ~WakeupHub();

  WakeupHub(const WakeupHub&) = delete;
  WakeupHub& operator=(const WakeupHub&) = delete;

  // Records a new durable head. Cheap and non-blocking: safe to call from the
  // journal's append listener.
  void OnHeadAdvanced(uint64_t head_sequence);

  // Wakes `target` once, as soon as the head reaches `sequence` or
  // `deadline` passes (at once if either already has). Parking again
  // replaces the earlier conditions. Park(target, 0) wakes it soon.
  void Park(Wakeable* target, uint64_t sequence, absl::Time deadline = absl::InfiniteFuture());

  // Forgets `target`. On return, target->Wake() is not running and will not
  // be called again unless it parks again: it is then safe to destroy.
  void Unpark(Wakeable* target);

  // Stops the hub thread; parked targets are not woken again.
  void Shutdown();

 private:
  void Run();
  struct Parked {
    uint64_t sequence;
    absl::Time deadline;
  };
  // Moves parked targets that are due at `now` to due_; returns the earliest
  // deadline among those still parked.
  absl::Time CollectDueLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HeadWorkLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  uint64_t head_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Wakeable*, Parked> parked_ ABSL_GUARDED_BY(mu_);
  // Set when parked_ or head_ changed since Run last looked.
  bool changed_ ABSL_GUARDED_BY(mu_) = false;
  // Targets taken off parked_ and about to be woken by Run.
  std::vector<Wakeable*> due_ ABSL_GUARDED_BY(mu_);
  // The target whose Wake() is running right now, if any.
  Wakeable* waking_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Signalled whenever waking_ goes back to nullptr.
  absl::CondVar wake_finished_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_WAKEUP_HUB_H_
