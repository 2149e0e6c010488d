#include "bridge/journal/sqlite/sqlite_journal_schema.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/sqlite/sqlite_constants.h"

namespace refir::bridge::sqlite {
namespace {

// events.event is the serialized v1::Event with `sequence` cleared; the
// sequence lives only in the row key and is set again on read.
// AUTOINCREMENT keeps sequences from ever being reused, even after deletes.
constexpr char kCreateEventsSql[] =
    "CREATE TABLE IF NOT EXISTS events ("
    "  sequence INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  received_at_us INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  event BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_received_at ON events(received_at_us);";

// dedup holds the dedup key of each stored event (the newest one per key),
// written in the same transaction as the event; rows whose expires_at_us
// has passed are purged in small batches. `id` is the event's id, kept here
// so a duplicate is answered even if its event was deleted by retention.
// Sets user_version to kJournalSchemaVersion.
constexpr char kCreateDedupSql[] =
    "CREATE TABLE IF NOT EXISTS dedup ("
    "  key TEXT PRIMARY KEY,"
    "  sequence INTEGER NOT NULL,"
    "  id TEXT NOT NULL,"
    "  received_at_us INTEGER NOT NULL,"
    "  expires_at_us INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS dedup_expires_at ON dedup(expires_at_us);"
    "PRAGMA user_version = 2;";
static_assert(kJournalSchemaVersion == 2, "kCreateDedupSql sets user_version = 2");

absl::Status CreateSchema(sqlite3* db) {
  REFIR_RETURN_IF_ERROR(Exec(db, kCreateEventsSql));
  return Exec(db, kCreateDedupSql);
}

// Version 1 files dedup'ed on events.id; their events get no dedup rows
// (a resend of one of them is stored again, under a fresh id).
absl::Status UpgradeSchema(sqlite3* db, int64_t /*from_version*/) {
  return Exec(db, kCreateDedupSql);
}

}  // namespace

absl::StatusOr<DbPtr> OpenJournalWriterDb(const std::string& path) {
  WalDatabaseOptions options;
  options.path = path;
  options.name = "journal";
  options.synchronous = Synchronous::kFull;
  options.busy_timeout_ms = kBusyTimeoutMs;
  options.schema_version = kJournalSchemaVersion;
  options.create_schema = CreateSchema;
  options.upgrade_schema = UpgradeSchema;
  options.incremental_auto_vacuum = true;
  REFIR_ASSIGN_OR_RETURN(DbPtr db, OpenWalDatabase(options));
  REFIR_ASSIGN_OR_RETURN(int64_t auto_vacuum, QueryInt64(db.get(), "PRAGMA auto_vacuum", 0));
  if (auto_vacuum != 2) {
    LogWarning(absl::StrCat(
        "journal '", path, "' predates auto_vacuum=INCREMENTAL: space freed by retention is ",
        "reused but the file does not shrink (see docs/operations.md, Retention)"));
  }
  return db;
}

absl::StatusOr<uint64_t> QueryJournalHead(sqlite3* db) {
  REFIR_ASSIGN_OR_RETURN(
      int64_t head,
      QueryInt64(db,
                 "SELECT MAX(COALESCE((SELECT MAX(sequence) FROM events), 0), "
                 "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0))",
                 0));
  return static_cast<uint64_t>(std::max<int64_t>(head, 0));
}

}  // namespace refir::bridge::sqlite
