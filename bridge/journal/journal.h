// The Journal: the durable, ordered log of accepted events. Every backend
// (SQLite embedded, NATS JetStream for scale-out) implements this interface;
// nothing above it knows which one is in use.
//
// Contract:
//  - Append returns only once the event is durable (on disk, or acknowledged
//    by the cluster). Appends arriving together may share one commit.
//  - Sequences start at 1, strictly increase, and are never reused.
//  - Dedup is by DedupKey, not by event id: an append whose key was stored
//    by an earlier append received less than `window` before it is a
//    duplicate. It stores nothing and returns the ORIGINAL event's id and
//    sequence with duplicate = true. Keys are stored in the same commit as
//    their event, so they hold across restarts and crashes.
//  - Event ids stay unique (GetById): when an appended event's id is already
//    stored and its dedup key did not match (no key, another key, or the
//    window has passed), the journal gives the new event a fresh UUIDv7 id
//    and returns that id. The sender's webhook-id stays in Event.headers.
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

// What makes two appends the same webhook. An empty key disables dedup for
// that append.
struct DedupKey {
  std::string key;
  // An append is a duplicate when an earlier one with the same key was
  // received (Event.received_at) less than `window` before it. A stored key
  // is kept (and then purged) for the window it was stored with.
  absl::Duration window = absl::Minutes(10);
};

struct AppendResult {
  uint64_t sequence = 0;
  // The stored event's id: the appended id, a fresh UUIDv7 when that id was
  // taken, or for a duplicate the original event's id.
  std::string id;
  // True when the dedup key matched and nothing new was written.
  bool duplicate = false;
};

class Journal {
 public:
  // Called after each durable commit with the new head sequence. Runs on the
  // journal's own thread: it must be quick and must not call back into the
  // journal's Append.
  using AppendListener = std::function<void(uint64_t head_sequence)>;

  virtual ~Journal() = default;

  // Stores `event` durably and returns its sequence, unless `dedup` marks it
  // a duplicate (see the contract above). `event.id` must be set;
  // `event.sequence` is ignored; the dedup window is measured on
  // `event.received_at` (the journal's clock when unset). Blocks the caller
  // until durable. UNAVAILABLE (reason "journal_unavailable") when the
  // journal cannot write or is closing; the event may then not be stored and
  // the sender must retry.
  virtual absl::StatusOr<AppendResult> Append(v1::Event event, DedupKey dedup) = 0;

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
