#include "bridge/journal/sqlite/sqlite_group_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/group_state.pb.h"
#include "bridge/journal/sqlite/sqlite_constants.h"
#include "bridge/journal/sqlite/sqlite_db.h"

namespace refir::bridge {
namespace {

using sqlite::BindBlob;
using sqlite::BindInt64;
using sqlite::BindText;
using sqlite::DbPtr;
using sqlite::kBusyTimeoutMs;
using sqlite::kMaxSqliteInt;
using sqlite::ScopedReset;
using sqlite::SqliteError;
using sqlite::StepDone;
using sqlite::StmtPtr;

// On-disk format. Bump kSchemaVersion (PRAGMA user_version) whenever the
// schema changes; a store written by a newer version is refused.
//
// consumer_groups.state is the serialized internal::GroupState (including
// its name). Dead letter sequences are uint64 in the API and INTEGER (int64)
// here: values above INT64_MAX are refused, never wrapped.
constexpr int64_t kSchemaVersion = 1;
constexpr char kCreateSchemaSql[] =
    "CREATE TABLE IF NOT EXISTS consumer_groups ("
    "  name TEXT PRIMARY KEY,"
    "  state BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS dead_letters ("
    "  group_name TEXT NOT NULL,"
    "  sequence INTEGER NOT NULL,"
    "  delivery_attempts INTEGER NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  dead_lettered_at_us INTEGER NOT NULL,"
    "  PRIMARY KEY (group_name, sequence)) WITHOUT ROWID;"
    "PRAGMA user_version = 1;";

absl::string_view ColumnText(sqlite3_stmt* stmt, int col) {
  const unsigned char* text = sqlite3_column_text(stmt, col);
  if (text == nullptr) return absl::string_view();
  return absl::string_view(reinterpret_cast<const char*>(text),
                           static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
}

absl::Status CheckSequence(absl::string_view group, uint64_t sequence) {
  if (sequence > kMaxSqliteInt) {
    return absl::InvalidArgumentError(absl::StrCat("dead letter sequence ", sequence, " of group '",
                                                   group, "' exceeds the storable maximum ",
                                                   kMaxSqliteInt));
  }
  return absl::OkStatus();
}

absl::Status CheckName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("consumer group name is empty");
  return absl::OkStatus();
}

class SqliteGroupStore final : public GroupStore {
 public:
  explicit SqliteGroupStore(std::string path) : path_(std::move(path)) {}

  SqliteGroupStore(const SqliteGroupStore&) = delete;
  SqliteGroupStore& operator=(const SqliteGroupStore&) = delete;

  // Opens the connection, checks or creates the schema and prepares the
  // statements.
  absl::Status Init() {
    absl::MutexLock lock(&mu_);
    sqlite::WalDatabaseOptions options;
    options.path = path_;
    options.name = "group store";
    options.synchronous = sqlite::Synchronous::kNormal;
    options.busy_timeout_ms = kBusyTimeoutMs;
    options.schema_version = kSchemaVersion;
    options.create_schema = [](sqlite3* db) { return sqlite::Exec(db, kCreateSchemaSql); };
    REFIR_ASSIGN_OR_RETURN(db_, sqlite::OpenWalDatabase(options));
    sqlite3* db = db_.get();

    REFIR_ASSIGN_OR_RETURN(transactions_, sqlite::WriteTransactions::Prepare(db));
    REFIR_ASSIGN_OR_RETURN(
        upsert_group_, sqlite::Prepare(db,
                                       "INSERT INTO consumer_groups (name, state) VALUES (?1, ?2) "
                                       "ON CONFLICT(name) DO UPDATE SET state = excluded.state"));
    REFIR_ASSIGN_OR_RETURN(delete_group_,
                           sqlite::Prepare(db, "DELETE FROM consumer_groups WHERE name = ?1"));
    REFIR_ASSIGN_OR_RETURN(
        load_groups_, sqlite::Prepare(db, "SELECT name, state FROM consumer_groups ORDER BY name"));
    REFIR_ASSIGN_OR_RETURN(
        put_dead_letter_,
        sqlite::Prepare(db,
                        "INSERT OR REPLACE INTO dead_letters (group_name, sequence, "
                        "delivery_attempts, reason, dead_lettered_at_us) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)"));
    REFIR_ASSIGN_OR_RETURN(
        remove_dead_letter_,
        sqlite::Prepare(db, "DELETE FROM dead_letters WHERE group_name = ?1 AND sequence = ?2"));
    REFIR_ASSIGN_OR_RETURN(delete_dead_letters_,
                           sqlite::Prepare(db, "DELETE FROM dead_letters WHERE group_name = ?1"));
    REFIR_ASSIGN_OR_RETURN(
        list_dead_letters_,
        sqlite::Prepare(db,
                        "SELECT sequence, delivery_attempts, reason, dead_lettered_at_us "
                        "FROM dead_letters WHERE group_name = ?1 AND sequence > ?2 "
                        "ORDER BY sequence LIMIT ?3"));
    REFIR_ASSIGN_OR_RETURN(
        count_dead_letters_,
        sqlite::Prepare(db, "SELECT COUNT(*) FROM dead_letters WHERE group_name = ?1"));
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<internal::GroupState>> LoadGroups() override {
    absl::MutexLock lock(&mu_);
    sqlite3* db = ConnectionForRead();
    sqlite3_stmt* stmt = load_groups_.get();
    ScopedReset reset(stmt);
    std::vector<internal::GroupState> groups;
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(db, rc, "reading consumer groups");
      const absl::string_view name = ColumnText(stmt, 0);
      const void* blob = sqlite3_column_blob(stmt, 1);
      const int size = sqlite3_column_bytes(stmt, 1);
      internal::GroupState state;
      if (size > 0 && !state.ParseFromArray(blob, size)) {
        return absl::DataLossError(absl::StrCat("stored state of consumer group '", name, "' in '",
                                                path_, "' does not parse"));
      }
      if (state.name() != name) {
        return absl::DataLossError(absl::StrCat("stored state of consumer group '", name, "' in '",
                                                path_, "' names group '", state.name(), "'"));
      }
      groups.push_back(std::move(state));
    }
    return groups;
  }

  absl::Status SaveGroup(const internal::GroupState& state,
                         absl::Span<const internal::DeadLetterRecord> added_dead_letters,
                         absl::Span<const uint64_t> removed_dead_letters) override {
    const std::string& name = state.name();
    REFIR_RETURN_IF_ERROR(CheckName(name));
    for (const internal::DeadLetterRecord& record : added_dead_letters) {
      REFIR_RETURN_IF_ERROR(CheckSequence(name, record.sequence()));
    }
    for (uint64_t sequence : removed_dead_letters) {
      REFIR_RETURN_IF_ERROR(CheckSequence(name, sequence));
    }
    // Serialize before taking the lock.
    std::string blob;
    if (!state.SerializeToString(&blob)) {
      return absl::InternalError(
          absl::StrCat("cannot serialize the state of consumer group '", name, "'"));
    }

    absl::MutexLock lock(&mu_);
    absl::Status status = transactions_.Begin();
    if (status.ok()) {
      status = SaveGroupInTransaction(name, blob, added_dead_letters, removed_dead_letters);
    }
    return Finish(status, absl::StrCat("saving consumer group '", name, "'"));
  }

  absl::Status DeleteGroup(absl::string_view name) override {
    REFIR_RETURN_IF_ERROR(CheckName(name));
    absl::MutexLock lock(&mu_);
    absl::Status status = transactions_.Begin();
    if (status.ok()) status = DeleteGroupInTransaction(name);
    return Finish(status, absl::StrCat("deleting consumer group '", name, "'"));
  }

  absl::StatusOr<std::vector<internal::DeadLetterRecord>> ListDeadLetters(absl::string_view name,
                                                                          uint64_t after_sequence,
                                                                          size_t limit) override {
    REFIR_RETURN_IF_ERROR(CheckName(name));
    std::vector<internal::DeadLetterRecord> records;
    // Nothing is stored above INT64_MAX.
    if (limit == 0 || after_sequence >= kMaxSqliteInt) return records;
    absl::MutexLock lock(&mu_);
    sqlite3* db = ConnectionForRead();
    sqlite3_stmt* stmt = list_dead_letters_.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, name));
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 2, static_cast<int64_t>(after_sequence)));
    REFIR_RETURN_IF_ERROR(
        BindInt64(db, stmt, 3, static_cast<int64_t>(std::min<uint64_t>(limit, kMaxSqliteInt))));
    records.reserve(std::min<size_t>(limit, 64));
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        return SqliteError(db, rc, absl::StrCat("listing dead letters of group '", name, "'"));
      }
      const int64_t sequence = sqlite3_column_int64(stmt, 0);
      const int64_t attempts = sqlite3_column_int64(stmt, 1);
      if (sequence < 0 || attempts < std::numeric_limits<int32_t>::min() ||
          attempts > std::numeric_limits<int32_t>::max()) {
        return absl::DataLossError(absl::StrCat("dead letter of group '", name,
                                                "' has an invalid sequence (", sequence,
                                                ") or delivery attempts (", attempts, ")"));
      }
      internal::DeadLetterRecord& record = records.emplace_back();
      record.set_sequence(static_cast<uint64_t>(sequence));
      record.set_delivery_attempts(static_cast<int32_t>(attempts));
      const absl::string_view reason = ColumnText(stmt, 2);
      record.set_reason(reason.data(), reason.size());
      record.set_dead_lettered_at_unix_micros(sqlite3_column_int64(stmt, 3));
    }
    return records;
  }

  absl::StatusOr<uint64_t> CountDeadLetters(absl::string_view name) override {
    REFIR_RETURN_IF_ERROR(CheckName(name));
    absl::MutexLock lock(&mu_);
    sqlite3* db = ConnectionForRead();
    sqlite3_stmt* stmt = count_dead_letters_.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, name));
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
      return SqliteError(db, rc, absl::StrCat("counting dead letters of group '", name, "'"));
    }
    return static_cast<uint64_t>(std::max<int64_t>(sqlite3_column_int64(stmt, 0), 0));
  }

 private:
  // The connection, outside any transaction: a read must not see the
  // uncommitted writes of a transaction that a failed ROLLBACK left open.
  sqlite3* ConnectionForRead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    transactions_.RollbackIfOpen();
    return db_.get();
  }

  // Write transactions: transactions_.Begin(), the work, then Finish() with
  // its status, which commits on success. On any failure the transaction is
  // rolled back and UNAVAILABLE is returned, its message starting with `what`.
  absl::Status Finish(absl::Status status, absl::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (status.ok()) status = transactions_.Commit();
    if (status.ok()) return status;
    transactions_.RollbackIfOpen();
    return absl::UnavailableError(
        absl::StrCat(what, " in '", path_, "' failed: ", status.message()));
  }

  absl::Status DeleteGroupInTransaction(absl::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    sqlite3* db = db_.get();
    {
      sqlite3_stmt* stmt = delete_dead_letters_.get();
      ScopedReset reset(stmt);
      REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, name));
      REFIR_RETURN_IF_ERROR(StepDone(db, stmt, "deleting dead letters"));
    }
    sqlite3_stmt* stmt = delete_group_.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, name));
    return StepDone(db, stmt, "deleting the state row");
  }

  absl::Status SaveGroupInTransaction(absl::string_view name, absl::string_view blob,
                                      absl::Span<const internal::DeadLetterRecord> added,
                                      absl::Span<const uint64_t> removed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    sqlite3* db = db_.get();
    {
      sqlite3_stmt* stmt = upsert_group_.get();
      ScopedReset reset(stmt);
      REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, name));
      REFIR_RETURN_IF_ERROR(BindBlob(db, stmt, 2, blob));
      REFIR_RETURN_IF_ERROR(StepDone(db, stmt, "writing the state row"));
    }
    for (const internal::DeadLetterRecord& record : added) {
      sqlite3_stmt* stmt = put_dead_letter_.get();
      ScopedReset reset(stmt);
      REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, name));
      REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 2, static_cast<int64_t>(record.sequence())));
      REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 3, record.delivery_attempts()));
      REFIR_RETURN_IF_ERROR(BindText(db, stmt, 4, record.reason()));
      REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 5, record.dead_lettered_at_unix_micros()));
      REFIR_RETURN_IF_ERROR(
          StepDone(db, stmt, absl::StrCat("writing dead letter ", record.sequence())));
    }
    for (uint64_t sequence : removed) {
      sqlite3_stmt* stmt = remove_dead_letter_.get();
      ScopedReset reset(stmt);
      REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, name));
      REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 2, static_cast<int64_t>(sequence)));
      REFIR_RETURN_IF_ERROR(StepDone(db, stmt, absl::StrCat("removing dead letter ", sequence)));
    }
    return absl::OkStatus();
  }

  const std::string path_;

  absl::Mutex mu_;
  // The connection and its statements, prepared once for its lifetime.
  // Statements are declared after the connection so they are finalized
  // first.
  DbPtr db_ ABSL_GUARDED_BY(mu_);
  sqlite::WriteTransactions transactions_ ABSL_GUARDED_BY(mu_);
  StmtPtr upsert_group_ ABSL_GUARDED_BY(mu_);
  StmtPtr delete_group_ ABSL_GUARDED_BY(mu_);
  StmtPtr load_groups_ ABSL_GUARDED_BY(mu_);
  StmtPtr put_dead_letter_ ABSL_GUARDED_BY(mu_);
  StmtPtr remove_dead_letter_ ABSL_GUARDED_BY(mu_);
  StmtPtr delete_dead_letters_ ABSL_GUARDED_BY(mu_);
  StmtPtr list_dead_letters_ ABSL_GUARDED_BY(mu_);
  StmtPtr count_dead_letters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<GroupStore>> OpenSqliteGroupStore(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("group store path is empty");
  auto store = std::make_unique<SqliteGroupStore>(path);
  REFIR_RETURN_IF_ERROR(store->Init());
  return store;
}

}  // namespace refir::bridge
