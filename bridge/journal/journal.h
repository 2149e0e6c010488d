// The Journal: the durable, ordered log of accepted events. Every backend
// (SQLite embedded, NATS JetStream for scale-out) implements this interface;
// nothing above it knows which one is in use.
//
// Contract:
//  - Append returns only once the event is durable (on disk, or acknowledged
//    by the cluster). Appends arriving together may share one commit.
//  - Sequences start at 1, strictly increase, and are never reused.
//  - An event id is stored once: appending an id that is already stored
//    returns the stored event's sequence with duplicate = true.
//  - Reads see exactly the events whose Append has returned or is about to.
#ifndef REFIR_BRIDGE_JOURNAL_JOURNAL_H_
#define REFIR_BRIDGE_JOURNAL_JOURNAL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "refir/bridge/v1/event.pb.h"

namespace refir::bridge {

struct AppendResult {
  uint64_t sequence = 0;
  // The stored event's id.
  std::string id;
  // True when the id was already stored and nothing new was written.
  bool duplicate = false;
};

class Journal {
 public:
  // Called after each durable commit with the new head sequence. Runs on the
  // journal's own thread: it must be quick and must not call back into the
  // journal's Append.
  using AppendListener = std::function<void(uint64_t head_sequence)>;

  virtual ~Journal() = default;

  // Stores `event` durably and returns its sequence. `event.id` must be set;
  // `event.sequence` is ignored. Blocks the caller until durable.
  // UNAVAILABLE (reason "journal_unavailable") when the journal cannot write
  // or is closing; the event may then not be stored and the sender must retry.
  virtual absl::StatusOr<AppendResult> Append(v1::Event event) = 0;

  // Up to `max_events` stored events with sequence >= `from_sequence`, in
  // ascending order, stopping early once `max_bytes` of serialized events
  // have been collected (at least one event is returned if any exists).
  virtual absl::StatusOr<std::vector<v1::Event>> Read(uint64_t from_sequence, size_t max_events,
                                                      size_t max_bytes) = 0;

  // One stored event; NOT_FOUND if absent.
  virtual absl::StatusOr<v1::Event> GetBySequence(uint64_t sequence) = 0;
  virtual absl::StatusOr<v1::Event> GetById(absl::string_view id) = 0;

  // The sequence of the first stored event received at or after `time`, or
  // HeadSequence() + 1 when there is none.
  virtual absl::StatusOr<uint64_t> FirstSequenceAtOrAfter(absl::Time time) = 0;

  // Sequence of the oldest stored event, or HeadSequence() + 1 when empty.
  virtual absl::StatusOr<uint64_t> FirstSequence() = 0;

  // Sequence of the newest durable event; 0 when nothing was ever stored.
  virtual uint64_t HeadSequence() const = 0;

  // False after the last commit attempt failed (until one succeeds) and
  // after Close: what readiness probes report.
  virtual bool Writable() const = 0;

  // Registers `listener` (see AppendListener). Listeners must be registered
  // before appends start and live as long as the journal.
  virtual void AddAppendListener(AppendListener listener) = 0;

  // Finishes pending appends, then refuses new ones with UNAVAILABLE.
  virtual void Close() = 0;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_JOURNAL_JOURNAL_H_
