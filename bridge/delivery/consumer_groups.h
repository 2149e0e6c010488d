// ConsumerGroups: what the gRPC edge asks of durable consumer groups, in
// domain terms (no request messages, page tokens or gRPC statuses): join a
// group as a member stream (whose StreamFeed delivers, settles and extends),
// describe and list groups, seek, list and requeue dead letters, delete.
// GroupRegistry implements it over the embedded journal and GroupStore; a
// group kept by another backend (NATS JetStream, for scale-out) can sit
// behind the same interface.
#ifndef REFIR_BRIDGE_DELIVERY_CONSUMER_GROUPS_H_
#define REFIR_BRIDGE_DELIVERY_CONSUMER_GROUPS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bridge/delivery/retry_policy.h"
#include "bridge/delivery/start_position.h"
#include "bridge/delivery/stream_feed.h"
#include "refir/bridge/v1/event.pb.h"
#include "refir/bridge/v1/event_stream.pb.h"

namespace refir::bridge {

class Wakeable;

// One member stream's settings. The gRPC service fills every field; the
// defaults and bounds are StreamLimits' (bridge/grpc_api/stream_limits.h).
struct MemberSettings {
  std::string client_id;
  std::string peer;
  int max_outstanding = 0;
  int max_batch = 0;
  size_t max_batch_bytes = 0;
  absl::Duration ack_deadline;
  absl::Time connected_at;
  // Woken when work appears that the stream may not be waiting for (a seek,
  // a requeue). Must stay valid until the feed is closed.
  Wakeable* wakeable = nullptr;
};

// Which group a stream joins, and how the group is created when it is new.
struct JoinRequest {
  std::string group;
  // Event types the group receives (all when empty); an existing group must
  // have the same filter.
  std::vector<std::string> filter_types;
  // Where a new group starts; ignored when the group exists (so an error
  // here, such as a malformed time, fails only the creation of a group).
  absl::StatusOr<StreamPosition> start = StreamPosition::Latest();
  // Deliveries before dead-lettering, for a new group.
  int max_delivery_attempts = 5;
  // Backoff between redeliveries (none: at once), validated by the caller
  // (ValidateRetryPolicy). Fixed when the group is created: an existing
  // group must have the same policy.
  std::optional<RetryPolicy> retry_policy;
  // Per-key ordering, for a new group; an existing group must match.
  bool enable_ordering = false;
  // Deleted after this long without a stream (zero: never), for a new
  // group; nullopt: the bridge's default (--group_idle_expiry). When set, an
  // existing group must have the same value. At most kMaxIdleExpiry.
  std::optional<absl::Duration> idle_expiry;
};

// The longest idle expiry a group can be given.
inline constexpr absl::Duration kMaxIdleExpiry = absl::Hours(24 * 365);

struct JoinedGroup {
  std::unique_ptr<StreamFeed> feed;
  bool created = false;
  // The group's ack floor: the lowest sequence it may still deliver.
  uint64_t start_sequence = 0;
  int max_delivery_attempts = 0;
  std::vector<std::string> filter_types;
  std::optional<RetryPolicy> retry_policy;
  bool enable_ordering = false;
  absl::Duration idle_expiry;
};

// One page of groups, in name order. `more` is true when groups the page
// could not hold are left after the last one.
struct GroupPage {
  std::vector<v1::ConsumerGroup> groups;
  bool more = false;
};

struct DeadLetter {
  uint64_t sequence = 0;
  int delivery_attempts = 0;
  std::string reason;
  absl::Time dead_lettered_at;
  // The event, when the journal still stores it.
  std::optional<v1::Event> event;
};

class ConsumerGroups {
 public:
  virtual ~ConsumerGroups() = default;

  // Joins (creating if needed) a group as a new member. INVALID_ARGUMENT for
  // a bad name, filter, retry policy or idle expiry; FAILED_PRECONDITION
  // when the group exists with another filter, retry policy, ordering or
  // (explicit) idle expiry; RESOURCE_EXHAUSTED when a new group would pass
  // the limit.
  virtual absl::StatusOr<JoinedGroup> Join(const JoinRequest& request, MemberSettings settings,
                                           absl::Time now) = 0;

  // NOT_FOUND for an unknown group (also below).
  virtual absl::StatusOr<v1::ConsumerGroup> Describe(const std::string& name) = 0;

  // The groups named after `after` (from the first when empty) for which
  // `include` is true, in name order: at most `max_groups` of them and,
  // after the first, no more than `max_bytes` serialized.
  virtual absl::StatusOr<GroupPage> ListGroups(
      const std::string& after, size_t max_groups, size_t max_bytes,
      const std::function<bool(const std::string&)>& include) = 0;

  // Moves the group's cursor to `position`; returns the sequence it
  // delivers next.
  virtual absl::StatusOr<uint64_t> Seek(const std::string& name,
                                        const StreamPosition& position) = 0;

  // Up to `limit` dead letters with sequence > `after_sequence`, ascending.
  virtual absl::StatusOr<std::vector<DeadLetter>> ListDeadLetters(const std::string& name,
                                                                  uint64_t after_sequence,
                                                                  size_t limit) = 0;

  // Makes these dead letters (unknown sequences are skipped), or all of them
  // when `sequences` is nullopt, due for delivery again; returns how many.
  virtual absl::StatusOr<size_t> Requeue(const std::string& name,
                                         const std::optional<std::vector<uint64_t>>& sequences) = 0;

  // FAILED_PRECONDITION while the group has members.
  virtual absl::Status Delete(const std::string& name) = 0;
};

// Checks a consumer group name: 1 to 128 characters from [A-Za-z0-9._-].
absl::Status ValidateGroupName(const std::string& name);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_CONSUMER_GROUPS_H_
