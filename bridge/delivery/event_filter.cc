#include "bridge/delivery/event_filter.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace refir::bridge {

absl::Status CheckFilterEntryCount(size_t entries) {
  if (entries <= kMaxFilterEntries) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("filter.types has ", entries, " entries; the limit is ", kMaxFilterEntries));
}

absl::StatusOr<EventFilter> EventFilter::Create(std::vector<std::string> types) {
  for (const std::string& type : types) {
    if (type.empty()) return absl::InvalidArgumentError("filter.types has an empty entry");
    if (type.size() > kMaxFilterEntryBytes) {
      return absl::InvalidArgumentError(absl::StrCat("filter.types has an entry of ", type.size(),
                                                     " bytes; the limit is ",
                                                     kMaxFilterEntryBytes));
    }
    const size_t star = type.find('*');
    if (star == std::string::npos || type == "*") continue;
    if (star != type.size() - 1 || !absl::EndsWith(type, ".*")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "filter.types entry \"", type, "\": '*' may only be the whole entry or end in \".*\""));
    }
  }
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  return EventFilter(std::move(types));
}

EventFilter::EventFilter(std::vector<std::string> types) : types_(std::move(types)) {
  match_all_ = types_.empty() || std::find(types_.begin(), types_.end(), "*") != types_.end();
}

bool EventFilter::Matches(absl::string_view type) const {
  if (match_all_) return true;
  for (const std::string& entry : types_) {
    if (absl::EndsWith(entry, ".*")) {
      // "refir.referral.*" matches "refir.referral.created" (not "refir.referral").
      if (absl::StartsWith(type, absl::string_view(entry).substr(0, entry.size() - 1))) {
        return true;
      }
    } else if (type == entry) {
      return true;
    }
  }
  return false;
}

}  // namespace refir::bridge
