#include "bridge/delivery/journal_tail.h"

#include "bridge/common/status_macros.h"

namespace refir::bridge {

JournalTail::JournalTail(Journal* journal, uint64_t next_sequence, size_t max_events,
                         size_t max_bytes)
    : journal_(journal),
      next_sequence_(next_sequence),
      max_events_(max_events),
      max_bytes_(max_bytes) {}

absl::Status JournalTail::Next(OutgoingBatch* batch) {
  if (next_sequence_ > journal_->HeadSequence()) return absl::OkStatus();
  const size_t first = batch->size();
  const size_t bytes_before = batch->event_bytes();
  absl::Status read =
      journal_->VisitStored(next_sequence_, max_events_, [&](const StoredEventView& event) {
        const size_t bytes = batch->event_bytes() - bytes_before;
        // Never exceed max_bytes, except that one event always fits.
        if (batch->size() > first &&
            (event.bytes.size() > max_bytes_ || bytes > max_bytes_ - event.bytes.size())) {
          return false;
        }
        batch->Add(event.sequence, /*ack_id=*/"", /*delivery_attempt=*/1, event.bytes);
        next_sequence_ = event.sequence + 1;
        return true;
      });
  // What was read before an error is sent; the next read meets it again.
  return batch->size() > first ? absl::OkStatus() : read;
}

}  // namespace refir::bridge
