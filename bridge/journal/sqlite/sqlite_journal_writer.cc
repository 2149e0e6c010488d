#include "bridge/journal/sqlite/sqlite_journal_writer.h"

#include <sqlite3.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/common/uuid7.h"
#include "bridge/journal/sqlite/sqlite_constants.h"
#include "bridge/journal/sqlite/sqlite_journal_schema.h"

namespace refir::bridge::sqlite {
namespace {

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

// The events `batch` stored (duplicates store nothing), in sequence order,
// their serialized bytes moved out: the callers need only their results.
std::vector<RecentEvents::Entry> TakeCommittedEvents(absl::Span<PendingAppend* const> batch) {
  std::vector<RecentEvents::Entry> entries;
  entries.reserve(batch.size());
  for (PendingAppend* record : batch) {
    if (record->result.duplicate || record->result.sequence == 0) continue;
    entries.push_back(RecentEvents::Entry{record->result.sequence, record->event->type(),
                                          std::move(record->blob)});
  }
  return entries;
}

}  // namespace

absl::StatusOr<std::unique_ptr<JournalWriter>> JournalWriter::Open(const std::string& path,
                                                                   RecentEvents* recent) {
  auto writer = std::make_unique<JournalWriter>(Key(), recent);
  // Nothing else can see the writer yet; the lock is for the analysis.
  absl::MutexLock lock(&writer->mu_);
  REFIR_ASSIGN_OR_RETURN(writer->db_, OpenJournalWriterDb(path));
  sqlite3* db = writer->db_.get();
  REFIR_ASSIGN_OR_RETURN(writer->transactions_, WriteTransactions::Prepare(db));
  REFIR_ASSIGN_OR_RETURN(writer->insert_, Prepare(db,
                                                  "INSERT INTO events (id, received_at_us, type, "
                                                  "event) VALUES (?1, ?2, ?3, ?4) "
                                                  "ON CONFLICT(id) DO NOTHING"));
  REFIR_ASSIGN_OR_RETURN(writer->sequence_by_id_,
                         Prepare(db, "SELECT sequence FROM events WHERE id = ?1"));
  REFIR_ASSIGN_OR_RETURN(writer->dedup_, DedupTable::Prepare(db));
  REFIR_ASSIGN_OR_RETURN(writer->retention_, RetentionQueries::Prepare(db));
  return writer;
}

absl::StatusOr<uint64_t> JournalWriter::QueryHead() {
  absl::MutexLock lock(&mu_);
  return QueryJournalHead(db_.get());
}

absl::Status JournalWriter::CommitBatch(absl::Span<PendingAppend* const> batch,
                                        uint64_t* max_inserted) {
  absl::MutexLock lock(&mu_);
  absl::Status status = WriteBatch(batch, max_inserted);
  if (status.ok()) {
    // Under the write lock, so a delete of old events cannot come in
    // between the commit and the cache.
    recent_->AddCommitted(TakeCommittedEvents(batch));
  } else {
    // If even ROLLBACK fails, the next batch retries it first. The failed
    // commit may still have stored some of the batch.
    transactions_.RollbackIfOpen();
    recent_->Invalidate();
  }
  return status;
}

absl::Status JournalWriter::WriteBatch(absl::Span<PendingAppend* const> batch,
                                       uint64_t* max_inserted) {
  REFIR_RETURN_IF_ERROR(transactions_.Begin());
  for (PendingAppend* record : batch) {
    REFIR_RETURN_IF_ERROR(InsertOne(record, max_inserted));
  }
  return transactions_.Commit();
}

// The write lock is held and this is the only writer, so nothing can slip
// in between the lookups and the inserts; an earlier record of the same
// batch is already visible.
absl::Status JournalWriter::InsertOne(PendingAppend* record, uint64_t* max_inserted) {
  sqlite3* db = db_.get();
  dedup_clock_us_ = std::max(dedup_clock_us_, record->received_at_us);
  if (!record->dedup_key.empty()) {
    REFIR_ASSIGN_OR_RETURN(
        std::optional<AppendResult> original,
        dedup_.Match(record->dedup_key, record->received_at_us, record->dedup_window_us));
    if (original.has_value()) {
      record->result = *std::move(original);
      return absl::OkStatus();
    }
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
  if (!record->dedup_key.empty()) {
    REFIR_RETURN_IF_ERROR(dedup_.Store(record->dedup_key, sequence, event.id(),
                                       record->received_at_us, record->dedup_window_us));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> JournalWriter::IdTaken(absl::string_view id) {
  sqlite3* db = db_.get();
  sqlite3_stmt* stmt = sequence_by_id_.get();
  ScopedReset reset(stmt);
  REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, id));
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) return SqliteError(db, rc, absl::StrCat("looking up event id '", id, "'"));
  return false;
}

bool JournalWriter::PurgeExpiredDedupKeys(size_t max_keys) {
  absl::MutexLock lock(&mu_);
  if (dedup_clock_us_ == 0) return false;
  absl::Status status = transactions_.Begin();
  size_t deleted = 0;
  if (status.ok()) {
    absl::StatusOr<size_t> purged = dedup_.DeleteExpired(dedup_clock_us_, max_keys);
    if (purged.ok()) {
      deleted = *purged;
    } else {
      status = purged.status();
    }
  }
  if (status.ok()) status = transactions_.Commit();
  if (!status.ok()) {
    transactions_.RollbackIfOpen();
    LogWarning(absl::StrCat("journal: ", status.message()));
    return false;
  }
  return deleted >= max_keys;
}

absl::StatusOr<DeleteResult> JournalWriter::DeleteOldest(const DeleteRequest& request) {
  DeleteResult result;
  if (request.max_events == 0 || request.below_sequence <= 1) return result;
  absl::MutexLock lock(&mu_);
  absl::Status status = transactions_.Begin();
  if (status.ok()) status = retention_.FindDeletable(request, &result);
  if (status.ok() && result.deleted > 0) {
    // Before the rows go: reads of them then go to the database, which has
    // them until the delete commits and answers NOT_FOUND after.
    recent_->Forget(result.last_sequence);
    status = retention_.DeleteRange(result.first_sequence, result.last_sequence);
  }
  if (status.ok()) status = transactions_.Commit();
  if (!status.ok()) {
    transactions_.RollbackIfOpen();
    return status;
  }
  if (result.deleted > 0) {
    if (absl::Status vacuum = Exec(db_.get(), kIncrementalVacuumSql); !vacuum.ok()) {
      LogWarning(absl::StrCat("journal: ", vacuum.message()));
    }
  }
  return result;
}

absl::StatusOr<uint64_t> JournalWriter::StoredBytes() {
  absl::MutexLock lock(&mu_);
  return retention_.StoredBytes();
}

}  // namespace refir::bridge::sqlite
