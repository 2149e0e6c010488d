// EventFilter: which event types a consumer group receives. Entries are exact
// types or prefixes ending in ".*"; "*" matches everything; no entries match
// everything.
#ifndef REFIR_BRIDGE_DELIVERY_EVENT_FILTER_H_
#define REFIR_BRIDGE_DELIVERY_EVENT_FILTER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refir::bridge {

class EventFilter {
 public:
  // INVALID_ARGUMENT for an empty entry, one over 256 bytes, or a '*' other
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
