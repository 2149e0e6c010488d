// RecentEvents: the newest committed events of a journal, kept in memory as
// stored (serialized), so the streams that follow the head read them without
// a database read each: with G consumer groups every event is read G times.
// Bounded by bytes; the oldest are dropped first, and reads that start before
// what it covers go to the journal's storage.
#ifndef REFIR_BRIDGE_JOURNAL_RECENT_EVENTS_H_
#define REFIR_BRIDGE_JOURNAL_RECENT_EVENTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "bridge/journal/journal.h"

namespace refir::bridge {

// How much the journal keeps unless configured (--journal_cache_bytes).
inline constexpr size_t kDefaultRecentEventsBytes = size_t{4} << 20;

class RecentEvents {
 public:
  struct Entry {
    uint64_t sequence = 0;
    std::string type;
    std::string bytes;  // the serialized Event, as stored
  };

  // Holds at most about `max_bytes` of events (0: holds none, covers nothing).
  explicit RecentEvents(size_t max_bytes) : max_bytes_(max_bytes) {}

  RecentEvents(const RecentEvents&) = delete;
  RecentEvents& operator=(const RecentEvents&) = delete;

  // Every event stored from now on has a sequence above `head`, and each
  // will be added: from here on the cache covers every sequence > head.
  void CoverAfter(uint64_t head);

  // Adds the events of one successful commit, in ascending sequence order
  // and above every sequence added before; drops the oldest beyond the
  // bound. After Invalidate, coverage restarts at the first of these.
  void AddCommitted(std::vector<Entry> entries);

  // A commit failed: events may be stored that were not added. Covers
  // nothing until the next AddCommitted.
  void Invalidate();

  // Events up to `sequence` are being deleted from the journal: drops them,
  // and reads from there on go to storage.
  void Forget(uint64_t through_sequence);

  // When every stored event with sequence >= from_sequence is held here,
  // visits up to max_events of them in order (until `visit` returns false)
  // and returns true; otherwise visits nothing and returns false. `visit`
  // runs under a reader lock: it must not call back into the journal.
  bool Visit(uint64_t from_sequence, size_t max_events, StoredEventVisitor visit) const;

  // Bytes held (the serialized events and their types).
  size_t bytes() const;

 private:
  static constexpr uint64_t kCoversNothing = UINT64_MAX;

  static size_t Cost(const Entry& entry) { return entry.bytes.size() + entry.type.size(); }
  // Empties the cache, which then covers every sequence >= covered_from.
  void ResetLocked(uint64_t covered_from) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropOldestBeyondBound() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  // Every stored event with sequence >= covered_from_ is in entries_.
  uint64_t covered_from_ ABSL_GUARDED_BY(mu_) = kCoversNothing;
  std::deque<Entry> entries_ ABSL_GUARDED_BY(mu_);  // ascending sequences
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_JOURNAL_RECENT_EVENTS_H_
