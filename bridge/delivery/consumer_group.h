// ConsumerGroup: the in-memory state machine of one durable consumer group:
// its cursor, the deliveries outstanding on each member stream (leases with
// ack deadlines), events waiting for redelivery, and dead-lettering. Streams
// of a group compete for its events; each group sees every matching event.
//
// Durability: the state is checkpointed to a GroupStore (see GroupRegistry)
// as `cursor` plus the set of unsettled sequences with their attempt counts.
// Everything below the cursor that is not unsettled is settled, so a
// checkpoint lost or older than memory only causes redelivery, never loss.
//
// Backoff: with a RetryPolicy (from the state), an expired lease and a RETRY
// nack without a delay make the event due after BackoffDelay(policy,
// attempts); without one, at once. Due times are not checkpointed: after a
// restart every unsettled event is due at once.
//
// Per-key ordering (groups created with enable_ordering): of the unsettled
// events sharing a non-empty Event.ordering_key, one is active (leased or
// due); the others are held, in sequence order, and the lowest becomes due
// when the active one is acked or dead-lettered. A key is read from the
// stored bytes when the event is first pulled (for events restored at
// startup or requeued, when they are next due, which is before any new
// event is read, so they resolve in sequence order too).
//
// Idle expiry: the group remembers when a stream was last attached (and
// when one left), checkpointed, so that the registry can delete a group
// idle for longer than its idle_expiry, across restarts too.
//
// Thread-safe: every method takes the group's mutex.
#ifndef REFIR_BRIDGE_DELIVERY_CONSUMER_GROUP_H_
#define REFIR_BRIDGE_DELIVERY_CONSUMER_GROUP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bridge/delivery/consumer_groups.h"
#include "bridge/delivery/event_filter.h"
#include "bridge/delivery/outgoing_batch.h"
#include "bridge/delivery/retry_policy.h"
#include "bridge/delivery/stream_feed.h"
#include "bridge/journal/group_state.pb.h"
#include "bridge/journal/journal.h"
#include "refir/bridge/v1/event_stream.pb.h"

namespace refir::bridge {

class Wakeable;

using StreamId = uint64_t;

// Dead-letter deltas and state to persist, taken under the group's lock.
struct GroupCheckpoint {
  internal::GroupState state;
  std::vector<internal::DeadLetterRecord> added_dead_letters;
  std::vector<uint64_t> removed_dead_letters;
};

class ConsumerGroup {
 public:
  // Ordered groups: most events held behind their key's active one. Past
  // it, the group stops reading new events (they wait in the journal, as
  // lag) until a held one is released, so one busy key cannot fill memory.
  static constexpr size_t kMaxHeldEvents = 100000;

  // A group from stored (or freshly created) state. `epoch` goes into every
  // ack id this instance issues. Unsettled entries of `state` are due for
  // redelivery at once. The retry policy is read from `state`.
  ConsumerGroup(internal::GroupState state, EventFilter filter, Journal* journal, uint32_t epoch,
                absl::Time now);

  const std::string& name() const { return name_; }
  const EventFilter& filter() const { return filter_; }
  int max_delivery_attempts() const { return max_delivery_attempts_; }
  const std::optional<RetryPolicy>& retry_policy() const { return retry_policy_; }
  bool ordered() const { return ordered_; }
  absl::Duration idle_expiry() const { return idle_expiry_; }

  // Adds a member stream (attached at settings.connected_at).
  StreamId Attach(MemberSettings settings);
  // Removes a member; its outstanding deliveries are due for redelivery now
  // (or dead-lettered). Returns the other members to wake.
  std::vector<Wakeable*> Detach(StreamId stream, absl::Time now);
  size_t member_count() const;
  // True when the group has an idle expiry, no member, and none for at
  // least that long.
  bool IdleExpired(absl::Time now) const;

  // Adds up to one batch for `stream` to `batch` (empty when called): due
  // redeliveries first (oldest sequence first), then events never delivered,
  // in sequence order, skipping those the filter rejects; never more than
  // the stream's window has room for. An error is returned only when
  // nothing was added.
  absl::Status Pull(StreamId stream, absl::Time now, OutgoingBatch* batch);
  FeedWait NextWait(StreamId stream, absl::Time now);
  void Settle(StreamId stream, const v1::Settle& settle, absl::Time now, v1::SettleResult* result);
  void Extend(StreamId stream, const v1::ExtendDeadline& extend, absl::Time now,
              v1::SettleResult* result);
  void SetMaxOutstanding(StreamId stream, int max_outstanding);

  // Admin. Describe fills everything but head_sequence, lag, dead_letters,
  // oldest_unacked_received_at and holding_journal.
  void Describe(absl::Time now, v1::ConsumerGroup* out) const;
  // Moves the cursor to `sequence`; forgets outstanding and due deliveries.
  // Returns the members to wake.
  std::vector<Wakeable*> Seek(uint64_t sequence);
  // Makes these dead letters due for delivery again with attempt counts
  // reset; the next checkpoint deletes them from the store atomically with
  // the state that lists them unsettled. Returns the members to wake.
  std::vector<Wakeable*> Requeue(absl::Span<const uint64_t> sequences, absl::Time now);

  // The lowest sequence this group may still deliver: its cursor, or the
  // lowest unsettled (leased or due) or not yet checkpointed dead-lettered
  // sequence if lower. Dead letters already in the store are not counted.
  uint64_t LowestNeededSequence() const;

  // Checkpointing.
  bool dirty() const;
  GroupCheckpoint TakeCheckpoint();
  // Puts back the deltas of a checkpoint that could not be saved.
  void CheckpointFailed(GroupCheckpoint checkpoint);

 private:
  struct Unsettled {
    int attempts = 0;  // deliveries made so far
    bool leased = false;
    StreamId stream = 0;
    uint64_t delivery = 0;  // the lease's delivery number (in its ack id)
    absl::Time deadline;    // lease deadline when leased
    absl::Time not_before;  // earliest redelivery when not leased
    // Ordered groups: held behind the active event of its key (neither
    // leased nor due), and whether its key has been read yet.
    bool held = false;
    bool key_known = false;
  };
  // Ordered groups: the unsettled events of one ordering key.
  struct KeyQueue {
    uint64_t active = 0;  // leased or due
    absl::btree_set<uint64_t> held;
  };
  struct Member {
    MemberSettings settings;
    int outstanding = 0;
  };
  // B-trees, not std::map/set: a catch-up inserts and erases hundreds of
  // thousands of entries a second, and a node per entry (malloc, free,
  // rebalancing) cost more than the rest of the ack bookkeeping. Any insert
  // or erase invalidates their iterators and references.
  using UnsettledMap = absl::btree_map<uint64_t, Unsettled>;
  using TimeQueue = absl::btree_set<std::pair<absl::Time, uint64_t>>;

  void ExpireLeasesLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the lease of `it` (which must be leased).
  void ReleaseLeaseLocked(UnsettledMap::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // When an event whose delivery failed (lease expired, RETRY nack without
  // a delay) is due again: now plus the policy's backoff, or now.
  absl::Time BackoffUntilLocked(const Unsettled& entry, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a failed delivery: dead-letter when attempts are used up (or
  // `force_dead_letter`), else schedule redelivery at `not_before`.
  void RetryOrDeadLetterLocked(UnsettledMap::iterator it, absl::Time not_before,
                               bool force_dead_letter, const std::string& reason, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Leases `entry` to `stream` and adds the delivery of `stored_event` to
  // `batch`.
  void AddDeliveryLocked(StreamId stream, Member& member, uint64_t sequence, Unsettled& entry,
                         absl::Time now, absl::string_view stored_event, OutgoingBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ordered groups: records `key` for `sequence` (an unsettled entry whose
  // key was unknown) and returns true when the entry must be held behind
  // another event of its key (it is then marked held).
  bool HoldForKeyLocked(uint64_t sequence, Unsettled& entry, absl::string_view key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Erases a settled (acked, dead-lettered, no longer stored) entry; in an
  // ordered group the next held event of its key becomes due at `now`.
  void ForgetLocked(UnsettledMap::iterator it, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Looks up a live lease for `ack_id`; reports it expired/unknown otherwise.
  UnsettledMap::iterator FindLiveLocked(const std::string& ack_id, v1::SettleResult* result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const EventFilter filter_;
  const int max_delivery_attempts_;
  const std::optional<RetryPolicy> retry_policy_;
  const bool ordered_;
  const absl::Duration idle_expiry_;
  const int64_t created_at_unix_micros_;
  Journal* const journal_;
  const uint32_t epoch_;

  mutable absl::Mutex mu_;
  uint64_t cursor_ ABSL_GUARDED_BY(mu_);
  UnsettledMap unsettled_ ABSL_GUARDED_BY(mu_);
  // (not_before, sequence) of unsettled entries waiting for redelivery.
  TimeQueue due_ ABSL_GUARDED_BY(mu_);
  // (deadline, sequence) of leased entries.
  TimeQueue leases_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<StreamId, Member> members_ ABSL_GUARDED_BY(mu_);
  StreamId next_stream_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_delivery_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t redelivered_total_ ABSL_GUARDED_BY(mu_);
  std::vector<internal::DeadLetterRecord> added_dead_letters_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> removed_dead_letters_ ABSL_GUARDED_BY(mu_);
  // Ordered groups: the key of each unsettled entry that has one, and the
  // queue of each key with unsettled entries.
  absl::flat_hash_map<uint64_t, std::string> key_of_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, KeyQueue> keys_ ABSL_GUARDED_BY(mu_);
  // Held entries in keys_, bounded (see kMaxHeldEvents in the .cc).
  size_t held_count_ ABSL_GUARDED_BY(mu_) = 0;
  // When a stream last attached or left (creation when never), and when the
  // last ack arrived (InfinitePast when never).
  absl::Time last_attached_ ABSL_GUARDED_BY(mu_);
  absl::Time last_acked_ ABSL_GUARDED_BY(mu_);
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  std::string ack_id_scratch_ ABSL_GUARDED_BY(mu_);  // reused by AddDeliveryLocked
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_CONSUMER_GROUP_H_
