#include "bridge/journal/sqlite/sqlite_group_commit.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/common/error_reason.h"
#include "bridge/journal/sqlite/sqlite_constants.h"

namespace refir::bridge::sqlite {

GroupCommitter::GroupCommitter(JournalWriter* writer, const GroupCommitOptions& options,
                               uint64_t head)
    : writer_(writer),
      max_batch_(std::max<size_t>(options.max_batch, 1)),
      max_pending_(std::max<size_t>(options.max_pending, 1)),
      dedup_purge_interval_(options.dedup_purge_interval),
      dedup_purge_batch_(std::max<size_t>(options.dedup_purge_batch, 1)),
      metrics_(options.metrics),
      head_(head) {}

void GroupCommitter::Start() {
  absl::MutexLock lock(&close_mu_);
  purge_thread_ = std::thread([this] { PurgeLoop(); });
}

void GroupCommitter::Append(PendingAppend* record) {
  bool lead = false;
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &GroupCommitter::HasRoomOrClosing));
    if (closing_) {
      record->status = ErrorWithReason(absl::StatusCode::kUnavailable, kJournalUnavailableReason,
                                       "journal is closed");
      return;
    }
    queue_.push_back(record);
    if (!leader_active_) {
      // No commit under way (so the queue held nothing else): lead at once.
      leader_active_ = true;
      lead = true;
    }
  }
  if (!lead) {
    // A follower sleeps on its own notification until the leader that
    // committed its record, or the one handing it leadership, notifies it.
    // record->lead is written before that notification, read after it.
    record->wake.WaitForNotification();
    lead = record->lead;
  }
  if (lead) Lead(record);
}

void GroupCommitter::AddAppendListener(Journal::AppendListener listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.push_back(std::move(listener));
}

void GroupCommitter::Close() {
  closed_.store(true);
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    // The records queued before are committed by their leaders.
    mu_.Await(absl::Condition(this, &GroupCommitter::Idle));
  }
  {
    absl::MutexLock lock(&purge_mu_);
    purge_stop_ = true;
  }
  absl::MutexLock lock(&close_mu_);
  if (purge_thread_.joinable()) purge_thread_.join();
}

void GroupCommitter::TakeBatch(std::vector<PendingAppend*>* batch) {
  const size_t n = std::min(queue_.size(), max_batch_);
  const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(n);
  batch->assign(queue_.begin(), end);
  queue_.erase(queue_.begin(), end);
}

void GroupCommitter::Lead(PendingAppend* self) {
  std::vector<PendingAppend*> batch;
  {
    absl::MutexLock lock(&mu_);
    TakeBatch(&batch);  // `self` is at the front: it is first in the batch
  }
  CommitBatch(batch);
  // Only now the next leader may start: its listener calls must come after
  // ours, with a larger head.
  PendingAppend* next = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (queue_.empty()) {
      leader_active_ = false;
    } else {
      next = queue_.front();
      next->lead = true;
    }
  }
  if (next != nullptr) next->wake.Notify();
  // After Notify a record may be gone: touch nothing afterwards. `self`
  // is this thread's own and needs no wake.
  for (PendingAppend* record : batch) {
    if (record != self) record->wake.Notify();
  }
}

void GroupCommitter::CommitBatch(const std::vector<PendingAppend*>& batch) {
  uint64_t max_inserted = 0;
  const absl::Time commit_started = absl::Now();
  const absl::Status status = writer_->CommitBatch(batch, &max_inserted);
  if (metrics_ != nullptr) metrics_->RecordCommit(batch.size(), absl::Now() - commit_started);
  commits_.fetch_add(1, std::memory_order_relaxed);
  last_commit_ok_.store(status.ok(), std::memory_order_release);
  if (!status.ok()) {
    const absl::Status failure =
        ErrorWithReason(absl::StatusCode::kUnavailable, kJournalUnavailableReason,
                        absl::StrCat("journal commit failed: ", status.message()));
    for (PendingAppend* record : batch) record->status = failure;
  } else if (max_inserted > head_.load(std::memory_order_relaxed)) {
    head_.store(max_inserted, std::memory_order_release);
    // Before releasing the callers: once Append returns, every listener has
    // seen a head at least as large as its sequence.
    absl::ReaderMutexLock lock(&listeners_mu_);
    for (const Journal::AppendListener& listener : listeners_) listener(max_inserted);
  }
}

void GroupCommitter::PurgeLoop() {
  uint64_t commits_seen = 0;
  bool purge_more = false;  // the last purge was a full batch
  for (;;) {
    {
      absl::MutexLock lock(&purge_mu_);
      // After a full batch go on soon, letting waiting appends go first.
      // Never a busy loop, even with a zero interval.
      const absl::Duration wait = purge_more
                                      ? absl::Milliseconds(1)
                                      : std::max(dedup_purge_interval_, absl::Milliseconds(1));
      purge_mu_.AwaitWithTimeout(absl::Condition(this, &GroupCommitter::PurgeStopping), wait);
      if (purge_stop_) return;
    }
    const uint64_t commits = commits_.load(std::memory_order_relaxed);
    if (!purge_more && commits == commits_seen) continue;  // nothing new can have expired
    commits_seen = commits;
    // Takes the writer's lock: never in the middle of a commit.
    purge_more = writer_->PurgeExpiredDedupKeys(dedup_purge_batch_);
  }
}

}  // namespace refir::bridge::sqlite
