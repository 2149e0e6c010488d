// The SQLite journal's pool of read connections: a fixed set of
// JournalReaders (sqlite_journal_reader.h), each lent to one caller at a
// time, so concurrent reads run in parallel without sharing a connection.
//
// Threading: thread-safe. Lease blocks while every reader is lent out. The
// pool's mutex is a leaf: it is held only to take or return a reader, never
// while reading, so callers may hold their own locks (a consumer group's)
// while leasing. Open must finish before the first Lease; the pool must
// outlive its leases.
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_READER_POOL_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_READER_POOL_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "bridge/journal/sqlite/sqlite_journal_reader.h"

namespace refir::bridge::sqlite {

class ReaderPool {
 public:
  ReaderPool() = default;
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  // Opens max(connections, 1) read-only connections to `path`. Call once.
  absl::Status Open(const std::string& path, size_t connections) ABSL_LOCKS_EXCLUDED(mu_);

  // Exclusive use of one reader for the lease's lifetime; waits while all
  // are busy.
  class Lease {
   public:
    explicit Lease(ReaderPool* pool) ABSL_LOCKS_EXCLUDED(pool->mu_);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    JournalReader* operator->() const { return reader_; }

   private:
    ReaderPool* const pool_;
    JournalReader* reader_ = nullptr;
  };

 private:
  bool HasFreeReader() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !free_.empty(); }

  absl::Mutex mu_;
  // Owns every reader; filled by Open, fixed afterwards.
  std::vector<std::unique_ptr<JournalReader>> readers_ ABSL_GUARDED_BY(mu_);
  std::vector<JournalReader*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_READER_POOL_H_
