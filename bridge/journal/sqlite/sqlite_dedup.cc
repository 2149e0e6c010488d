#include "bridge/journal/sqlite/sqlite_dedup.h"

#include <limits>
#include <string>
#include <utility>

#include "bridge/common/status_macros.h"
#include "bridge/journal/sqlite/sqlite_constants.h"

namespace refir::bridge::sqlite {

absl::StatusOr<DedupTable> DedupTable::Prepare(sqlite3* db) {
  DedupTable table;
  table.db_ = db;
  REFIR_ASSIGN_OR_RETURN(
      table.lookup_,
      sqlite::Prepare(db, "SELECT sequence, id, received_at_us FROM dedup WHERE key = ?1"));
  REFIR_ASSIGN_OR_RETURN(
      table.upsert_,
      sqlite::Prepare(db,
                      "INSERT INTO dedup (key, sequence, id, received_at_us, expires_at_us) "
                      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(key) DO UPDATE SET "
                      "sequence = excluded.sequence, id = excluded.id, "
                      "received_at_us = excluded.received_at_us, "
                      "expires_at_us = excluded.expires_at_us"));
  REFIR_ASSIGN_OR_RETURN(
      table.purge_, sqlite::Prepare(db,
                                    "DELETE FROM dedup WHERE rowid IN (SELECT rowid FROM dedup "
                                    "WHERE expires_at_us <= ?1 ORDER BY expires_at_us LIMIT ?2)"));
  return table;
}

absl::StatusOr<std::optional<AppendResult>> DedupTable::Match(absl::string_view key,
                                                              int64_t received_at_us,
                                                              int64_t window_us) {
  sqlite3_stmt* stmt = lookup_.get();
  ScopedReset reset(stmt);
  REFIR_RETURN_IF_ERROR(BindText(db_, stmt, 1, key));
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return SqliteError(db_, rc, "looking up a dedup key");
  const int64_t original_us = sqlite3_column_int64(stmt, 2);
  // Overflow-safe form of original_us + window > received_at_us.
  if (original_us <= received_at_us && received_at_us - original_us >= window_us) {
    return std::nullopt;
  }
  AppendResult result;
  result.sequence = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
  const unsigned char* id = sqlite3_column_text(stmt, 1);
  result.id = id == nullptr ? std::string() : reinterpret_cast<const char*>(id);
  result.duplicate = true;
  return result;
}

absl::Status DedupTable::Store(absl::string_view key, uint64_t sequence, absl::string_view id,
                               int64_t received_at_us, int64_t window_us) {
  sqlite3_stmt* stmt = upsert_.get();
  ScopedReset reset(stmt);
  const int64_t expires_us = received_at_us > std::numeric_limits<int64_t>::max() - window_us
                                 ? std::numeric_limits<int64_t>::max()
                                 : received_at_us + window_us;
  REFIR_RETURN_IF_ERROR(BindText(db_, stmt, 1, key));
  REFIR_RETURN_IF_ERROR(BindInt64(db_, stmt, 2, ToSqliteInt(sequence)));
  REFIR_RETURN_IF_ERROR(BindText(db_, stmt, 3, id));
  REFIR_RETURN_IF_ERROR(BindInt64(db_, stmt, 4, received_at_us));
  REFIR_RETURN_IF_ERROR(BindInt64(db_, stmt, 5, expires_us));
  return StepDone(db_, stmt, "storing a dedup key");
}

absl::StatusOr<size_t> DedupTable::DeleteExpired(int64_t now_us, size_t max_keys) {
  sqlite3_stmt* stmt = purge_.get();
  REFIR_RETURN_IF_ERROR(BindInt64(db_, stmt, 1, now_us));
  REFIR_RETURN_IF_ERROR(BindInt64(db_, stmt, 2, ToSqliteInt(max_keys)));
  REFIR_RETURN_IF_ERROR(StepDone(db_, stmt, "purging expired dedup keys"));
  return static_cast<size_t>(sqlite3_changes(db_));
}

}  // namespace refir::bridge::sqlite
