// The on-disk format of the SQLite journal (tables, indexes, version) and
// the opening of its one read-write connection. Only the journal's files
// use it.
//
// Contract: OpenJournalWriterDb refuses a file written by a newer schema
// version before changing anything, creates the schema in a new file and
// upgrades an older one, all inside one write transaction (see
// sqlite::OpenWalDatabase). The connection it returns, like every sqlite3*,
// is used by one thread at a time (its owner serializes; see
// sqlite_journal_writer.h).
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_SCHEMA_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_SCHEMA_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "bridge/journal/sqlite/sqlite_db.h"

namespace refir::bridge::sqlite {

// PRAGMA user_version this build writes. Bump it whenever the schema
// changes; a journal written by a newer version is refused.
//
// Version history: 1 events only; 2 adds dedup (and new files use
// auto_vacuum = INCREMENTAL).
inline constexpr int64_t kJournalSchemaVersion = 2;

// Opens (creating or upgrading) the journal at `path` for writing: WAL,
// synchronous = FULL, incremental auto_vacuum for new files. Logs a warning
// when an old file cannot shrink (it predates auto_vacuum = INCREMENTAL).
absl::StatusOr<DbPtr> OpenJournalWriterDb(const std::string& path);

// The largest sequence ever used in the journal `db` (0 for none), even if
// every event has since been deleted: AUTOINCREMENT remembers it.
absl::StatusOr<uint64_t> QueryJournalHead(sqlite3* db);

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_SCHEMA_H_
