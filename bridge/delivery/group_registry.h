// GroupRegistry: every durable consumer group of the bridge. Creates groups
// on first use (persisting them before the stream is confirmed), loads them
// at startup, checkpoints their state to the GroupStore on a timer and at
// shutdown, and serves the admin operations (describe, seek, dead letters,
// requeue, delete).
#ifndef REFIR_BRIDGE_DELIVERY_GROUP_REGISTRY_H_
#define REFIR_BRIDGE_DELIVERY_GROUP_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bridge/delivery/consumer_group.h"
#include "bridge/delivery/stream_feed.h"
#include "bridge/delivery/wakeup_hub.h"
#include "bridge/journal/group_store.h"
#include "bridge/journal/journal.h"
#include "refir/bridge/v1/event_stream.pb.h"

namespace refir::bridge {

struct GroupDefaults {
  int max_delivery_attempts = 5;
  // Most consumer groups; a Join that would create one more is
  // RESOURCE_EXHAUSTED. Groups already stored are all loaded, even beyond it.
  size_t max_groups = 1000;
  // How often dirty groups are checkpointed. Acks newer than the last
  // checkpoint are lost by a crash (and those events delivered again).
  absl::Duration checkpoint_interval = absl::Milliseconds(100);
};

class GroupRegistry {
 public:
  // Loads every stored group. `journal`, `store` and `hub` must outlive it.
  static absl::StatusOr<std::unique_ptr<GroupRegistry>> Open(Journal* journal, GroupStore* store,
                                                             WakeupHub* hub,
                                                             GroupDefaults defaults = {});
  ~GroupRegistry();

  GroupRegistry(const GroupRegistry&) = delete;
  GroupRegistry& operator=(const GroupRegistry&) = delete;

  struct Joined {
    std::unique_ptr<StreamFeed> feed;
    bool created = false;
    uint64_t start_sequence = 0;
    int max_delivery_attempts = 0;
    std::vector<std::string> filter_types;
  };
  // Joins (creating if needed) the group named in `init` as a new member.
  // INVALID_ARGUMENT for a bad name or filter; FAILED_PRECONDITION when the
  // group exists with another filter.
  absl::StatusOr<Joined> Join(const v1::SubscribeInit& init, MemberSettings settings,
                              absl::Time now);

  absl::StatusOr<v1::ConsumerGroup> Describe(const std::string& name);
  absl::StatusOr<std::vector<v1::ConsumerGroup>> List();

  // One page of ListConsumerGroups: the groups named after `after` (all when
  // empty) for which `include` is true, in name order, at most `max_groups`
  // of them and, after the first, no more than `max_bytes` serialized.
  // `next_page_token` (the last name listed) is empty when no such group is
  // left. INVALID_ARGUMENT when `after` is not a group name.
  struct Page {
    std::vector<v1::ConsumerGroup> groups;
    std::string next_page_token;
  };
  absl::StatusOr<Page> ListPage(const std::string& after, size_t max_groups, size_t max_bytes,
                                const std::function<bool(const std::string&)>& include);
  absl::StatusOr<uint64_t> Seek(const v1::SeekConsumerGroupRequest& request);
  absl::StatusOr<v1::ListDeadLettersResponse> ListDeadLetters(
      const v1::ListDeadLettersRequest& request);
  absl::StatusOr<int> Requeue(const v1::RequeueDeadLettersRequest& request);
  absl::Status Delete(const std::string& name);

  // Checkpoints every dirty group now.
  absl::Status Flush();

  // The lowest sequence any group may still deliver (cursor, unsettled,
  // dead-lettered); UINT64_MAX when there are no groups. Retention deletes
  // only below it. Checkpoints the groups first, so that the floor never
  // lies above what a restart after a crash would restore.
  absl::StatusOr<uint64_t> RetentionFloor();
  // Stops the checkpoint thread after a last flush. Idempotent.
  void Shutdown();

  // For GroupFeed: removes a member (under the registry lock, so that Delete
  // and Seek never race with a departing stream).
  void Leave(ConsumerGroup* group, StreamId stream, absl::Time now);

 private:
  GroupRegistry(Journal* journal, GroupStore* store, WakeupHub* hub, GroupDefaults defaults);
  absl::StatusOr<ConsumerGroup*> FindLocked(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status FlushGroupLocked(ConsumerGroup& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::ConsumerGroup> DescribeLocked(ConsumerGroup& group)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WakeLocked(const std::vector<Wakeable*>& targets) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunCheckpoints();

  Journal* const journal_;
  GroupStore* const store_;
  WakeupHub* const hub_;
  const GroupDefaults defaults_;

  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<ConsumerGroup>> groups_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread checkpointer_;
};

// Checks a consumer group name: 1 to 128 characters from [A-Za-z0-9._-].
absl::Status ValidateGroupName(const std::string& name);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_GROUP_REGISTRY_H_
