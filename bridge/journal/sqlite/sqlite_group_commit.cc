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
      head_(head) {
  absl::MutexLock lock(&mu_);
  queue_.reserve(max_pending_);
}

void GroupCommitter::Start() {
  absl::MutexLock lock(&close_mu_);
  thread_ = std::thread([this] { Loop(); });
}

absl::Status GroupCommitter::Submit(PendingAppend* record) {
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &GroupCommitter::HasRoomOrClosing));
    if (closing_) {
      return ErrorWithReason(absl::StatusCode::kUnavailable, kJournalUnavailableReason,
                             "journal is closed");
    }
    if (committing_ || !queue_.empty()) {
      queue_.push_back(record);
      return absl::OkStatus();
    }
    committing_ = true;
  }
  // Nothing under way and nothing waiting: commit here. Whatever queues
  // meanwhile is the committer thread's once the commit is finished.
  CommitBatch(absl::MakeConstSpan(&record, 1));
  FinishCommit();
  return absl::OkStatus();
}

void GroupCommitter::FinishCommit() {
  absl::MutexLock lock(&mu_);
  committing_ = false;
  purge_due_ = true;
}

bool GroupCommitter::TakePurgeDue() {
  absl::MutexLock lock(&mu_);
  return std::exchange(purge_due_, false);
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
  }
  absl::MutexLock lock(&close_mu_);
  if (thread_.joinable()) thread_.join();
}

void GroupCommitter::TakeBatch(std::vector<PendingAppend*>* batch) {
  if (queue_.size() <= max_batch_) {
    batch->swap(queue_);  // no copy, capacities trade places
    return;
  }
  const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(max_batch_);
  batch->assign(queue_.begin(), end);
  queue_.erase(queue_.begin(), end);
}

void GroupCommitter::Loop() {
  std::vector<PendingAppend*> batch;
  batch.reserve(max_pending_);
  bool purge_more = false;  // the last purge was a full batch
  absl::Time next_purge = absl::InfinitePast();
  for (;;) {
    batch.clear();
    {
      absl::MutexLock lock(&mu_);
      if (purge_more || purge_due_) {
        // Keys may have expired: wake for the next purge even if no record
        // comes through this thread (appends that commit inline do not).
        mu_.AwaitWithDeadline(absl::Condition(this, &GroupCommitter::HasWorkOrClosing), next_purge);
      } else {
        // Nothing committed since the last purge: sleep until a record
        // queues or one commits inline.
        mu_.Await(absl::Condition(this, &GroupCommitter::HasWorkOrPurgeDue));
      }
      if (!committing_) {
        if (closing_ && queue_.empty()) return;  // everything queued is done
        TakeBatch(&batch);
        committing_ = !batch.empty();
      }
    }
    if (!batch.empty()) {
      CommitBatch(batch);
      FinishCommit();
    }
    const absl::Time now = absl::Now();
    if (now >= next_purge) {
      // Keys expire on the clock of the stored events: with no commit since
      // a purge that was not full, nothing new has expired.
      if (TakePurgeDue() || purge_more) {
        purge_more = writer_->PurgeExpiredDedupKeys(dedup_purge_batch_);
      }
      // After a full batch go on soon, letting waiting appends go first.
      next_purge = now + (purge_more ? absl::Milliseconds(1) : dedup_purge_interval_);
    }
  }
}

void GroupCommitter::CommitBatch(absl::Span<PendingAppend* const> batch) {
  uint64_t max_inserted = 0;
  const absl::Time commit_started = absl::Now();
  const absl::Status status = writer_->CommitBatch(batch, &max_inserted);
  if (metrics_ != nullptr) metrics_->RecordCommit(batch.size(), absl::Now() - commit_started);
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
  // After Notify a record may be gone: touch nothing afterwards.
  for (PendingAppend* record : batch) record->done.Notify();
}

}  // namespace refir::bridge::sqlite
