// GroupRegistry: every durable consumer group of the bridge, kept in memory
// (ConsumerGroup) and checkpointed to a GroupStore: the ConsumerGroups of the
// embedded journal. Creates groups on first use (persisting them before the
// stream is confirmed), loads them at startup, checkpoints their state on a
// timer and at shutdown, and serves the admin operations.
//
// Locks, in the order they are taken: checkpoint_mu_ (serializes every
// checkpoint write, and Delete), then mu_ (the map of groups; never held
// across a checkpoint write), then a ConsumerGroup's own mutex.
#ifndef REFIR_BRIDGE_DELIVERY_GROUP_REGISTRY_H_
#define REFIR_BRIDGE_DELIVERY_GROUP_REGISTRY_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bridge/delivery/consumer_group.h"
#include "bridge/delivery/consumer_groups.h"
#include "bridge/delivery/stream_feed.h"
#include "bridge/delivery/wakeup_hub.h"
#include "bridge/journal/group_store.h"
#include "bridge/journal/journal.h"
#include "refir/bridge/v1/event_stream.pb.h"

namespace refir::bridge {

struct GroupDefaults {
  // Most consumer groups; a Join that would create one more is
  // RESOURCE_EXHAUSTED. Groups already stored are all loaded, even beyond it.
  size_t max_groups = 1000;
  // How often dirty groups are checkpointed. Acks newer than the last
  // checkpoint are lost by a crash (and those events delivered again).
  absl::Duration checkpoint_interval = absl::Milliseconds(100);
  // Idle expiry of a group whose JoinRequest sets none (--group_idle_expiry);
  // zero: never.
  absl::Duration idle_expiry = absl::ZeroDuration();
};

class GroupRegistry final : public ConsumerGroups {
 public:
  // Loads every stored group. `journal`, `store` and `hub` must outlive it.
  static absl::StatusOr<std::unique_ptr<GroupRegistry>> Open(Journal* journal, GroupStore* store,
                                                             WakeupHub* hub,
                                                             GroupDefaults defaults = {});
  ~GroupRegistry() override;

  GroupRegistry(const GroupRegistry&) = delete;
  GroupRegistry& operator=(const GroupRegistry&) = delete;

  // ConsumerGroups.
  absl::StatusOr<JoinedGroup> Join(const JoinRequest& request, MemberSettings settings,
                                   absl::Time now) override;
  absl::StatusOr<v1::ConsumerGroup> Describe(const std::string& name) override;
  absl::StatusOr<GroupPage> ListGroups(
      const std::string& after, size_t max_groups, size_t max_bytes,
      const std::function<bool(const std::string&)>& include) override;
  absl::StatusOr<uint64_t> Seek(const std::string& name, const StreamPosition& position) override;
  absl::StatusOr<std::vector<DeadLetter>> ListDeadLetters(const std::string& name,
                                                          uint64_t after_sequence,
                                                          size_t limit) override;
  absl::StatusOr<size_t> Requeue(const std::string& name,
                                 const std::optional<std::vector<uint64_t>>& sequences) override;
  absl::Status Delete(const std::string& name) override;

  // Every group described, in name order (for metrics).
  absl::StatusOr<std::vector<v1::ConsumerGroup>> List();

  // Checkpoints every dirty group now.
  absl::Status Flush();

  // The lowest sequence any group may still deliver (cursor, unsettled,
  // dead-lettered); UINT64_MAX when there are no groups. Retention deletes
  // only below it. Checkpoints the groups first, so that the floor never
  // lies above what a restart after a crash would restore.
  absl::StatusOr<uint64_t> RetentionFloor();
  // The same per group: name -> lowest sequence it may still deliver.
  absl::StatusOr<std::map<std::string, uint64_t>> NeededSequences();
  // The groups (by name) that keep events retention would otherwise delete;
  // shown as ConsumerGroup.holding_journal. Replaces the previous set.
  void SetHoldingJournal(std::vector<std::string> names);
  // Groups deleted for being idle since startup.
  uint64_t expired_total() const { return expired_total_.load(std::memory_order_relaxed); }
  // Deletes every group idle past its idle expiry (also done on the
  // checkpoint timer); returns how many.
  size_t ExpireIdleGroups(absl::Time now);
  // Stops the checkpoint thread after a last flush. Idempotent.
  void Shutdown();

  // For GroupFeed: removes a member (under the registry lock, so that Delete
  // and Seek never race with a departing stream).
  void Leave(ConsumerGroup* group, StreamId stream, absl::Time now);

 private:
  GroupRegistry(Journal* journal, GroupStore* store, WakeupHub* hub, GroupDefaults defaults);

  // The group named `name`. The pointer stays valid while checkpoint_mu_ is
  // held: only Delete removes groups, and it holds checkpoint_mu_.
  absl::StatusOr<ConsumerGroup*> Find(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(checkpoint_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Every group (valid likewise), in name order.
  std::vector<ConsumerGroup*> AllGroups() ABSL_EXCLUSIVE_LOCKS_REQUIRED(checkpoint_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Deletes `name` from the store and the map. The caller checked that it
  // has no members.
  absl::Status EraseLocked(std::map<std::string, std::unique_ptr<ConsumerGroup>>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `group`'s checkpoint if it is dirty; puts its deltas back when
  // the write fails.
  absl::Status Checkpoint(ConsumerGroup& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(checkpoint_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<v1::ConsumerGroup> DescribeGroup(ConsumerGroup& group)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(checkpoint_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Wakes members; under mu_ so that none of them has left (Leave).
  void WakeLocked(const std::vector<Wakeable*>& targets) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunCheckpoints();

  Journal* const journal_;
  GroupStore* const store_;
  WakeupHub* const hub_;
  const GroupDefaults defaults_;

  absl::Mutex checkpoint_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<ConsumerGroup>> groups_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> holding_journal_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> expired_total_{0};
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread checkpointer_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_GROUP_REGISTRY_H_
