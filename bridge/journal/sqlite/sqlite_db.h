// A small RAII layer over the SQLite C API used by the SQLite journal and
// group store: owning handles for sqlite3* and sqlite3_stmt*, a scoped
// statement reset, the mapping of SQLite result codes to absl::Status (always
// carrying SQLite's own message), one-row query helpers, and the shared way
// of opening a versioned WAL database and running write transactions on it.
// Only bridge/journal/sqlite uses it.
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_DB_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refir::bridge::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// The absl status code that best describes SQLite result code `rc`
// (BUSY/LOCKED/IOERR -> UNAVAILABLE, CORRUPT/NOTADB -> DATA_LOSS, ...).
absl::StatusCode StatusCodeFor(int rc);

// A status for the failed call `what` on `db` that returned `rc`, with
// sqlite3_errmsg(db) (or sqlite3_errstr(rc) when db is null) in its message.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what);

// Opens `path` with `flags` (SQLITE_OPEN_*; SQLITE_OPEN_NOMUTEX is added:
// each connection is used by one thread at a time) and sets its busy timeout.
absl::StatusOr<DbPtr> OpenDb(const std::string& path, int flags, int busy_timeout_ms);

// Prepares one statement that lives as long as the connection.
absl::StatusOr<StmtPtr> Prepare(sqlite3* db, absl::string_view sql);

// Runs `sql` (one or more statements, no results wanted).
absl::Status Exec(sqlite3* db, const char* sql);

// Steps `stmt` once, expecting SQLITE_DONE, and resets it.
absl::Status StepDone(sqlite3* db, sqlite3_stmt* stmt, absl::string_view what);

// Runs a one-off query and returns the first column of its first row as an
// integer (`if_null` when NULL). No row at all is an error.
absl::StatusOr<int64_t> QueryInt64(sqlite3* db, absl::string_view sql, int64_t if_null);

// Like QueryInt64, as text (NULL -> empty).
absl::StatusOr<std::string> QueryText(sqlite3* db, absl::string_view sql);

// Bind helpers (1-based index). Text and blobs are bound SQLITE_STATIC: the
// bytes must stay alive until the statement is reset.
absl::Status BindInt64(sqlite3* db, sqlite3_stmt* stmt, int index, int64_t value);
absl::Status BindText(sqlite3* db, sqlite3_stmt* stmt, int index, absl::string_view value);
absl::Status BindBlob(sqlite3* db, sqlite3_stmt* stmt, int index, absl::string_view value);

// Resets (and clears the bindings of) a statement when it goes out of scope,
// so that no read snapshot or bound pointer outlives its use.
class ScopedReset {
 public:
  explicit ScopedReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;
  ~ScopedReset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_;
};

// SQLite says only "unable to open database file" when the directory of
// `path` is missing; adds that likely cause to the failed open `status`.
absl::Status ExplainOpenFailure(const absl::Status& status, const std::string& path);

// FAILED_PRECONDITION unless 0 <= `version` <= `max_version`: a file written by
// a newer build is refused. `name` and `path` describe the file in the message.
absl::Status CheckSchemaVersion(absl::string_view name, const std::string& path, int64_t version,
                                int64_t max_version);

// PRAGMA synchronous levels used with WAL.
enum class Synchronous { kNormal, kFull };

struct WalDatabaseOptions {
  std::string path;
  // What the file is, for messages: "journal", "group store".
  std::string name;
  Synchronous synchronous = Synchronous::kFull;
  int busy_timeout_ms = 5000;
  // The schema version (PRAGMA user_version) this build writes and
  // understands; files with a larger one are refused.
  int64_t schema_version = 0;
  // Required. Creates the schema in a file that has none yet (user_version
  // 0), and must set PRAGMA user_version. Runs inside the BEGIN IMMEDIATE transaction
  // that OpenWalDatabase commits (or rolls back when this fails).
  std::function<absl::Status(sqlite3* db)> create_schema;
  // Upgrades a file whose schema is older (0 < user_version <
  // schema_version) and must set PRAGMA user_version; runs inside the same
  // transaction. Unset: older files are used as they are.
  std::function<absl::Status(sqlite3* db, int64_t from_version)> upgrade_schema;
  // Sets PRAGMA auto_vacuum = INCREMENTAL before anything is written to a
  // new file (SQLite ignores it for a file that already has tables).
  bool incremental_auto_vacuum = false;
};

// Opens (creating if needed) a read-write connection to the database at
// options.path: refuses unknown schema versions before changing anything in
// the file, switches it to WAL, sets the synchronous level, and creates the
// schema if the file has none, checking the version again under the write
// lock (another process may have won).
absl::StatusOr<DbPtr> OpenWalDatabase(const WalDatabaseOptions& options);

// The prepared BEGIN IMMEDIATE / COMMIT / ROLLBACK statements of one
// connection, for write transactions run as Begin(), the work, then Commit()
// or RollbackIfOpen(). Must not outlive the connection (declare it after the
// DbPtr); used by one thread at a time, like the connection.
class WriteTransactions {
 public:
  static absl::StatusOr<WriteTransactions> Prepare(sqlite3* db);

  // BEGIN IMMEDIATE, after rolling back a transaction that a failed ROLLBACK
  // earlier may have left open.
  absl::Status Begin();
  absl::Status Commit();
  // Rolls back the open transaction, if any. If even ROLLBACK fails, the
  // next Begin() or RollbackIfOpen() retries it first.
  void RollbackIfOpen();

 private:
  sqlite3* db_ = nullptr;
  StmtPtr begin_;
  StmtPtr commit_;
  StmtPtr rollback_;
};

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_DB_H_
