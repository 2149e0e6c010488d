#include "bridge/journal/sqlite/sqlite_retention.h"

#include <algorithm>

#include "absl/time/time.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/sqlite/sqlite_constants.h"

namespace refir::bridge::sqlite {

absl::StatusOr<RetentionQueries> RetentionQueries::Prepare(sqlite3* db) {
  RetentionQueries queries;
  queries.db_ = db;
  REFIR_ASSIGN_OR_RETURN(
      queries.oldest_,
      sqlite::Prepare(db,
                      "SELECT sequence, received_at_us FROM events ORDER BY sequence LIMIT ?1"));
  REFIR_ASSIGN_OR_RETURN(
      queries.delete_range_,
      sqlite::Prepare(db, "DELETE FROM events WHERE sequence >= ?1 AND sequence <= ?2"));
  return queries;
}

absl::Status RetentionQueries::FindDeletable(const DeleteRequest& request, DeleteResult* result) {
  sqlite3_stmt* stmt = oldest_.get();
  ScopedReset reset(stmt);
  REFIR_RETURN_IF_ERROR(BindInt64(db_, stmt, 1, ToSqliteInt(request.max_events)));
  const int64_t cutoff_us = absl::ToUnixMicros(request.received_before);
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return SqliteError(db_, rc, "reading the oldest events");
    const auto sequence = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    if (sequence >= request.below_sequence || sqlite3_column_int64(stmt, 1) >= cutoff_us) break;
    if (result->deleted == 0) result->first_sequence = sequence;
    result->last_sequence = sequence;
    ++result->deleted;
  }
  return absl::OkStatus();
}

absl::Status RetentionQueries::DeleteRange(uint64_t first_sequence, uint64_t last_sequence) {
  sqlite3_stmt* stmt = delete_range_.get();
  REFIR_RETURN_IF_ERROR(BindInt64(db_, stmt, 1, ToSqliteInt(first_sequence)));
  REFIR_RETURN_IF_ERROR(BindInt64(db_, stmt, 2, ToSqliteInt(last_sequence)));
  return StepDone(db_, stmt, "deleting old events");
}

absl::StatusOr<uint64_t> RetentionQueries::StoredBytes() {
  REFIR_ASSIGN_OR_RETURN(int64_t pages, QueryInt64(db_, "PRAGMA page_count", 0));
  REFIR_ASSIGN_OR_RETURN(int64_t free_pages, QueryInt64(db_, "PRAGMA freelist_count", 0));
  REFIR_ASSIGN_OR_RETURN(int64_t page_size, QueryInt64(db_, "PRAGMA page_size", 0));
  return static_cast<uint64_t>(std::max<int64_t>(pages - free_pages, 0)) *
         static_cast<uint64_t>(std::max<int64_t>(page_size, 0));
}

}  // namespace refir::bridge::sqlite
