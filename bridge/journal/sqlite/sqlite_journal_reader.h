// One read-only connection to the SQLite journal with its prepared
// statements, and the reads the Journal interface offers on it (Read,
// VisitStored, GetBySequence, GetById, the first-sequence queries).
//
// Threading: not thread-safe. A JournalReader is used by one thread at a
// time; ReaderPool (sqlite_reader_pool.h) hands each one to a single caller
// at a time. In WAL mode readers never block the writer, and each statement
// is reset after use so no read snapshot outlives a call.
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_READER_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/journal/journal.h"
#include "bridge/journal/sqlite/sqlite_db.h"

namespace refir::bridge::sqlite {

class JournalReader {
 public:
  // Opens `path` read-only and prepares the statements.
  static absl::StatusOr<std::unique_ptr<JournalReader>> Open(const std::string& path);

  // Use Open(); the key keeps other callers from making a reader without
  // a connection.
  class Key {
    friend class JournalReader;
    Key() = default;
  };
  explicit JournalReader(Key /*key*/) {}

  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  // As Journal::Read, Journal::VisitStored (from storage, not the cache),
  // Journal::GetBySequence and Journal::GetById.
  absl::StatusOr<std::vector<v1::Event>> Read(uint64_t from_sequence, size_t max_events,
                                              size_t max_bytes);
  absl::Status VisitStored(uint64_t from_sequence, size_t max_events, StoredEventVisitor visit);
  absl::StatusOr<v1::Event> GetBySequence(uint64_t sequence);
  absl::StatusOr<v1::Event> GetById(absl::string_view id);

  // The first stored sequence (received at or after `time`), or head + 1
  // when there is none. `head` must be read before the call, so that an
  // event committed meanwhile is not skipped.
  absl::StatusOr<uint64_t> FirstSequenceAtOrAfter(absl::Time time, uint64_t head);
  absl::StatusOr<uint64_t> FirstSequence(uint64_t head);

 private:
  // Statements are declared after the connection so they are finalized
  // first.
  DbPtr db_;
  StmtPtr read_from_;
  StmtPtr visit_from_;
  StmtPtr by_sequence_;
  StmtPtr by_id_;
  StmtPtr first_at_or_after_;
  StmtPtr first_;
};

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_JOURNAL_READER_H_
