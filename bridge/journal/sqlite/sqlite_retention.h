// The SQLite journal's retention queries: finding the oldest run of events
// a DeleteRequest allows deleting, deleting it, and measuring the bytes
// stored, all on the journal's writer connection.
//
// Contract: FindDeletable and DeleteRange run inside the caller's write
// transaction (the delete is one short transaction per Journal::DeleteOldest
// call); the caller returns freed pages afterwards (kIncrementalVacuumSql).
//
// Threading: not thread-safe, like the connection it was prepared on. The
// JournalWriter owns it as a member guarded by its mutex, so the analysis
// checks every use.
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_RETENTION_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_RETENTION_H_

#include <sqlite3.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bridge/journal/journal.h"
#include "bridge/journal/sqlite/sqlite_db.h"

namespace refir::bridge::sqlite {

class RetentionQueries {
 public:
  // Prepares the statements on `db`, which must outlive them.
  static absl::StatusOr<RetentionQueries> Prepare(sqlite3* db);

  RetentionQueries() = default;
  RetentionQueries(RetentionQueries&&) = default;
  RetentionQueries& operator=(RetentionQueries&&) = default;

  // Sets `result` to the oldest run of events `request` allows deleting:
  // from the first stored event up to the first one it does not.
  absl::Status FindDeletable(const DeleteRequest& request, DeleteResult* result);

  // Deletes the events with sequences in [first, last].
  absl::Status DeleteRange(uint64_t first_sequence, uint64_t last_sequence);

  // Bytes of the database file in use (pages minus free pages).
  absl::StatusOr<uint64_t> StoredBytes();

 private:
  sqlite3* db_ = nullptr;
  StmtPtr oldest_;
  StmtPtr delete_range_;
};

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_RETENTION_H_
