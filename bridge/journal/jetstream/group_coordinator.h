// GroupCoordinator: decides which bridge replica serves the consumer groups
// of a JetStream journal. Exactly one does at a time: it holds a lease, the
// key `coordinator` in the groups' KeyValue bucket, renewed by
// compare-and-set on its revision. The other replicas are standbys: they
// ingest webhooks and serve ephemeral streams, and take the lease over when
// its holder stopped renewing it for a whole lease period (measured on the
// standby's own clock, from when it last saw the key change) or released it.
//
// A standby gives no credit for time it could not read the key, so a NATS
// outage or leader election (5-15 s on 2.9) does not move the groups: the
// holder keeps serving and renews once NATS answers. A holder that finds
// the key taken, or cannot renew for max(3 leases, 30 s), gives the groups
// up: `on_lost` is called and the bridge exits. Group state writes are
// compare-and-set (JetStreamGroupStore), so a replica that served past its
// lease (a partition) cannot overwrite its successor's state; it can only
// have delivered events again, which the contract allows.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_GROUP_COORDINATOR_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_GROUP_COORDINATOR_H_

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace refir::bridge::jetstream {

struct CoordinatorOptions {
  std::string bucket;  // the groups' KeyValue bucket (must exist)
  // Unique per live process; the same across restarts of one replica (a
  // holder found with this replica's own id is taken over at once).
  std::string replica_id;
  // Where consumers reach this replica's gRPC listener (told to consumers
  // that reach a standby).
  std::string advertised_address;
  absl::Duration lease = absl::Seconds(10);
};

class GroupCoordinator {
 public:
  // Starts serving the groups once this replica holds the lease; an error
  // when it cannot (yet).
  using AcquiredCallback = std::function<absl::Status()>;

  // Tries once to take the lease (so a sole replica serves groups from its
  // start), then keeps trying or renewing on its own thread. `on_acquired`
  // runs when this replica takes the lease (on the caller's thread if taken
  // at once). When it fails (NATS still electing a leader, say), this
  // replica gives the lease back (best effort) and is a standby again: it,
  // or another replica, takes the lease at a next step and tries again.
  // `on_lost` runs if this replica loses the lease. `connection` must
  // outlive the coordinator.
  static absl::StatusOr<std::unique_ptr<GroupCoordinator>> Start(natsConnection* connection,
                                                                 CoordinatorOptions options,
                                                                 AcquiredCallback on_acquired,
                                                                 std::function<void()> on_lost);

  GroupCoordinator(CoordinatorOptions options, AcquiredCallback on_acquired,
                   std::function<void()> on_lost);
  ~GroupCoordinator();

  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  bool holds_lease() const { return holds_lease_.load(std::memory_order_acquire); }
  // "replica <id> at <address>" of the holder as last seen; "" when none.
  std::string holder() const ABSL_LOCKS_EXCLUDED(mu_);
  // The advertised gRPC address of the holder as last seen, when that is
  // another replica; "" when this replica holds the lease (or held it
  // before a restart) or none does. Where a standby forwards group calls.
  std::string holder_address() const ABSL_LOCKS_EXCLUDED(mu_);

  // Stops the thread and releases the lease if held (a standby can take it
  // at once). Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status Init(natsConnection* connection);
  // One step: try to take the lease (standby) or renew it (holder).
  void Tick(absl::Time now);
  void TryAcquire(absl::Time now);
  void Renew(absl::Time now);
  // After `on_acquired` failed with `error`: releases the lease, a standby
  // again.
  void GiveBack(const absl::Status& error);
  // How long a holder keeps serving while NATS does not answer.
  absl::Duration UnreachableBound() const;
  void Run();

  const CoordinatorOptions options_;
  const std::string value_;
  AcquiredCallback on_acquired_;
  std::function<void()> on_lost_;
  struct Handles;
  std::unique_ptr<Handles> handles_;

  std::atomic<bool> holds_lease_{false};
  // Only the coordinator's thread (or Start, before it runs) touches these.
  uint64_t held_revision_ = 0;
  bool renew_warned_ = false;
  absl::Time last_renewed_;
  uint64_t seen_revision_ = 0;
  absl::Time seen_changed_at_;

  mutable absl::Mutex mu_;
  std::string holder_ ABSL_GUARDED_BY(mu_);
  std::string holder_address_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_GROUP_COORDINATOR_H_
