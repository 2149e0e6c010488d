// The SQLite journal's writer: its one read-write connection with every
// statement prepared on it (inserts, the dedup table, the retention
// queries), and the write transactions run on it: committing a batch of
// appends, purging expired dedup keys, deleting old events.
//
// Contract: CommitBatch writes a batch in one transaction and, once it is
// durable, adds the stored events to the RecentEvents cache while still
// holding the write lock (so a retention delete cannot come in between);
// when it fails it rolls back and invalidates the cache. DeleteOldest drops
// the events from the cache before the rows go.
//
// Threading: thread-safe. One mutex (mu_) guards the connection and every
// statement; each public method takes it. In practice CommitBatch and
// PurgeExpiredDedupKeys run on the group committer's thread, DeleteOldest
// and StoredBytes on the retention thread. Lock order: mu_ before the
// RecentEvents mutex (taken inside it); no other lock is held with it.
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_WRITER_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "bridge/journal/journal.h"
#include "bridge/journal/recent_events.h"
#include "bridge/journal/sqlite/sqlite_db.h"
#include "bridge/journal/sqlite/sqlite_dedup.h"
#include "bridge/journal/sqlite/sqlite_pending_append.h"
#include "bridge/journal/sqlite/sqlite_retention.h"

namespace refir::bridge::sqlite {

class JournalWriter {
 public:
  // Opens (creating or upgrading) the journal at `path` and prepares the
  // statements. `recent` is not owned and must outlive the writer.
  static absl::StatusOr<std::unique_ptr<JournalWriter>> Open(const std::string& path,
                                                             RecentEvents* recent);

  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // The largest sequence ever stored (0 for none).
  absl::StatusOr<uint64_t> QueryHead() ABSL_LOCKS_EXCLUDED(mu_);

  // Writes `batch` (not empty) in one transaction, filling in each record's
  // result (not its status), and raises `*max_inserted` to the largest
  // sequence stored. On failure the transaction is rolled back; it may
  // still have stored part of the batch.
  absl::Status CommitBatch(absl::Span<PendingAppend* const> batch, uint64_t* max_inserted)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Deletes up to `max_keys` dedup keys that expired before the newest
  // received_at committed so far, in a short transaction of its own.
  // Returns true when there may be more to purge; failures are logged.
  bool PurgeExpiredDedupKeys(size_t max_keys) ABSL_LOCKS_EXCLUDED(mu_);

  // Journal::DeleteOldest and Journal::StoredBytes.
  absl::StatusOr<DeleteResult> DeleteOldest(const DeleteRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<uint64_t> StoredBytes() ABSL_LOCKS_EXCLUDED(mu_);

  // Use Open(); the key keeps other callers from making a writer without a
  // connection.
  class Key {
    friend class JournalWriter;
    Key() = default;
  };
  JournalWriter(Key /*key*/, RecentEvents* recent) : recent_(recent) {}

 private:
  absl::Status WriteBatch(absl::Span<PendingAppend* const> batch, uint64_t* max_inserted)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stores one record, or finds it a duplicate by its dedup key.
  absl::Status InsertOne(PendingAppend* record, uint64_t* max_inserted)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<bool> IdTaken(absl::string_view id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  // The connection and its statements. Statements are declared after the
  // connection so they are finalized first.
  DbPtr db_ ABSL_GUARDED_BY(mu_);
  WriteTransactions transactions_ ABSL_GUARDED_BY(mu_);
  StmtPtr insert_ ABSL_GUARDED_BY(mu_);
  StmtPtr sequence_by_id_ ABSL_GUARDED_BY(mu_);
  DedupTable dedup_ ABSL_GUARDED_BY(mu_);
  RetentionQueries retention_ ABSL_GUARDED_BY(mu_);
  // The newest received_at committed, in Unix microseconds: the dedup
  // clock. Keys that expired before it are purged.
  int64_t dedup_clock_us_ ABSL_GUARDED_BY(mu_) = 0;

  // The newest committed events; its own mutex is taken under mu_.
  RecentEvents* const recent_;
};

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_WRITER_H_
