// ServedGroups: the consumer groups as the rest of the bridge sees them,
// whether or not this replica serves them. On SQLite it always does. On
// JetStream only the replica holding the coordinator lease does
// (GroupCoordinator); the others are standbys, which answer every group
// call UNAVAILABLE, naming the replica that serves the groups, until they
// take the lease over and are given the registry.
#ifndef REFIR_BRIDGE_SERVER_SERVED_GROUPS_H_
#define REFIR_BRIDGE_SERVER_SERVED_GROUPS_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "bridge/delivery/consumer_groups.h"
#include "bridge/delivery/group_registry.h"

namespace refir::bridge {

class ServedGroups final : public ConsumerGroups {
 public:
  // `describe_server` says which replica serves the groups ("" when none is
  // known), for the standby's errors.
  explicit ServedGroups(std::function<std::string()> describe_server)
      : describe_server_(std::move(describe_server)) {}
  ~ServedGroups() override { Shutdown(); }

  // From now on this replica serves the groups. Once.
  void Serve(std::unique_ptr<GroupRegistry> registry) ABSL_LOCKS_EXCLUDED(mu_);
  // Null while a standby. Valid until Shutdown.
  GroupRegistry* registry() const ABSL_LOCKS_EXCLUDED(mu_);

  // ConsumerGroups: forwarded to the registry, or UNAVAILABLE.
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

  // OK while this replica serves the groups; otherwise the UNAVAILABLE every
  // group call gets (what /readyz/groups reports).
  absl::Status ServingStatus() const;

  // Every group described (none on a standby), for metrics.
  absl::StatusOr<std::vector<v1::ConsumerGroup>> List();
  // Checkpoints and stops the registry, if any. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The registry, or UNAVAILABLE naming the replica that serves groups.
  absl::StatusOr<GroupRegistry*> Serving() const;

  const std::function<std::string()> describe_server_;
  mutable absl::Mutex mu_;
  std::unique_ptr<GroupRegistry> registry_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_SERVER_SERVED_GROUPS_H_
