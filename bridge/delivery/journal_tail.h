// JournalTail: a cursor that reads a stream's next batch of events from the
// journal, so a stream holds at most one batch in memory and the backlog
// stays on disk.
#ifndef REFIR_BRIDGE_DELIVERY_JOURNAL_TAIL_H_
#define REFIR_BRIDGE_DELIVERY_JOURNAL_TAIL_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "bridge/delivery/outgoing_batch.h"
#include "bridge/journal/journal.h"

namespace refir::bridge {

class JournalTail {
 public:
  // Reads from `next_sequence` on; batches hold at most `max_events` events
  // and about `max_bytes` bytes (always at least one event when any is ready).
  JournalTail(Journal* journal, uint64_t next_sequence, size_t max_events, size_t max_bytes);

  // Adds the next events after the cursor to `batch` (as first deliveries
  // without ack ids), advancing the cursor past them; adds nothing when the
  // cursor is at the head. Not thread-safe.
  absl::Status Next(OutgoingBatch* batch);

  // The sequence the next read starts at.
  uint64_t next_sequence() const { return next_sequence_; }

 private:
  Journal* journal_;
  uint64_t next_sequence_;
  size_t max_events_;
  size_t max_bytes_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_JOURNAL_TAIL_H_
