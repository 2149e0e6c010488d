// The SQLite journal's group commit: a queue of PendingAppends and the
// committer thread that takes every append waiting at that moment (up to
// max_batch) and has the JournalWriter write them in one transaction, so
// one fsync covers many webhooks. An append that finds no commit under way
// and nothing queued commits itself, on its caller's thread: a lone webhook
// then costs no hand-off to the committer thread and back. Between commits,
// and at least every dedup_purge_interval after one, the thread purges
// expired dedup keys. Whoever commits also publishes what was committed:
// the head sequence, the append listeners, Writable().
//
// Contract: Submit returns once the record is committed (inline), queued, or
// refused because the journal is closing; the caller then waits on
// record->done. One commit at a time, whoever runs it. The head is raised and
// every listener called before any caller of that commit is released and
// before the next commit starts. Close finishes everything queued and the
// inline commit under way, then refuses new records.
//
// Threading: thread-safe. Lock order: close_mu_ (held while joining the
// thread, which takes the others) before mu_ and listeners_mu_; mu_ (the
// queue and who commits) is never held with another lock; listeners run
// under a reader lock of listeners_mu_, after the writer's lock was released.
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_GROUP_COMMIT_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_GROUP_COMMIT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bridge/journal/journal.h"
#include "bridge/journal/sqlite/sqlite_journal_writer.h"
#include "bridge/journal/sqlite/sqlite_pending_append.h"
#include "bridge/metrics/metrics.h"

namespace refir::bridge::sqlite {

struct GroupCommitOptions {
  size_t max_batch = 512;     // most records per transaction (>= 1)
  size_t max_pending = 4096;  // most records queued; Submit blocks beyond
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

  // Starts the committer thread. Call once.
  void Start() ABSL_LOCKS_EXCLUDED(close_mu_);

  // Commits `record` on the caller's thread when no commit is under way and
  // nothing is queued (`done` is then notified on return); otherwise queues
  // it for the committer thread, waiting while max_pending records are
  // queued. UNAVAILABLE (journal_unavailable) once closing; the record was
  // then not queued and `done` will not be notified.
  absl::Status Submit(PendingAppend* record) ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t head() const { return head_.load(std::memory_order_acquire); }
  bool writable() const {
    return last_commit_ok_.load(std::memory_order_acquire) && !closed_.load();
  }
  void AddAppendListener(Journal::AppendListener listener) ABSL_LOCKS_EXCLUDED(listeners_mu_);

  // Commits everything queued, stops the thread, refuses further records.
  // Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_, close_mu_);

 private:
  bool HasRoomOrClosing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closing_ || queue_.size() < max_pending_;
  }
  // What the committer thread waits for: something to commit (or Close),
  // and no inline commit under way.
  bool HasWorkOrClosing() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !committing_ && (closing_ || !queue_.empty());
  }
  bool HasWorkOrPurgeDue() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return HasWorkOrClosing() || purge_due_;
  }
  // Ends the commit under way (inline or the thread's); a purge is due.
  void FinishCommit() ABSL_LOCKS_EXCLUDED(mu_);
  // Whether a purge is due, clearing it.
  bool TakePurgeDue() ABSL_LOCKS_EXCLUDED(mu_);
  // Moves up to max_batch_ waiting records into `batch` (which is empty).
  void TakeBatch(std::vector<PendingAppend*>* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // Writes `batch` (not empty), publishes it, releases its callers. Only
  // the one who set committing_ calls it.
  void CommitBatch(absl::Span<PendingAppend* const> batch) ABSL_LOCKS_EXCLUDED(mu_);

  JournalWriter* const writer_;
  const size_t max_batch_;
  const size_t max_pending_;
  const absl::Duration dedup_purge_interval_;
  const size_t dedup_purge_batch_;
  JournalMetrics* const metrics_;

  std::atomic<uint64_t> head_;
  std::atomic<bool> last_commit_ok_{true};
  std::atomic<bool> closed_{false};

  absl::Mutex close_mu_ ABSL_ACQUIRED_BEFORE(mu_, listeners_mu_);  // serializes joining
  std::thread thread_ ABSL_GUARDED_BY(close_mu_);

  absl::Mutex mu_;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool committing_ ABSL_GUARDED_BY(mu_) = false;  // a commit is under way
  // A commit finished since the last purge. Keys expire on the clock of the
  // stored events, so without one (and after a purge that was not full)
  // nothing new has expired.
  bool purge_due_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<PendingAppend*> queue_ ABSL_GUARDED_BY(mu_);

  absl::Mutex listeners_mu_;
  std::vector<Journal::AppendListener> listeners_ ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_GROUP_COMMIT_H_
