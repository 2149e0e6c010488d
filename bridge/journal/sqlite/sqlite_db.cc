#include "bridge/journal/sqlite/sqlite_db.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace refir::bridge::sqlite {

absl::StatusCode StatusCodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return absl::StatusCode::kOk;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL:
      return absl::StatusCode::kUnavailable;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_INTERRUPT:
    case SQLITE_ABORT:
      return absl::StatusCode::kAborted;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  absl::StatusCode code = StatusCodeFor(rc);
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kInternal;
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return absl::Status(code, absl::StrCat(what, ": ", message, " (sqlite code ", rc, ")"));
}

absl::StatusOr<DbPtr> OpenDb(const std::string& path, int flags, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  // sqlite3_open_v2 hands back a handle (to be closed) even on failure.
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    return SqliteError(db.get(), rc, absl::StrCat("cannot open SQLite database '", path, "'"));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  const int busy_rc = sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  if (busy_rc != SQLITE_OK) return SqliteError(db.get(), busy_rc, "sqlite3_busy_timeout");
  return db;
}

absl::StatusOr<StmtPtr> Prepare(sqlite3* db, absl::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(db, rc, absl::StrCat("cannot prepare '", sql, "'"));
  if (stmt == nullptr) return absl::InternalError(absl::StrCat("empty SQL statement '", sql, "'"));
  return stmt;
}

absl::Status Exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, absl::StrCat("'", sql, "' failed"));
  return absl::OkStatus();
}

absl::Status StepDone(sqlite3* db, sqlite3_stmt* stmt, absl::string_view what) {
  ScopedReset reset(stmt);
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return SqliteError(db, rc, what);
  return absl::OkStatus();
}

absl::Status BindInt64(sqlite3* db, sqlite3_stmt* stmt, int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt, index, value);
  if (rc != SQLITE_OK) return SqliteError(db, rc, absl::StrCat("cannot bind parameter ", index));
  return absl::OkStatus();
}

absl::Status BindText(sqlite3* db, sqlite3_stmt* stmt, int index, absl::string_view value) {
  // Empty text must not be bound as NULL (the columns are NOT NULL).
  const char* data = value.data() != nullptr ? value.data() : "";
  const int rc = sqlite3_bind_text64(stmt, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) return SqliteError(db, rc, absl::StrCat("cannot bind parameter ", index));
  return absl::OkStatus();
}

absl::Status BindBlob(sqlite3* db, sqlite3_stmt* stmt, int index, absl::string_view value) {
  const char* data = value.data() != nullptr ? value.data() : "";
  const int rc = sqlite3_bind_blob64(stmt, index, data, value.size(), SQLITE_STATIC);
  if (rc != SQLITE_OK) return SqliteError(db, rc, absl::StrCat("cannot bind parameter ", index));
  return absl::OkStatus();
}

}  // namespace refir::bridge::sqlite
