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

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "refir/bridge/v1/event.pb.h"

namespace refir::bridge {

// ErrorWithReason reason of every UNAVAILABLE a journal's Append returns.
inline constexpr char kJournalUnavailableReason[] = "journal_unavailable";

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

// Which old events DeleteOldest may delete.
struct DeleteRequest {
  // Only events with a smaller sequence (what consumer groups still need
  // starts here).
  uint64_t below_sequence = 0;
  // Only events received before this; InfiniteFuture: any age.
  absl::Time received_before = absl::InfiniteFuture();
  // At most this many in one call (one short write transaction).
  size_t max_events = 500;
};

struct DeleteResult {
  uint64_t deleted = 0;
  // The range deleted, when deleted > 0.
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
};

// One stored event as the journal keeps it, without parsing it: `bytes` is
// the serialized refir.bridge.v1.Event with its `sequence` field unset (the
// sequence is given separately). Views into the journal's memory, valid only
// during the call of the visitor they are passed to.
struct StoredEventView {
  uint64_t sequence = 0;
  absl::string_view type;
  absl::string_view bytes;
};

// Called once per stored event, in ascending sequence order; returns false to
// stop before consuming this event.
using StoredEventVisitor = absl::FunctionRef<bool(const StoredEventView&)>;

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

  // Visits up to `max_events` stored events with sequence >= `from_sequence`
  // in ascending order, until `visit` returns false. The bulk read of the
  // delivery path: events are handed over as stored, so none is parsed.
  // DATA_LOSS when a stored event is malformed. The default implementation
  // reads with Read and serializes each event again; backends that keep
  // serialized events override it.
  virtual absl::Status VisitStored(uint64_t from_sequence, size_t max_events,
                                   StoredEventVisitor visit);

  // One stored event; NOT_FOUND if absent.
  virtual absl::StatusOr<v1::Event> GetBySequence(uint64_t sequence) = 0;
  virtual absl::StatusOr<v1::Event> GetById(absl::string_view id) = 0;

  // The sequence of the first stored event received at or after `time`, or
  // HeadSequence() + 1 when there is none.
  virtual absl::StatusOr<uint64_t> FirstSequenceAtOrAfter(absl::Time time) = 0;

  // Sequence of the oldest stored event, or HeadSequence() + 1 when empty.
  virtual absl::StatusOr<uint64_t> FirstSequence() = 0;

  // Retention. Deletes the oldest stored events, from FirstSequence() on, up
  // to the first one `request` does not allow deleting, at most
  // request.max_events, in one short transaction; then returns freed pages
  // to the file system where the backend can. Sequences are never reused;
  // FirstSequence() moves up; reads of deleted events are NOT_FOUND.
  virtual absl::StatusOr<DeleteResult> DeleteOldest(const DeleteRequest& request) = 0;

  // Bytes the stored events take (excluding free space and write-ahead log).
  virtual absl::StatusOr<uint64_t> StoredBytes() = 0;

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
