#include "bridge/journal/sqlite/sqlite_db.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bridge/common/private_file.h"
#include "bridge/common/status_macros.h"

namespace refir::bridge::sqlite {
namespace {

// The status of a sqlite3_bind_* call that returned `rc`.
absl::Status BindStatus(sqlite3* db, int rc, int index) {
  if (rc != SQLITE_OK) return SqliteError(db, rc, absl::StrCat("cannot bind parameter ", index));
  return absl::OkStatus();
}

// Steps a one-off query to its first row.
absl::StatusOr<StmtPtr> QueryFirstRow(sqlite3* db, absl::string_view sql) {
  REFIR_ASSIGN_OR_RETURN(StmtPtr stmt, Prepare(db, sql));
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return SqliteError(db, rc, absl::StrCat("'", sql, "' failed"));
  return stmt;
}

// Creates the schema when the file has none; runs inside BEGIN IMMEDIATE.
absl::Status CreateSchemaInTransaction(sqlite3* db, const WalDatabaseOptions& options) {
  // Checked again under the write lock: another process may have won.
  REFIR_ASSIGN_OR_RETURN(int64_t version, QueryInt64(db, "PRAGMA user_version", 0));
  REFIR_RETURN_IF_ERROR(
      CheckSchemaVersion(options.name, options.path, version, options.schema_version));
  if (version == 0) return options.create_schema(db);
  if (version < options.schema_version && options.upgrade_schema) {
    return options.upgrade_schema(db, version);
  }
  return absl::OkStatus();
}

}  // namespace

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

absl::StatusOr<int64_t> QueryInt64(sqlite3* db, absl::string_view sql, int64_t if_null) {
  REFIR_ASSIGN_OR_RETURN(StmtPtr stmt, QueryFirstRow(db, sql));
  if (sqlite3_column_type(stmt.get(), 0) == SQLITE_NULL) return if_null;
  return sqlite3_column_int64(stmt.get(), 0);
}

absl::StatusOr<std::string> QueryText(sqlite3* db, absl::string_view sql) {
  REFIR_ASSIGN_OR_RETURN(StmtPtr stmt, QueryFirstRow(db, sql));
  const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text));
}

absl::Status BindInt64(sqlite3* db, sqlite3_stmt* stmt, int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt, index, value);
  return BindStatus(db, rc, index);
}

absl::Status BindText(sqlite3* db, sqlite3_stmt* stmt, int index, absl::string_view value) {
  // Empty text must not be bound as NULL (the columns are NOT NULL).
  const char* data = value.data() != nullptr ? value.data() : "";
  const int rc = sqlite3_bind_text64(stmt, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8);
  return BindStatus(db, rc, index);
}

absl::Status BindBlob(sqlite3* db, sqlite3_stmt* stmt, int index, absl::string_view value) {
  const char* data = value.data() != nullptr ? value.data() : "";
  const int rc = sqlite3_bind_blob64(stmt, index, data, value.size(), SQLITE_STATIC);
  return BindStatus(db, rc, index);
}

absl::Status ExplainOpenFailure(const absl::Status& status, const std::string& path) {
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (!dir.empty() && !std::filesystem::is_directory(dir, error)) {
    return absl::Status(status.code(), absl::StrCat(status.message(), "; directory '", dir.string(),
                                                    "' does not exist"));
  }
  return status;
}

absl::Status CheckSchemaVersion(absl::string_view name, const std::string& path, int64_t version,
                                int64_t max_version) {
  if (version > max_version || version < 0) {
    return absl::FailedPreconditionError(absl::StrCat(name, " '", path, "' has schema version ",
                                                      version, "; this build understands up to ",
                                                      max_version));
  }
  return absl::OkStatus();
}

absl::StatusOr<DbPtr> OpenWalDatabase(const WalDatabaseOptions& options) {
  // 0600 whatever the umask: webhook bodies hold personal data.
  CreatePrivateDbFile(options.path);
  absl::StatusOr<DbPtr> opened =
      OpenDb(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options.busy_timeout_ms);
  if (!opened.ok()) return ExplainOpenFailure(opened.status(), options.path);
  DbPtr db = *std::move(opened);

  // Refuse unknown formats (and files that are no database) before changing
  // anything in the file.
  REFIR_ASSIGN_OR_RETURN(int64_t version, QueryInt64(db.get(), "PRAGMA user_version", 0));
  REFIR_RETURN_IF_ERROR(
      CheckSchemaVersion(options.name, options.path, version, options.schema_version));

  // auto_vacuum takes effect only before the first table is created (and
  // before WAL mode writes the file header).
  if (options.incremental_auto_vacuum) {
    REFIR_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA auto_vacuum = INCREMENTAL"));
  }
  REFIR_ASSIGN_OR_RETURN(std::string mode, QueryText(db.get(), "PRAGMA journal_mode = WAL"));
  if (mode != "wal") {
    return absl::FailedPreconditionError(
        absl::StrCat(options.name, " '", options.path, "' cannot use WAL mode (got '", mode, "')"));
  }
  REFIR_RETURN_IF_ERROR(Exec(db.get(), options.synchronous == Synchronous::kFull
                                           ? "PRAGMA synchronous = FULL"
                                           : "PRAGMA synchronous = NORMAL"));

  REFIR_RETURN_IF_ERROR(Exec(db.get(), "BEGIN IMMEDIATE"));
  absl::Status schema = CreateSchemaInTransaction(db.get(), options);
  if (!schema.ok()) {
    Exec(db.get(), "ROLLBACK").IgnoreError();
    return schema;
  }
  REFIR_RETURN_IF_ERROR(Exec(db.get(), "COMMIT"));
  return db;
}

absl::StatusOr<WriteTransactions> WriteTransactions::Prepare(sqlite3* db) {
  WriteTransactions transactions;
  transactions.db_ = db;
  REFIR_ASSIGN_OR_RETURN(transactions.begin_, sqlite::Prepare(db, "BEGIN IMMEDIATE"));
  REFIR_ASSIGN_OR_RETURN(transactions.commit_, sqlite::Prepare(db, "COMMIT"));
  REFIR_ASSIGN_OR_RETURN(transactions.rollback_, sqlite::Prepare(db, "ROLLBACK"));
  return transactions;
}

absl::Status WriteTransactions::Begin() {
  RollbackIfOpen();
  return StepDone(db_, begin_.get(), "BEGIN IMMEDIATE");
}

absl::Status WriteTransactions::Commit() { return StepDone(db_, commit_.get(), "COMMIT"); }

void WriteTransactions::RollbackIfOpen() {
  if (sqlite3_get_autocommit(db_) == 0) {
    StepDone(db_, rollback_.get(), "ROLLBACK").IgnoreError();
  }
}

}  // namespace refir::bridge::sqlite
