// EventFilter: which event types a consumer group receives. Entries are exact
// types or prefixes ending in ".*"; "*" matches everything; no entries match
// everything.
#ifndef REFIR_BRIDGE_DELIVERY_EVENT_FILTER_H_
#define REFIR_BRIDGE_DELIVERY_EVENT_FILTER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refir::bridge {

// Most entries a new consumer group's filter may have.
inline constexpr size_t kMaxFilterEntries = 100;
// Longest filter entry.
inline constexpr size_t kMaxFilterEntryBytes = 256;

// INVALID_ARGUMENT naming the limit when a filter for a new subscription has
// more than kMaxFilterEntries entries. (Create does not check the count, so
// groups stored before the limit existed still load.)
absl::Status CheckFilterEntryCount(size_t entries);

class EventFilter {
 public:
  // INVALID_ARGUMENT for an empty entry, one over kMaxFilterEntryBytes, or a '*' other
  // than as the whole entry or in a trailing ".*". Entries are kept sorted
  // and de-duplicated, so equal filters compare equal.
  static absl::StatusOr<EventFilter> Create(std::vector<std::string> types);

  bool Matches(absl::string_view type) const;
  const std::vector<std::string>& types() const { return types_; }
  bool operator==(const EventFilter& other) const { return types_ == other.types_; }

 private:
  explicit EventFilter(std::vector<std::string> types);
  std::vector<std::string> types_;
  bool match_all_ = false;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_EVENT_FILTER_H_
