// The SQLite journal's group commit (sqlite_group_commit.h) through the Journal
// interface on a real database file: a lone append committed on its caller's
// thread; under many appending threads, distinct durable sequences published
// in order, Close while appends queue, and a failed batch that must release
// every caller in it.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "bridge/common/error_reason.h"
#include "bridge/journal/sqlite/sqlite_journal.h"
#include "gtest/gtest.h"
#include "tests/journal/sqlite_test_util.h"

namespace refir::bridge {
namespace {

using ::refir::bridge::testing::SqliteFileTest;

v1::Event MakeEvent(const std::string& id) {
  v1::Event event;
  event.set_id(id);
  event.set_source("test");
  event.set_type("refir.referral.created");
  event.mutable_received_at()->set_seconds(1'700'000'000);
  event.set_body(absl::StrCat("{\"id\":\"", id, "\"}"));
  return event;
}

absl::StatusOr<AppendResult> AppendById(Journal& journal, const std::string& id) {
  return journal.Append(MakeEvent(id), DedupKey{id});
}

class SqliteGroupCommitTest : public SqliteFileTest {
 protected:
  SqliteGroupCommitTest() : SqliteFileTest("sqlite_group_commit", "journal.db") {}

  std::unique_ptr<Journal> Open(size_t max_batch = 512, size_t max_pending = 4096) {
    SqliteJournalOptions options;
    options.path = path_;
    options.max_batch = max_batch;
    options.max_pending = max_pending;
    absl::StatusOr<std::unique_ptr<Journal>> journal = OpenSqliteJournal(options);
    EXPECT_TRUE(journal.ok()) << journal.status();
    return journal.ok() ? *std::move(journal) : nullptr;
  }
};

// With nobody else appending, the caller commits its own record: the
// listener runs on the caller's thread (no hand-off to the committer thread
// and back), and the event is stored when Append returns.
TEST_F(SqliteGroupCommitTest, LoneAppendCommitsOnTheCallersThread) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  absl::Mutex mu;
  std::vector<std::thread::id> listener_threads;
  journal->AddAppendListener([&](uint64_t) {
    absl::MutexLock lock(&mu);
    listener_threads.push_back(std::this_thread::get_id());
  });
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<AppendResult> appended = AppendById(*journal, absl::StrCat("e", i));
    ASSERT_TRUE(appended.ok()) << appended.status();
    EXPECT_EQ(appended->sequence, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(testing::RawQueryInt64(path_, "SELECT COUNT(*) FROM events"), i + 1);
  }
  absl::MutexLock lock(&mu);
  ASSERT_EQ(listener_threads.size(), 3u);
  for (const std::thread::id& id : listener_threads) EXPECT_EQ(id, std::this_thread::get_id());
}

// Many threads, batches of at most 3 (so many small commits): every append
// gets its own sequence, each thread's sequences increase, the event is
// readable the moment Append returns, and its listener call came first. The
// listener is never run by two commits at once and sees increasing heads.
TEST_F(SqliteGroupCommitTest, ConcurrentAppendsAreDistinctDurableAndPublishedInOrder) {
  constexpr int kThreads = 12;
  constexpr int kPerThread = 150;
  std::unique_ptr<Journal> journal = Open(/*max_batch=*/3);
  ASSERT_NE(journal, nullptr);
  std::atomic<int> in_listener{0};
  std::atomic<int> overlaps{0};
  std::atomic<uint64_t> last_head{0};
  std::atomic<int> decreases{0};
  journal->AddAppendListener([&](uint64_t head) {
    if (in_listener.fetch_add(1) != 0) overlaps.fetch_add(1);
    if (head <= last_head.load()) decreases.fetch_add(1);
    last_head.store(head);
    in_listener.fetch_sub(1);
  });
  std::vector<std::vector<uint64_t>> sequences(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = absl::StrCat("t", t, "-", i);
        absl::StatusOr<AppendResult> result = AppendById(*journal, id);
        ASSERT_TRUE(result.ok()) << result.status();
        ASSERT_FALSE(result->duplicate);
        // Published before the caller was released.
        EXPECT_GE(last_head.load(), result->sequence);
        EXPECT_GE(journal->HeadSequence(), result->sequence);
        // Durable and visible to a fresh reader right now.
        absl::StatusOr<v1::Event> stored = journal->GetBySequence(result->sequence);
        ASSERT_TRUE(stored.ok()) << id << ": " << stored.status();
        EXPECT_EQ(stored->id(), id);
        sequences[t].push_back(result->sequence);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::map<uint64_t, int> owner;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(sequences[t].size(), static_cast<size_t>(kPerThread));
    for (size_t i = 0; i < sequences[t].size(); ++i) {
      if (i > 0) {
        EXPECT_LT(sequences[t][i - 1], sequences[t][i]) << "thread " << t;
      }
      EXPECT_TRUE(owner.emplace(sequences[t][i], t).second) << sequences[t][i] << " given twice";
    }
  }
  constexpr uint64_t kTotal = kThreads * kPerThread;
  ASSERT_EQ(owner.size(), kTotal);
  EXPECT_EQ(owner.begin()->first, 1u);
  EXPECT_EQ(owner.rbegin()->first, kTotal);
  EXPECT_EQ(journal->HeadSequence(), kTotal);
  EXPECT_EQ(last_head.load(), kTotal);
  EXPECT_EQ(overlaps.load(), 0) << "two commits ran the listeners at once";
  EXPECT_EQ(decreases.load(), 0) << "a listener saw the head go back or stand still";
}

// A commit is held inside the listener while other appends queue behind it
// (max_pending 4, so some wait for room), then the journal is closed. Each
// append returns exactly once, either committed (and stored) or refused as
// journal_unavailable (and not stored); Close returns only after every
// record queued before it is committed.
TEST_F(SqliteGroupCommitTest, CloseWhileWritersWaitFinishesOrRefusesEachOnce) {
  constexpr int kWaiters = 10;
  std::unique_ptr<Journal> journal = Open(/*max_batch=*/2, /*max_pending=*/4);
  ASSERT_NE(journal, nullptr);
  absl::Notification in_listener;
  absl::Notification release;
  std::atomic<bool> first_call{true};
  journal->AddAppendListener([&](uint64_t) {
    if (first_call.exchange(false)) {
      in_listener.Notify();
      release.WaitForNotification();
    }
  });
  absl::StatusOr<AppendResult> first = absl::UnknownError("not run");
  std::thread held([&] { first = AppendById(*journal, "first"); });
  in_listener.WaitForNotification();

  std::vector<absl::StatusOr<AppendResult>> results(kWaiters, absl::UnknownError("not run"));
  std::atomic<int> returned{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&, i] {
      results[i] = AppendById(*journal, absl::StrCat("w", i));
      returned.fetch_add(1);
    });
  }
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    journal->Close();
    closed.store(true);
  });
  // Close cannot finish while the first commit is still being published.
  EXPECT_FALSE(closed.load());
  release.Notify();
  closer.join();
  // Every record queued before Close is committed by now; some waiters
  // may still be returning.
  held.join();
  for (std::thread& waiter : waiters) waiter.join();
  EXPECT_EQ(returned.load(), kWaiters);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->sequence, 1u);
  journal.reset();

  journal = Open();
  ASSERT_NE(journal, nullptr);
  int committed = 1;
  for (int i = 0; i < kWaiters; ++i) {
    const std::string id = absl::StrCat("w", i);
    absl::StatusOr<v1::Event> stored = journal->GetById(id);
    if (results[i].ok()) {
      ++committed;
      ASSERT_TRUE(stored.ok()) << id << ": " << stored.status();
      EXPECT_EQ(stored->sequence(), results[i]->sequence);
    } else {
      EXPECT_EQ(results[i].status().code(), absl::StatusCode::kUnavailable) << results[i].status();
      EXPECT_EQ(ReasonOf(results[i].status()), "journal_unavailable");
      EXPECT_EQ(stored.status().code(), absl::StatusCode::kNotFound) << id;
    }
  }
  EXPECT_EQ(journal->HeadSequence(), static_cast<uint64_t>(committed));
}

// One record makes its batch fail: every caller of that batch gets
// journal_unavailable, and later appends (from every thread) commit.
TEST_F(SqliteGroupCommitTest, FailedBatchReleasesEveryCallerAndLaterAppendsCommit) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  testing::RawExec(path_,
                   "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.id = 'poison' "
                   "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
  absl::Notification in_listener;
  absl::Notification release;
  std::atomic<bool> first_call{true};
  journal->AddAppendListener([&](uint64_t) {
    if (first_call.exchange(false)) {
      in_listener.Notify();
      release.WaitForNotification();
    }
  });
  std::thread held([&] { ASSERT_TRUE(AppendById(*journal, "first").ok()); });
  in_listener.WaitForNotification();
  constexpr int kThreads = 6;
  std::vector<absl::StatusOr<AppendResult>> results(kThreads, absl::UnknownError("not run"));
  std::vector<absl::StatusOr<AppendResult>> later(kThreads, absl::UnknownError("not run"));
  absl::Mutex mu;
  int first_done = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i] = AppendById(*journal, i == 0 ? "poison" : absl::StrCat("w", i));
      // The later appends start once every first one returned, so none
      // of them can share a batch with the poison.
      {
        absl::MutexLock lock(&mu);
        ++first_done;
        mu.Await(absl::Condition(
            +[](int* done) { return *done == kThreads; }, &first_done));
      }
      later[i] = AppendById(*journal, absl::StrCat("later", i));
    });
  }
  release.Notify();
  held.join();
  for (std::thread& thread : threads) thread.join();
  ASSERT_FALSE(results[0].ok());
  EXPECT_EQ(ReasonOf(results[0].status()), "journal_unavailable");
  for (int i = 0; i < kThreads; ++i) {
    const std::string id = i == 0 ? "poison" : absl::StrCat("w", i);
    // Committed with the poison or not: stored exactly when reported so.
    EXPECT_EQ(journal->GetById(id).ok(), results[i].ok()) << id;
    ASSERT_TRUE(later[i].ok()) << later[i].status();
    EXPECT_TRUE(journal->GetById(absl::StrCat("later", i)).ok());
  }
  EXPECT_TRUE(journal->Writable());
}

}  // namespace
}  // namespace refir::bridge
