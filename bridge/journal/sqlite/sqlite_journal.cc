#include "bridge/journal/sqlite/sqlite_journal.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/common/error_reason.h"
#include "bridge/common/log.h"
#include "bridge/common/proto_wire.h"
#include "bridge/common/status_macros.h"
#include "bridge/common/uuid7.h"
#include "bridge/journal/recent_events.h"
#include "bridge/journal/sqlite/sqlite_db.h"

namespace refir::bridge {
namespace {

using sqlite::BindBlob;
using sqlite::BindInt64;
using sqlite::BindText;
using sqlite::DbPtr;
using sqlite::QueryInt64;
using sqlite::ScopedReset;
using sqlite::SqliteError;
using sqlite::StmtPtr;

// On-disk format. Bump kSchemaVersion (PRAGMA user_version) whenever the
// schema changes; a journal written by a newer version is refused.
//
// events.event is the serialized v1::Event with `sequence` cleared; the
// sequence lives only in the row key and is set again on read.
// AUTOINCREMENT keeps sequences from ever being reused, even after deletes.
//
// dedup holds the dedup key of each stored event (the newest one per key),
// written in the same transaction as the event; rows whose expires_at_us
// has passed are purged in small batches. `id` is the event's id, kept here
// so a duplicate is answered even if its event was deleted by retention.
//
// Version history: 1 events only; 2 adds dedup (and new files use
// auto_vacuum = INCREMENTAL).
constexpr int64_t kSchemaVersion = 2;
constexpr char kCreateEventsSql[] =
    "CREATE TABLE IF NOT EXISTS events ("
    "  sequence INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  received_at_us INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  event BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_received_at ON events(received_at_us);";
constexpr char kCreateDedupSql[] =
    "CREATE TABLE IF NOT EXISTS dedup ("
    "  key TEXT PRIMARY KEY,"
    "  sequence INTEGER NOT NULL,"
    "  id TEXT NOT NULL,"
    "  received_at_us INTEGER NOT NULL,"
    "  expires_at_us INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS dedup_expires_at ON dedup(expires_at_us);"
    "PRAGMA user_version = 2;";

absl::Status CreateSchema(sqlite3* db) {
  REFIR_RETURN_IF_ERROR(sqlite::Exec(db, kCreateEventsSql));
  return sqlite::Exec(db, kCreateDedupSql);
}

// Version 1 files dedup'ed on events.id; their events get no dedup rows
// (a resend of one of them is stored again, under a fresh id).
absl::Status UpgradeSchema(sqlite3* db, int64_t /*from_version*/) {
  return sqlite::Exec(db, kCreateDedupSql);
}

constexpr int kBusyTimeoutMs = 5000;
constexpr char kUnavailableReason[] = "journal_unavailable";

constexpr uint64_t kMaxSqliteInt = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

int64_t ToSqliteInt(uint64_t value) { return static_cast<int64_t>(std::min(value, kMaxSqliteInt)); }

int64_t ReceivedAtMicros(const v1::Event& event) {
  if (!event.has_received_at()) return 0;
  // absl saturates instead of overflowing on absurd timestamps.
  return absl::ToUnixMicros(absl::FromUnixSeconds(event.received_at().seconds()) +
                            absl::Nanoseconds(event.received_at().nanos()));
}

// Parses the `event` blob in column `col` of the current row and sets its
// sequence.
absl::StatusOr<v1::Event> EventFromRow(sqlite3_stmt* stmt, int col, uint64_t sequence) {
  v1::Event event;
  const void* blob = sqlite3_column_blob(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (size > 0 && !event.ParseFromArray(blob, size)) {
    return absl::DataLossError(
        absl::StrCat("stored event at sequence ", sequence, " does not parse"));
  }
  event.set_sequence(sequence);
  return event;
}

// One Append on its way to the committer. Lives on the caller's stack; the
// committer fills in `status`/`result` and then notifies `done`, after which
// it never touches the record again.
struct PendingAppend {
  // The caller's event (without sequence). The committer changes its id (and
  // `blob`) only when the id is taken.
  v1::Event* event = nullptr;
  int64_t received_at_us = 0;
  std::string blob;             // serialized *event
  absl::string_view dedup_key;  // empty: no dedup
  int64_t dedup_window_us = 0;
  absl::Status status;
  AppendResult result;
  absl::Notification done;
};

// A read-only connection with its own prepared statements.
struct Reader {
  DbPtr db;
  StmtPtr read_from;
  StmtPtr visit_from;
  StmtPtr by_sequence;
  StmtPtr by_id;
  StmtPtr first_at_or_after;
  StmtPtr first;
};

absl::StatusOr<std::unique_ptr<Reader>> OpenReader(const std::string& path) {
  auto reader = std::make_unique<Reader>();
  REFIR_ASSIGN_OR_RETURN(reader->db, sqlite::OpenDb(path, SQLITE_OPEN_READONLY, kBusyTimeoutMs));
  sqlite3* db = reader->db.get();
  REFIR_ASSIGN_OR_RETURN(reader->read_from,
                         sqlite::Prepare(db,
                                         "SELECT sequence, event FROM events WHERE sequence >= ?1 "
                                         "ORDER BY sequence LIMIT ?2"));
  REFIR_ASSIGN_OR_RETURN(
      reader->visit_from,
      sqlite::Prepare(db,
                      "SELECT sequence, type, event FROM events WHERE sequence >= ?1 "
                      "ORDER BY sequence LIMIT ?2"));
  REFIR_ASSIGN_OR_RETURN(reader->by_sequence,
                         sqlite::Prepare(db, "SELECT event FROM events WHERE sequence = ?1"));
  REFIR_ASSIGN_OR_RETURN(reader->by_id,
                         sqlite::Prepare(db, "SELECT sequence, event FROM events WHERE id = ?1"));
  REFIR_ASSIGN_OR_RETURN(
      reader->first_at_or_after,
      sqlite::Prepare(db, "SELECT MIN(sequence) FROM events WHERE received_at_us >= ?1"));
  REFIR_ASSIGN_OR_RETURN(reader->first, sqlite::Prepare(db, "SELECT MIN(sequence) FROM events"));
  return reader;
}

class SqliteJournal final : public Journal {
 public:
  explicit SqliteJournal(const SqliteJournalOptions& options)
      : path_(options.path),
        max_batch_(std::max<size_t>(options.max_batch, 1)),
        max_pending_(std::max<size_t>(options.max_pending, 1)),
        dedup_purge_interval_(options.dedup_purge_interval),
        dedup_purge_batch_(std::max<size_t>(options.dedup_purge_batch, 1)),
        metrics_(options.metrics),
        recent_(options.recent_events_bytes) {}

  ~SqliteJournal() override { Close(); }

  SqliteJournal(const SqliteJournal&) = delete;
  SqliteJournal& operator=(const SqliteJournal&) = delete;

  // Opens the writer, creates or checks the schema, prepares statements,
  // opens the readers and starts the committer.
  absl::Status Init(size_t reader_connections) {
    sqlite::WalDatabaseOptions options;
    options.path = path_;
    options.name = "journal";
    options.synchronous = sqlite::Synchronous::kFull;
    options.busy_timeout_ms = kBusyTimeoutMs;
    options.schema_version = kSchemaVersion;
    options.create_schema = CreateSchema;
    options.upgrade_schema = UpgradeSchema;
    options.incremental_auto_vacuum = true;
    REFIR_ASSIGN_OR_RETURN(writer_, sqlite::OpenWalDatabase(options));
    sqlite3* db = writer_.get();

    REFIR_ASSIGN_OR_RETURN(transactions_, sqlite::WriteTransactions::Prepare(db));
    REFIR_ASSIGN_OR_RETURN(insert_, sqlite::Prepare(db,
                                                    "INSERT INTO events (id, received_at_us, type, "
                                                    "event) VALUES (?1, ?2, ?3, ?4) "
                                                    "ON CONFLICT(id) DO NOTHING"));
    REFIR_ASSIGN_OR_RETURN(sequence_by_id_,
                           sqlite::Prepare(db, "SELECT sequence FROM events WHERE id = ?1"));
    REFIR_ASSIGN_OR_RETURN(
        dedup_lookup_,
        sqlite::Prepare(db, "SELECT sequence, id, received_at_us FROM dedup WHERE key = ?1"));
    REFIR_ASSIGN_OR_RETURN(
        dedup_upsert_,
        sqlite::Prepare(db,
                        "INSERT INTO dedup (key, sequence, id, received_at_us, expires_at_us) "
                        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(key) DO UPDATE SET "
                        "sequence = excluded.sequence, id = excluded.id, "
                        "received_at_us = excluded.received_at_us, "
                        "expires_at_us = excluded.expires_at_us"));
    REFIR_ASSIGN_OR_RETURN(
        oldest_, sqlite::Prepare(db,
                                 "SELECT sequence, received_at_us FROM events ORDER BY sequence "
                                 "LIMIT ?1"));
    REFIR_ASSIGN_OR_RETURN(
        delete_range_,
        sqlite::Prepare(db, "DELETE FROM events WHERE sequence >= ?1 AND sequence <= ?2"));
    REFIR_ASSIGN_OR_RETURN(int64_t auto_vacuum, QueryInt64(db, "PRAGMA auto_vacuum", 0));
    if (auto_vacuum != 2) {
      LogWarning(absl::StrCat(
          "journal '", path_, "' predates auto_vacuum=INCREMENTAL: space freed by retention is ",
          "reused but the file does not shrink (see docs/operations.md, Retention)"));
    }
    REFIR_ASSIGN_OR_RETURN(
        dedup_purge_,
        sqlite::Prepare(db,
                        "DELETE FROM dedup WHERE rowid IN (SELECT rowid FROM dedup "
                        "WHERE expires_at_us <= ?1 ORDER BY expires_at_us LIMIT ?2)"));

    // With AUTOINCREMENT, sqlite_sequence remembers the largest sequence ever
    // used, even when every row has since been deleted.
    REFIR_ASSIGN_OR_RETURN(
        int64_t head,
        QueryInt64(db,
                   "SELECT MAX(COALESCE((SELECT MAX(sequence) FROM events), 0), "
                   "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0))",
                   0));
    head_.store(static_cast<uint64_t>(std::max<int64_t>(head, 0)), std::memory_order_release);
    recent_.CoverAfter(head_.load(std::memory_order_relaxed));

    const size_t readers = std::max<size_t>(reader_connections, 1);
    for (size_t i = 0; i < readers; ++i) {
      REFIR_ASSIGN_OR_RETURN(std::unique_ptr<Reader> reader, OpenReader(path_));
      absl::MutexLock lock(&pool_mu_);
      free_readers_.push_back(reader.get());
      readers_.push_back(std::move(reader));
    }

    {
      absl::MutexLock lock(&mu_);
      queue_.reserve(max_pending_);
    }
    absl::MutexLock lock(&close_mu_);
    committer_ = std::thread([this] { CommitterLoop(); });
    return absl::OkStatus();
  }

  absl::StatusOr<AppendResult> Append(v1::Event event, DedupKey dedup) override {
    if (event.id().empty()) return absl::InvalidArgumentError("event id is empty");
    const absl::Time started = absl::Now();
    event.clear_sequence();
    PendingAppend record;
    record.event = &event;
    record.received_at_us =
        event.has_received_at() ? ReceivedAtMicros(event) : absl::ToUnixMicros(absl::Now());
    record.dedup_key = dedup.key;
    record.dedup_window_us = std::max<int64_t>(absl::ToInt64Microseconds(dedup.window), 0);
    // Serialize here, on the caller's thread: the committer only binds.
    if (!event.SerializeToString(&record.blob)) {
      return absl::InternalError(absl::StrCat("cannot serialize event '", event.id(), "'"));
    }
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &SqliteJournal::HasRoomOrClosing));
      if (closing_) return ClosedError();
      queue_.push_back(&record);
    }
    record.done.WaitForNotification();
    if (metrics_ != nullptr) metrics_->RecordAppend(absl::Now() - started);
    if (!record.status.ok()) return std::move(record.status);
    if (!record.result.duplicate) record.result.id = std::move(*event.mutable_id());
    return std::move(record.result);
  }

  absl::StatusOr<std::vector<v1::Event>> Read(uint64_t from_sequence, size_t max_events,
                                              size_t max_bytes) override {
    std::vector<v1::Event> events;
    if (max_events == 0 || from_sequence > kMaxSqliteInt) return events;
    ReaderLease reader(this);
    sqlite3* db = reader->db.get();
    sqlite3_stmt* stmt = reader->read_from.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 1, ToSqliteInt(from_sequence)));
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 2, ToSqliteInt(max_events)));
    events.reserve(std::min<size_t>(max_events, 64));
    size_t bytes = 0;
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(db, rc, "reading events");
      const size_t size = static_cast<size_t>(sqlite3_column_bytes(stmt, 1));
      // Never exceed max_bytes, except that one event always fits.
      if (!events.empty() && (size > max_bytes || bytes > max_bytes - size)) break;
      const auto sequence = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
      REFIR_ASSIGN_OR_RETURN(v1::Event event, EventFromRow(stmt, 1, sequence));
      events.push_back(std::move(event));
      bytes += size;
    }
    return events;
  }

  absl::Status VisitStored(uint64_t from_sequence, size_t max_events,
                           StoredEventVisitor visit) override {
    if (max_events == 0 || from_sequence > kMaxSqliteInt) return absl::OkStatus();
    // Streams that follow the head find their events here.
    if (recent_.Visit(from_sequence, max_events, visit)) return absl::OkStatus();
    ReaderLease reader(this);
    sqlite3* db = reader->db.get();
    sqlite3_stmt* stmt = reader->visit_from.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 1, ToSqliteInt(from_sequence)));
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 2, ToSqliteInt(max_events)));
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return absl::OkStatus();
      if (rc != SQLITE_ROW) return SqliteError(db, rc, "reading events");
      StoredEventView event;
      event.sequence = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
      // Text and blob pointers stay valid until the next step or reset; ask
      // for each column once, text before the blob's size (SQLite's rules).
      const unsigned char* type = sqlite3_column_text(stmt, 1);
      event.type = absl::string_view(reinterpret_cast<const char*>(type),
                                     static_cast<size_t>(sqlite3_column_bytes(stmt, 1)));
      const void* blob = sqlite3_column_blob(stmt, 2);
      const size_t size = static_cast<size_t>(sqlite3_column_bytes(stmt, 2));
      event.bytes = absl::string_view(static_cast<const char*>(blob), size);
      if ((size > 0 && blob == nullptr) || (type == nullptr) ||
          !wire::IsWellFormedMessage(event.bytes)) {
        return absl::DataLossError(
            absl::StrCat("stored event at sequence ", event.sequence, " is malformed"));
      }
      if (!visit(event)) return absl::OkStatus();
    }
  }

  absl::StatusOr<v1::Event> GetBySequence(uint64_t sequence) override {
    if (sequence == 0 || sequence > kMaxSqliteInt) return SequenceNotFound(sequence);
    ReaderLease reader(this);
    sqlite3* db = reader->db.get();
    sqlite3_stmt* stmt = reader->by_sequence.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 1, static_cast<int64_t>(sequence)));
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return SequenceNotFound(sequence);
    if (rc != SQLITE_ROW) return SqliteError(db, rc, absl::StrCat("reading sequence ", sequence));
    return EventFromRow(stmt, 0, sequence);
  }

  absl::StatusOr<v1::Event> GetById(absl::string_view id) override {
    ReaderLease reader(this);
    sqlite3* db = reader->db.get();
    sqlite3_stmt* stmt = reader->by_id.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, id));
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
      return absl::NotFoundError(absl::StrCat("no event with id '", id, "' in the journal"));
    }
    if (rc != SQLITE_ROW) return SqliteError(db, rc, absl::StrCat("reading event id '", id, "'"));
    return EventFromRow(stmt, 1, static_cast<uint64_t>(sqlite3_column_int64(stmt, 0)));
  }

  absl::StatusOr<uint64_t> FirstSequenceAtOrAfter(absl::Time time) override {
    // Head first: an event committed after the query must not be skipped.
    const uint64_t head = HeadSequence();
    ReaderLease reader(this);
    sqlite3* db = reader->db.get();
    sqlite3_stmt* stmt = reader->first_at_or_after.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 1, absl::ToUnixMicros(time)));
    return MinSequence(db, stmt, head);
  }

  absl::StatusOr<uint64_t> FirstSequence() override {
    const uint64_t head = HeadSequence();
    ReaderLease reader(this);
    sqlite3* db = reader->db.get();
    sqlite3_stmt* stmt = reader->first.get();
    ScopedReset reset(stmt);
    return MinSequence(db, stmt, head);
  }

  absl::StatusOr<DeleteResult> DeleteOldest(const DeleteRequest& request) override {
    DeleteResult result;
    if (request.max_events == 0 || request.below_sequence <= 1) return result;
    absl::MutexLock lock(&writer_mu_);
    sqlite3* db = writer_.get();
    absl::Status status = transactions_.Begin();
    if (status.ok()) status = FindDeletable(request, &result);
    if (status.ok() && result.deleted > 0) {
      // Before the rows go: reads of them then go to the database, which
      // has them until the delete commits and answers NOT_FOUND after.
      recent_.Forget(result.last_sequence);
      sqlite3_stmt* stmt = delete_range_.get();
      status = BindInt64(db, stmt, 1, ToSqliteInt(result.first_sequence));
      if (status.ok()) status = BindInt64(db, stmt, 2, ToSqliteInt(result.last_sequence));
      if (status.ok()) status = sqlite::StepDone(db, stmt, "deleting old events");
    }
    if (status.ok()) status = transactions_.Commit();
    if (!status.ok()) {
      transactions_.RollbackIfOpen();
      return status;
    }
    if (result.deleted > 0) {
      // Returns freed pages to the file system (auto_vacuum = INCREMENTAL;
      // a no-op otherwise). Bounded, so the write lock is held briefly; the
      // free list left over is reused by later inserts or later calls.
      if (absl::Status vacuum = sqlite::Exec(db, "PRAGMA incremental_vacuum(2048)"); !vacuum.ok()) {
        LogWarning(absl::StrCat("journal: ", vacuum.message()));
      }
    }
    return result;
  }

  absl::StatusOr<uint64_t> StoredBytes() override {
    absl::MutexLock lock(&writer_mu_);
    sqlite3* db = writer_.get();
    REFIR_ASSIGN_OR_RETURN(int64_t pages, QueryInt64(db, "PRAGMA page_count", 0));
    REFIR_ASSIGN_OR_RETURN(int64_t free_pages, QueryInt64(db, "PRAGMA freelist_count", 0));
    REFIR_ASSIGN_OR_RETURN(int64_t page_size, QueryInt64(db, "PRAGMA page_size", 0));
    return static_cast<uint64_t>(std::max<int64_t>(pages - free_pages, 0)) *
           static_cast<uint64_t>(std::max<int64_t>(page_size, 0));
  }

  uint64_t HeadSequence() const override { return head_.load(std::memory_order_acquire); }

  bool Writable() const override {
    return last_commit_ok_.load(std::memory_order_acquire) && !closed_.load();
  }

  void AddAppendListener(AppendListener listener) override {
    absl::MutexLock lock(&listeners_mu_);
    listeners_.push_back(std::move(listener));
  }

  void Close() override {
    closed_.store(true);
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
    }
    absl::MutexLock lock(&close_mu_);
    if (committer_.joinable()) committer_.join();
  }

 private:
  // Exclusive use of one reader connection; waits while all are busy.
  class ReaderLease {
   public:
    explicit ReaderLease(SqliteJournal* journal) : journal_(journal) {
      absl::MutexLock lock(&journal_->pool_mu_);
      journal_->pool_mu_.Await(absl::Condition(journal_, &SqliteJournal::HasFreeReader));
      reader_ = journal_->free_readers_.back();
      journal_->free_readers_.pop_back();
    }
    ~ReaderLease() {
      absl::MutexLock lock(&journal_->pool_mu_);
      journal_->free_readers_.push_back(reader_);
    }
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    Reader* operator->() const { return reader_; }

   private:
    SqliteJournal* journal_;
    Reader* reader_ = nullptr;
  };

  static absl::Status ClosedError() {
    return ErrorWithReason(absl::StatusCode::kUnavailable, kUnavailableReason, "journal is closed");
  }

  static absl::Status SequenceNotFound(uint64_t sequence) {
    return absl::NotFoundError(
        absl::StrCat("no event with sequence ", sequence, " in the journal"));
  }

  // Steps a `SELECT MIN(sequence) ...` statement; head + 1 when NULL.
  static absl::StatusOr<uint64_t> MinSequence(sqlite3* db, sqlite3_stmt* stmt, uint64_t head) {
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) return SqliteError(db, rc, "reading first sequence");
    if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) return head + 1;
    return static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
  }

  bool HasRoomOrClosing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closing_ || queue_.size() < max_pending_;
  }
  bool HasWorkOrClosing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closing_ || !queue_.empty();
  }
  bool HasFreeReader() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool_mu_) {
    return !free_readers_.empty();
  }

  // Moves up to max_batch_ waiting records into `batch` (which is empty).
  void TakeBatch(std::vector<PendingAppend*>* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (queue_.size() <= max_batch_) {
      batch->swap(queue_);  // no copy, capacities trade places
      return;
    }
    const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(max_batch_);
    batch->assign(queue_.begin(), end);
    queue_.erase(queue_.begin(), end);
  }

  void CommitterLoop() {
    std::vector<PendingAppend*> batch;
    batch.reserve(max_pending_);
    bool purge_more = false;  // the last purge was a full batch
    for (;;) {
      batch.clear();
      {
        absl::MutexLock lock(&mu_);
        const absl::Condition has_work(this, &SqliteJournal::HasWorkOrClosing);
        // While expired keys remain, wake up for them even when idle.
        if (purge_more) {
          mu_.AwaitWithDeadline(has_work, next_purge_);
        } else {
          mu_.Await(has_work);
        }
        if (closing_ && queue_.empty()) return;  // everything queued is done
        TakeBatch(&batch);
      }
      if (!batch.empty()) CommitBatch(batch);
      const absl::Time now = absl::Now();
      if (now >= next_purge_) {
        purge_more = PurgeExpiredDedupKeys();
        // After a full batch go on soon, letting waiting appends go first.
        next_purge_ = now + (purge_more ? absl::Milliseconds(1) : dedup_purge_interval_);
      }
    }
  }

  // Writes `batch` (not empty) in one transaction and releases its callers.
  void CommitBatch(const std::vector<PendingAppend*>& batch) {
    uint64_t max_inserted = 0;
    const absl::Time commit_started = absl::Now();
    absl::Status status;
    {
      absl::MutexLock lock(&writer_mu_);
      status = WriteBatch(batch, &max_inserted);
      if (status.ok()) {
        // Under the write lock, so a delete of old events cannot come in
        // between the commit and the cache.
        recent_.AddCommitted(TakeCommittedEvents(batch));
      } else {
        // If even ROLLBACK fails, the next batch retries it first. The
        // failed commit may still have stored some of the batch.
        transactions_.RollbackIfOpen();
        recent_.Invalidate();
      }
    }
    if (metrics_ != nullptr) metrics_->RecordCommit(batch.size(), absl::Now() - commit_started);
    last_commit_ok_.store(status.ok(), std::memory_order_release);
    if (!status.ok()) {
      const absl::Status failure =
          ErrorWithReason(absl::StatusCode::kUnavailable, kUnavailableReason,
                          absl::StrCat("journal commit failed: ", status.message()));
      for (PendingAppend* record : batch) record->status = failure;
    } else if (max_inserted > head_.load(std::memory_order_relaxed)) {
      head_.store(max_inserted, std::memory_order_release);
      // Before releasing the callers: once Append returns, every listener
      // has seen a head at least as large as its sequence.
      absl::ReaderMutexLock lock(&listeners_mu_);
      for (const AppendListener& listener : listeners_) listener(max_inserted);
    }
    // After Notify a record may be gone: touch nothing afterwards.
    for (PendingAppend* record : batch) record->done.Notify();
  }

  // The events `batch` stored (duplicates store nothing), in sequence order,
  // their serialized bytes moved out: the callers need only their results.
  static std::vector<RecentEvents::Entry> TakeCommittedEvents(
      const std::vector<PendingAppend*>& batch) {
    std::vector<RecentEvents::Entry> entries;
    entries.reserve(batch.size());
    for (PendingAppend* record : batch) {
      if (record->result.duplicate || record->result.sequence == 0) continue;
      entries.push_back(RecentEvents::Entry{record->result.sequence, record->event->type(),
                                            std::move(record->blob)});
    }
    return entries;
  }

  // Writes `batch` in one transaction, filling in each record's result.
  absl::Status WriteBatch(const std::vector<PendingAppend*>& batch, uint64_t* max_inserted) {
    REFIR_RETURN_IF_ERROR(transactions_.Begin());
    for (PendingAppend* record : batch) {
      REFIR_RETURN_IF_ERROR(InsertOne(record, max_inserted));
    }
    return transactions_.Commit();
  }

  // Sets `result` to the oldest run of events `request` allows deleting:
  // from the first stored event up to the first one it does not.
  absl::Status FindDeletable(const DeleteRequest& request, DeleteResult* result) {
    sqlite3* db = writer_.get();
    sqlite3_stmt* stmt = oldest_.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 1, ToSqliteInt(request.max_events)));
    const int64_t cutoff_us = absl::ToUnixMicros(request.received_before);
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(db, rc, "reading the oldest events");
      const auto sequence = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
      if (sequence >= request.below_sequence || sqlite3_column_int64(stmt, 1) >= cutoff_us) break;
      if (result->deleted == 0) result->first_sequence = sequence;
      result->last_sequence = sequence;
      ++result->deleted;
    }
    return absl::OkStatus();
  }

  // Stores one record, or finds it a duplicate by its dedup key. The
  // committer is the only writer and holds the write lock, so nothing can
  // slip in between the lookups and the inserts; an earlier record of the
  // same batch is already visible.
  absl::Status InsertOne(PendingAppend* record, uint64_t* max_inserted) {
    sqlite3* db = writer_.get();
    dedup_clock_us_ = std::max(dedup_clock_us_, record->received_at_us);
    if (!record->dedup_key.empty()) {
      REFIR_ASSIGN_OR_RETURN(bool duplicate, MatchDedupKey(record));
      if (duplicate) return absl::OkStatus();
    }
    // Looked up first rather than relying on ON CONFLICT alone: with
    // AUTOINCREMENT SQLite burns a sequence number on every ignored insert.
    REFIR_ASSIGN_OR_RETURN(bool taken, IdTaken(record->event->id()));
    if (taken) REFIR_RETURN_IF_ERROR(GiveFreshId(record));

    const v1::Event& event = *record->event;
    sqlite3_stmt* stmt = insert_.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, event.id()));
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 2, record->received_at_us));
    REFIR_RETURN_IF_ERROR(BindText(db, stmt, 3, event.type()));
    REFIR_RETURN_IF_ERROR(BindBlob(db, stmt, 4, record->blob));
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
      return SqliteError(db, rc, absl::StrCat("inserting event '", event.id(), "'"));
    }
    if (sqlite3_changes(db) != 1) {
      return absl::InternalError(
          absl::StrCat("event '", event.id(), "' was not inserted although its id was new"));
    }
    const auto sequence = static_cast<uint64_t>(sqlite3_last_insert_rowid(db));
    record->result.sequence = sequence;
    record->result.duplicate = false;
    *max_inserted = std::max(*max_inserted, sequence);
    if (!record->dedup_key.empty()) REFIR_RETURN_IF_ERROR(StoreDedupKey(*record, sequence));
    return absl::OkStatus();
  }

  // True (and the record's result filled in) when the record's key was
  // stored by an append received less than the record's window before it.
  absl::StatusOr<bool> MatchDedupKey(PendingAppend* record) {
    sqlite3* db = writer_.get();
    sqlite3_stmt* stmt = dedup_lookup_.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, record->dedup_key));
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return false;
    if (rc != SQLITE_ROW) return SqliteError(db, rc, "looking up a dedup key");
    const int64_t original_us = sqlite3_column_int64(stmt, 2);
    // Overflow-safe form of original_us + window > received_at_us.
    if (original_us <= record->received_at_us &&
        record->received_at_us - original_us >= record->dedup_window_us) {
      return false;
    }
    record->result.sequence = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    const unsigned char* id = sqlite3_column_text(stmt, 1);
    record->result.id = id == nullptr ? std::string() : reinterpret_cast<const char*>(id);
    record->result.duplicate = true;
    return true;
  }

  absl::StatusOr<bool> IdTaken(absl::string_view id) {
    sqlite3* db = writer_.get();
    sqlite3_stmt* stmt = sequence_by_id_.get();
    ScopedReset reset(stmt);
    REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, id));
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE)
      return SqliteError(db, rc, absl::StrCat("looking up event id '", id, "'"));
    return false;
  }

  // Renames the record's event to a fresh UUIDv7 (its id is stored already
  // and its dedup key did not match) and serializes it again.
  absl::Status GiveFreshId(PendingAppend* record) {
    v1::Event& event = *record->event;
    std::string taken = event.id();
    event.set_id(NewUuidV7(absl::FromUnixMicros(record->received_at_us)));
    record->blob.clear();
    if (!event.SerializeToString(&record->blob)) {
      return absl::InternalError(absl::StrCat("cannot serialize event '", event.id(), "'"));
    }
    LogInfo(absl::StrCat("journal: event id '", taken, "' is taken and its dedup key did not ",
                         "match; storing the event as '", event.id(), "'"));
    return absl::OkStatus();
  }

  absl::Status StoreDedupKey(const PendingAppend& record, uint64_t sequence) {
    sqlite3* db = writer_.get();
    sqlite3_stmt* stmt = dedup_upsert_.get();
    ScopedReset reset(stmt);
    const int64_t expires_us =
        record.received_at_us > std::numeric_limits<int64_t>::max() - record.dedup_window_us
            ? std::numeric_limits<int64_t>::max()
            : record.received_at_us + record.dedup_window_us;
    REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, record.dedup_key));
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 2, ToSqliteInt(sequence)));
    REFIR_RETURN_IF_ERROR(BindText(db, stmt, 3, record.event->id()));
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 4, record.received_at_us));
    REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 5, expires_us));
    return sqlite::StepDone(db, stmt, "storing a dedup key");
  }

  // Deletes up to dedup_purge_batch_ dedup keys that expired before the
  // newest received_at seen (the dedup clock), in a short transaction of its
  // own. Returns true when there may be more to purge.
  bool PurgeExpiredDedupKeys() {
    absl::MutexLock lock(&writer_mu_);
    if (dedup_clock_us_ == 0) return false;
    sqlite3* db = writer_.get();
    absl::Status status = transactions_.Begin();
    int deleted = 0;
    if (status.ok()) {
      sqlite3_stmt* stmt = dedup_purge_.get();
      status = BindInt64(db, stmt, 1, dedup_clock_us_);
      if (status.ok()) status = BindInt64(db, stmt, 2, ToSqliteInt(dedup_purge_batch_));
      if (status.ok()) status = sqlite::StepDone(db, stmt, "purging expired dedup keys");
      deleted = sqlite3_changes(db);
    }
    if (status.ok()) status = transactions_.Commit();
    if (!status.ok()) {
      transactions_.RollbackIfOpen();
      LogWarning(absl::StrCat("journal: ", status.message()));
      return false;
    }
    return static_cast<size_t>(deleted) >= dedup_purge_batch_;
  }

  const std::string path_;
  const size_t max_batch_;
  const size_t max_pending_;
  const absl::Duration dedup_purge_interval_;
  const size_t dedup_purge_batch_;
  JournalMetrics* const metrics_;

  // The writer connection and its statements: used by Init, then only by
  // the committer thread. Statements are declared after the connection so
  // they are finalized first.
  DbPtr writer_;
  sqlite::WriteTransactions transactions_;
  StmtPtr insert_;
  StmtPtr sequence_by_id_;
  StmtPtr dedup_lookup_;
  StmtPtr dedup_upsert_;
  StmtPtr dedup_purge_;
  StmtPtr oldest_;
  StmtPtr delete_range_;
  // Serializes use of the writer connection and its statements between the
  // committer and DeleteOldest/StoredBytes (held with no other lock but
  // recent_'s, which is taken inside it).
  absl::Mutex writer_mu_;
  // Committer only: the newest received_at seen, in Unix microseconds; keys
  // that expired before it are purged. When the next purge is due.
  int64_t dedup_clock_us_ = 0;
  absl::Time next_purge_ = absl::InfinitePast();

  // The newest committed events, for reads that follow the head.
  RecentEvents recent_;

  std::atomic<uint64_t> head_{0};
  std::atomic<bool> last_commit_ok_{true};
  std::atomic<bool> closed_{false};

  absl::Mutex mu_;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<PendingAppend*> queue_ ABSL_GUARDED_BY(mu_);

  absl::Mutex listeners_mu_;
  std::vector<AppendListener> listeners_ ABSL_GUARDED_BY(listeners_mu_);

  absl::Mutex pool_mu_;
  std::vector<std::unique_ptr<Reader>> readers_;  // owns; fixed after Init
  std::vector<Reader*> free_readers_ ABSL_GUARDED_BY(pool_mu_);

  absl::Mutex close_mu_;  // serializes joining the committer
  std::thread committer_ ABSL_GUARDED_BY(close_mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<Journal>> OpenSqliteJournal(const SqliteJournalOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("journal path is empty");
  auto journal = std::make_unique<SqliteJournal>(options);
  REFIR_RETURN_IF_ERROR(journal->Init(options.reader_connections));
  return journal;
}

}  // namespace refir::bridge
