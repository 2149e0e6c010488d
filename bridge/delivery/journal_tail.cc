#include "bridge/delivery/journal_tail.h"

#include "bridge/common/status_macros.h"

namespace refir::bridge {

JournalTail::JournalTail(Journal* journal, uint64_t next_sequence, size_t max_events,
                         size_t max_bytes)
    : journal_(journal),
      next_sequence_(next_sequence),
      max_events_(max_events),
      max_bytes_(max_bytes) {}

absl::StatusOr<std::vector<v1::Event>> JournalTail::Next() {
  if (next_sequence_ > journal_->HeadSequence()) return std::vector<v1::Event>();
  REFIR_ASSIGN_OR_RETURN(std::vector<v1::Event> events,
                         journal_->Read(next_sequence_, max_events_, max_bytes_));
  if (!events.empty()) next_sequence_ = events.back().sequence() + 1;
  return events;
}

}  // namespace refir::bridge
