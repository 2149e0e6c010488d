// Constants shared by the SQLite files of the journal and the group store:
// connection settings, the limits of SQLite's integers, the pragmas run
// outside a schema, and the error reason the journal reports. One place, so
// that the journal's writer, its readers and the group store cannot drift
// apart. Schemas themselves live with their owners (sqlite_journal_schema.h,
// sqlite_group_store.cc).
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_CONSTANTS_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_CONSTANTS_H_

#include <algorithm>
#include <cstdint>
#include <limits>

namespace refir::bridge::sqlite {

// How long a connection waits for another process's lock before SQLITE_BUSY.
inline constexpr int kBusyTimeoutMs = 5000;

// SQLite integers are int64: the largest sequence (or count) it can store.
inline constexpr uint64_t kMaxSqliteInt =
    static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// `value` as an SQLite integer, saturated at kMaxSqliteInt.
inline int64_t ToSqliteInt(uint64_t value) {
  return static_cast<int64_t>(std::min(value, kMaxSqliteInt));
}

// Returns freed pages to the file system after retention deletes
// (auto_vacuum = INCREMENTAL; a no-op otherwise). Bounded to 2048 pages so
// the write lock is held briefly; the rest of the free list is reused.
inline constexpr char kIncrementalVacuumSql[] = "PRAGMA incremental_vacuum(2048)";

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_CONSTANTS_H_
