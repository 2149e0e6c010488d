// A small RAII layer over the SQLite C API used by the SQLite journal:
// owning handles for sqlite3* and sqlite3_stmt*, a scoped statement reset,
// and the mapping of SQLite result codes to absl::Status (always carrying
// SQLite's own message). Only bridge/journal/sqlite uses it.
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_DB_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
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

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_DB_H_
