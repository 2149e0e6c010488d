#include "bridge/journal/journal.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/common/status_macros.h"

namespace refir::bridge {

absl::Status Journal::VisitStored(uint64_t from_sequence, size_t max_events,
                                  StoredEventVisitor visit) {
  REFIR_ASSIGN_OR_RETURN(std::vector<v1::Event> events, Read(from_sequence, max_events, SIZE_MAX));
  std::string bytes;
  for (v1::Event& event : events) {
    const uint64_t sequence = event.sequence();
    event.clear_sequence();
    bytes.clear();
    if (!event.SerializeToString(&bytes)) {
      return absl::InternalError(
          absl::StrCat("event at sequence ", sequence, " does not serialize"));
    }
    if (!visit(StoredEventView{sequence, event.type(), bytes})) break;
  }
  return absl::OkStatus();
}

}  // namespace refir::bridge
