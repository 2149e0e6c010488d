// The SQLite journal's group commit, leader/follower style (as LevelDB's
// DBImpl::Write): each appending thread queues its PendingAppend; the first
// one to find no commit under way becomes the leader, takes every record
// waiting at that moment (up to max_batch), has the JournalWriter write them
// in one transaction on its own thread (one fsync covers them all),
// publishes what was committed (the head sequence, the append listeners,
// Writable()), hands leadership to the next waiting record, if any, and
// releases exactly the callers whose records it committed. No thread sits
// between the callers and the database: a lone append commits itself
// without waking anyone. A small thread purges expired dedup keys between
// commits (the writer's lock keeps it apart from them).
//
// Contract: Append returns once the record is committed (its `status` and
// `result` filled in) or refused (journal closing). The head is raised and
// every listener called before any caller of that commit is released, and
// listeners see strictly increasing heads (the next leader starts only
// after). Close finishes everything queued, then refuses new records.
//
// Threading: thread-safe. One leader at a time. Lock order: close_mu_ (held
// while joining the purge thread) before mu_ and listeners_mu_; mu_ (the
// queue) is never held with another lock; listeners run under a reader lock
// of listeners_mu_, outside the writer's lock. purge_mu_ is a leaf.
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_GROUP_COMMIT_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_GROUP_COMMIT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bridge/journal/journal.h"
#include "bridge/journal/sqlite/sqlite_journal_writer.h"
#include "bridge/journal/sqlite/sqlite_pending_append.h"
#include "bridge/metrics/metrics.h"

namespace refir::bridge::sqlite {

struct GroupCommitOptions {
  size_t max_batch = 512;     // most records per transaction (>= 1)
  size_t max_pending = 4096;  // most records queued; Append blocks beyond
  absl::Duration dedup_purge_interval = absl::Seconds(1);
  size_t dedup_purge_batch = 256;     // >= 1
  JournalMetrics* metrics = nullptr;  // not owned; may be null
};

class GroupCommitter {
 public:
  // `writer` is not owned and must outlive the committer; `head` is the
  // journal's head sequence when it opened.
  GroupCommitter(JournalWriter* writer, const GroupCommitOptions& options, uint64_t head);
  ~GroupCommitter() { Close(); }

  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Starts the dedup purge thread. Call once.
  void Start() ABSL_LOCKS_EXCLUDED(close_mu_);

  // Commits `record` (possibly leading the commit of others' records too)
  // and returns once it is durable or failed: record->status says which.
  // Waits while max_pending records are queued. Once closing the record is
  // not written and its status is UNAVAILABLE (journal_unavailable).
  void Append(PendingAppend* record) ABSL_LOCKS_EXCLUDED(mu_, listeners_mu_);

  uint64_t head() const { return head_.load(std::memory_order_acquire); }
  bool writable() const {
    return last_commit_ok_.load(std::memory_order_acquire) && !closed_.load();
  }
  void AddAppendListener(Journal::AppendListener listener) ABSL_LOCKS_EXCLUDED(listeners_mu_);

  // Waits for everything queued to be committed, stops the purge thread,
  // refuses further records. Idempotent. Not from an append listener.
  void Close() ABSL_LOCKS_EXCLUDED(mu_, close_mu_, purge_mu_);

 private:
  bool HasRoomOrClosing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closing_ || queue_.size() < max_pending_;
  }
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !leader_active_; }

  // Leads one commit: `self` is at the front of the queue and this thread
  // holds leadership. Returns once `self` is committed and leadership is
  // handed on (or given up).
  void Lead(PendingAppend* self) ABSL_LOCKS_EXCLUDED(mu_, listeners_mu_);
  // Moves up to max_batch_ records from the front of the queue to `batch`.
  void TakeBatch(std::vector<PendingAppend*>* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `batch` (not empty) and publishes it: status, head, listeners.
  void CommitBatch(const std::vector<PendingAppend*>& batch) ABSL_LOCKS_EXCLUDED(listeners_mu_);

  // The dedup purge thread.
  void PurgeLoop() ABSL_LOCKS_EXCLUDED(purge_mu_);
  bool PurgeStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(purge_mu_) { return purge_stop_; }

  JournalWriter* const writer_;
  const size_t max_batch_;
  const size_t max_pending_;
  const absl::Duration dedup_purge_interval_;
  const size_t dedup_purge_batch_;
  JournalMetrics* const metrics_;

  std::atomic<uint64_t> head_;
  std::atomic<bool> last_commit_ok_{true};
  std::atomic<bool> closed_{false};
  // Commits since the purge thread last looked: with none there is nothing
  // newly expired (the dedup clock moves only with commits).
  std::atomic<uint64_t> commits_{0};

  absl::Mutex close_mu_ ABSL_ACQUIRED_BEFORE(mu_, listeners_mu_);  // serializes joining
  std::thread purge_thread_ ABSL_GUARDED_BY(close_mu_);

  absl::Mutex mu_;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  // A thread is leading a commit, or has been told to and is waking up.
  // Without one the queue is empty.
  bool leader_active_ ABSL_GUARDED_BY(mu_) = false;
  // Records waiting for a leader to take them; the front one leads next.
  std::deque<PendingAppend*> queue_ ABSL_GUARDED_BY(mu_);

  absl::Mutex listeners_mu_;
  std::vector<Journal::AppendListener> listeners_ ABSL_GUARDED_BY(listeners_mu_);

  absl::Mutex purge_mu_;
  bool purge_stop_ ABSL_GUARDED_BY(purge_mu_) = false;
};

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_GROUP_COMMIT_H_
