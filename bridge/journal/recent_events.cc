#include "bridge/journal/recent_events.h"

#include <algorithm>
#include <utility>

namespace refir::bridge {

void RecentEvents::CoverAfter(uint64_t head) {
  absl::MutexLock lock(&mu_);
  ResetLocked(max_bytes_ == 0 || head == kCoversNothing ? kCoversNothing : head + 1);
}

void RecentEvents::AddCommitted(std::vector<Entry> entries) {
  if (max_bytes_ == 0 || entries.empty()) return;
  absl::MutexLock lock(&mu_);
  const bool strictly_ascending =
      std::adjacent_find(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return a.sequence >= b.sequence;
      }) == entries.end();
  const bool after_held = entries_.empty() || entries.front().sequence > entries_.back().sequence;
  if (!strictly_ascending || !after_held) {
    // Not the order commits produce: trust storage rather than this cache.
    ResetLocked(kCoversNothing);
    return;
  }
  if (covered_from_ == kCoversNothing) ResetLocked(entries.front().sequence);
  for (Entry& entry : entries) {
    if (entry.sequence < covered_from_) continue;  // forgotten (being deleted)
    bytes_ += Cost(entry);
    entries_.push_back(std::move(entry));
  }
  DropOldestBeyondBound();
}

void RecentEvents::Invalidate() {
  absl::MutexLock lock(&mu_);
  ResetLocked(kCoversNothing);
}

void RecentEvents::Forget(uint64_t through_sequence) {
  absl::MutexLock lock(&mu_);
  while (!entries_.empty() && entries_.front().sequence <= through_sequence) {
    bytes_ -= Cost(entries_.front());
    entries_.pop_front();
  }
  if (covered_from_ != kCoversNothing && covered_from_ <= through_sequence) {
    covered_from_ = through_sequence == kCoversNothing ? kCoversNothing : through_sequence + 1;
  }
}

bool RecentEvents::Visit(uint64_t from_sequence, size_t max_events,
                         StoredEventVisitor visit) const {
  absl::ReaderMutexLock lock(&mu_);
  if (covered_from_ == kCoversNothing || from_sequence < covered_from_) return false;
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), from_sequence,
      [](const Entry& entry, uint64_t sequence) { return entry.sequence < sequence; });
  for (size_t visited = 0; it != entries_.end() && visited < max_events; ++it, ++visited) {
    if (!visit(StoredEventView{it->sequence, it->type, it->bytes})) break;
  }
  return true;
}

size_t RecentEvents::bytes() const {
  absl::ReaderMutexLock lock(&mu_);
  return bytes_;
}

void RecentEvents::ResetLocked(uint64_t covered_from) {
  entries_.clear();
  bytes_ = 0;
  covered_from_ = covered_from;
}

void RecentEvents::DropOldestBeyondBound() {
  while (bytes_ > max_bytes_ && !entries_.empty()) {
    bytes_ -= Cost(entries_.front());
    covered_from_ = entries_.front().sequence + 1;
    entries_.pop_front();
  }
}

}  // namespace refir::bridge
