// The SQLite journal's dedup table: the prepared statements that look up,
// store and purge dedup keys on the journal's writer connection (the table
// itself is defined in sqlite_journal_schema.cc).
//
// Contract: a key matches when it was stored by an append received less
// than the new append's window before it (Journal's dedup contract). Store
// and DeleteExpired run inside the caller's write transaction, so a key is
// committed together with its event.
//
// Threading: not thread-safe, like the connection it was prepared on. The
// JournalWriter owns it as a member guarded by its mutex, so the analysis
// checks every use.
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_DEDUP_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_DEDUP_H_

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/journal/journal.h"
#include "bridge/journal/sqlite/sqlite_db.h"

namespace refir::bridge::sqlite {

class DedupTable {
 public:
  // Prepares the statements on `db`, which must outlive the table.
  static absl::StatusOr<DedupTable> Prepare(sqlite3* db);

  DedupTable() = default;
  DedupTable(DedupTable&&) = default;
  DedupTable& operator=(DedupTable&&) = default;

  // The original append (sequence, id, duplicate = true) when `key` was
  // stored by an append received less than `window_us` before
  // `received_at_us`; nullopt otherwise.
  absl::StatusOr<std::optional<AppendResult>> Match(absl::string_view key, int64_t received_at_us,
                                                    int64_t window_us);

  // Stores (or replaces) `key` for the event `id` at `sequence`, expiring
  // `window_us` after `received_at_us`.
  absl::Status Store(absl::string_view key, uint64_t sequence, absl::string_view id,
                     int64_t received_at_us, int64_t window_us);

  // Deletes up to `max_keys` keys that expired at or before `now_us`, the
  // earliest first; returns how many it deleted.
  absl::StatusOr<size_t> DeleteExpired(int64_t now_us, size_t max_keys);

 private:
  sqlite3* db_ = nullptr;
  StmtPtr lookup_;
  StmtPtr upsert_;
  StmtPtr purge_;
};

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_DEDUP_H_
