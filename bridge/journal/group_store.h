// GroupStore: durable storage of consumer-group state and dead letters. The
// delivery layer keeps groups in memory and checkpoints them here; after a
// restart it loads them back. Implementations: journal/sqlite (embedded).
//
// Contract: SaveGroup is atomic (state, added and removed dead letters land
// together or not at all) and durable against a crash of the process once it
// returns. A lost checkpoint (power loss) only makes the group older, which
// redelivers events: it never loses one.
#ifndef REFIR_BRIDGE_JOURNAL_GROUP_STORE_H_
#define REFIR_BRIDGE_JOURNAL_GROUP_STORE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bridge/journal/group_state.pb.h"

namespace refir::bridge {

class GroupStore {
 public:
  virtual ~GroupStore() = default;

  // Every stored group, in name order.
  virtual absl::StatusOr<std::vector<internal::GroupState>> LoadGroups() = 0;

  // In one transaction: replaces the state of group `state.name()` (creating
  // it), inserts `added_dead_letters` (replacing any with the same sequence)
  // and deletes the dead letters with sequences in `removed_dead_letters`.
  virtual absl::Status SaveGroup(const internal::GroupState& state,
                                 absl::Span<const internal::DeadLetterRecord> added_dead_letters,
                                 absl::Span<const uint64_t> removed_dead_letters) = 0;

  // Deletes the group and all its dead letters. OK if it does not exist.
  virtual absl::Status DeleteGroup(absl::string_view name) = 0;

  // Up to `limit` dead letters of `name` with sequence > `after_sequence`,
  // ascending.
  virtual absl::StatusOr<std::vector<internal::DeadLetterRecord>> ListDeadLetters(
      absl::string_view name, uint64_t after_sequence, size_t limit) = 0;

  // Number of dead letters of `name`.
  virtual absl::StatusOr<uint64_t> CountDeadLetters(absl::string_view name) = 0;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_JOURNAL_GROUP_STORE_H_
