// The scale-out Journal: events live in a NATS JetStream stream (file
// storage, R1 or R3), shared by every bridge replica that names it.
//
// - Append publishes to `<prefix>.<type>` with Nats-Msg-Id derived from the
//   dedup key and returns after the PubAck (a quorum of the stream's
//   replicas holds it); many appends are in flight at once. The sequence is
//   the stream sequence. No PubAck in time, or no stream leader: UNAVAILABLE,
//   and the event may still be stored (a retry with the same dedup key is
//   answered as a duplicate).
// - Reads: the newest events come from memory (RecentEvents, filled by a
//   follower of the stream head, which also learns of other replicas'
//   appends); older ones are read from the stream by sequence.
//
// Where JetStream 2.9 makes it differ from the Journal contract (docs/api.md
// says so too): the dedup window is the stream's duplicate window (one for
// every source, the largest configured); event ids are not made unique
// (GetById is UNIMPLEMENTED); old events are deleted by the stream's own
// limits (MaxAge, MaxBytes), so DeleteOldest deletes nothing.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_JOURNAL_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_JOURNAL_H_

#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/journal/jetstream/jetstream_stream.h"
#include "bridge/journal/jetstream/nats_connection.h"
#include "bridge/journal/journal.h"
#include "bridge/journal/recent_events.h"
#include "bridge/metrics/metrics.h"

namespace refir::bridge {

struct JetStreamJournalOptions {
  jetstream::NatsConnectionOptions connection;
  jetstream::StreamSettings stream;
  // How long an append waits for its PubAck (and a read for its answer).
  absl::Duration timeout = absl::Seconds(5);
  // How long startup retries a stream that is unavailable (a cluster
  // electing its leaders) before it gives up.
  absl::Duration startup_wait = absl::Seconds(30);
  // Appends in flight at most; more wait (up to `timeout`) for room.
  size_t max_pending = 4096;
  // Bytes of the newest events kept in memory (0: none).
  size_t recent_events_bytes = kDefaultRecentEventsBytes;
  // Append latency; null for none. Not owned; must outlive the journal.
  JournalMetrics* metrics = nullptr;
};

// Connects, creates or checks the stream (see jetstream_stream.h) and starts
// following its head. UNAVAILABLE when no NATS server answers,
// FAILED_PRECONDITION when the stream exists with other settings or
// JetStream is not enabled.
absl::StatusOr<std::unique_ptr<Journal>> OpenJetStreamJournal(
    const JetStreamJournalOptions& options);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_JOURNAL_H_
