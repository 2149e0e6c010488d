#include "bridge/journal/sqlite/sqlite_journal_reader.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bridge/common/proto_wire.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/sqlite/sqlite_constants.h"

namespace refir::bridge::sqlite {
namespace {

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

absl::Status SequenceNotFound(uint64_t sequence) {
  return absl::NotFoundError(absl::StrCat("no event with sequence ", sequence, " in the journal"));
}

// Steps a `SELECT MIN(sequence) ...` statement; head + 1 when NULL.
absl::StatusOr<uint64_t> MinSequence(sqlite3* db, sqlite3_stmt* stmt, uint64_t head) {
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW) return SqliteError(db, rc, "reading first sequence");
  if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) return head + 1;
  return static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
}

}  // namespace

absl::StatusOr<std::unique_ptr<JournalReader>> JournalReader::Open(const std::string& path) {
  auto reader = std::make_unique<JournalReader>(Key());
  REFIR_ASSIGN_OR_RETURN(reader->db_, OpenDb(path, SQLITE_OPEN_READONLY, kBusyTimeoutMs));
  sqlite3* db = reader->db_.get();
  REFIR_ASSIGN_OR_RETURN(reader->read_from_,
                         Prepare(db,
                                 "SELECT sequence, event FROM events WHERE sequence >= ?1 "
                                 "ORDER BY sequence LIMIT ?2"));
  REFIR_ASSIGN_OR_RETURN(reader->visit_from_,
                         Prepare(db,
                                 "SELECT sequence, type, event FROM events WHERE sequence >= ?1 "
                                 "ORDER BY sequence LIMIT ?2"));
  REFIR_ASSIGN_OR_RETURN(reader->by_sequence_,
                         Prepare(db, "SELECT event FROM events WHERE sequence = ?1"));
  REFIR_ASSIGN_OR_RETURN(reader->by_id_,
                         Prepare(db, "SELECT sequence, event FROM events WHERE id = ?1"));
  REFIR_ASSIGN_OR_RETURN(
      reader->first_at_or_after_,
      Prepare(db, "SELECT MIN(sequence) FROM events WHERE received_at_us >= ?1"));
  REFIR_ASSIGN_OR_RETURN(reader->first_, Prepare(db, "SELECT MIN(sequence) FROM events"));
  return reader;
}

absl::StatusOr<std::vector<v1::Event>> JournalReader::Read(uint64_t from_sequence,
                                                           size_t max_events, size_t max_bytes) {
  std::vector<v1::Event> events;
  if (max_events == 0 || from_sequence > kMaxSqliteInt) return events;
  sqlite3* db = db_.get();
  sqlite3_stmt* stmt = read_from_.get();
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

absl::Status JournalReader::VisitStored(uint64_t from_sequence, size_t max_events,
                                        StoredEventVisitor visit) {
  if (max_events == 0 || from_sequence > kMaxSqliteInt) return absl::OkStatus();
  sqlite3* db = db_.get();
  sqlite3_stmt* stmt = visit_from_.get();
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

absl::StatusOr<v1::Event> JournalReader::GetBySequence(uint64_t sequence) {
  if (sequence == 0 || sequence > kMaxSqliteInt) return SequenceNotFound(sequence);
  sqlite3* db = db_.get();
  sqlite3_stmt* stmt = by_sequence_.get();
  ScopedReset reset(stmt);
  REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 1, static_cast<int64_t>(sequence)));
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return SequenceNotFound(sequence);
  if (rc != SQLITE_ROW) return SqliteError(db, rc, absl::StrCat("reading sequence ", sequence));
  return EventFromRow(stmt, 0, sequence);
}

absl::StatusOr<v1::Event> JournalReader::GetById(absl::string_view id) {
  sqlite3* db = db_.get();
  sqlite3_stmt* stmt = by_id_.get();
  ScopedReset reset(stmt);
  REFIR_RETURN_IF_ERROR(BindText(db, stmt, 1, id));
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat("no event with id '", id, "' in the journal"));
  }
  if (rc != SQLITE_ROW) return SqliteError(db, rc, absl::StrCat("reading event id '", id, "'"));
  return EventFromRow(stmt, 1, static_cast<uint64_t>(sqlite3_column_int64(stmt, 0)));
}

absl::StatusOr<uint64_t> JournalReader::FirstSequenceAtOrAfter(absl::Time time, uint64_t head) {
  sqlite3* db = db_.get();
  sqlite3_stmt* stmt = first_at_or_after_.get();
  ScopedReset reset(stmt);
  REFIR_RETURN_IF_ERROR(BindInt64(db, stmt, 1, absl::ToUnixMicros(time)));
  return MinSequence(db, stmt, head);
}

absl::StatusOr<uint64_t> JournalReader::FirstSequence(uint64_t head) {
  sqlite3* db = db_.get();
  sqlite3_stmt* stmt = first_.get();
  ScopedReset reset(stmt);
  return MinSequence(db, stmt, head);
}

}  // namespace refir::bridge::sqlite
