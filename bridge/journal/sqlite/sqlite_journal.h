// The embedded default Journal: one SQLite database file in WAL mode with
// synchronous=FULL. A single committer thread takes every append waiting at
// that moment and writes them in one transaction (group commit), so one
// fsync covers many webhooks; each caller is released once its commit is
// durable. Reads use a small pool of separate connections (WAL readers do
// not block the writer).
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/journal/journal.h"
#include "bridge/journal/recent_events.h"
#include "bridge/metrics/metrics.h"

namespace refir::bridge {

struct SqliteJournalOptions {
  // Path of the database file; its directory must exist.
  std::string path;
  // Most appends written in one transaction.
  size_t max_batch = 512;
  // Most appends waiting for the committer; further Append calls block until
  // there is room (back-pressure onto the HTTP workers).
  size_t max_pending = 4096;
  // Read connections kept open.
  size_t reader_connections = 4;
  // Expired dedup keys are purged at most this often, at most
  // dedup_purge_batch per short transaction (between group commits).
  absl::Duration dedup_purge_interval = absl::Seconds(1);
  size_t dedup_purge_batch = 256;
  // The newest committed events kept in memory, serialized, for the streams
  // that follow the head (RecentEvents); 0 turns the cache off.
  size_t recent_events_bytes = kDefaultRecentEventsBytes;
  // Where append latency and commit batches are recorded; null for none.
  // Not owned; must outlive the journal.
  JournalMetrics* metrics = nullptr;
};

// Opens (creating if needed) the journal at options.path and starts its
// committer thread. Fails if the file cannot be opened or its schema is from
// an unknown version.
absl::StatusOr<std::unique_ptr<Journal>> OpenSqliteJournal(const SqliteJournalOptions& options);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_H_
