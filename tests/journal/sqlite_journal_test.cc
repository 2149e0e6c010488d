#include "bridge/journal/sqlite/sqlite_journal.h"

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/journal/sqlite_test_util.h"

namespace refir::bridge {
namespace {

using ::refir::bridge::testing::EqualsProto;
using ::refir::bridge::testing::RawExec;
using ::refir::bridge::testing::SqliteFileTest;
using ::testing::HasSubstr;

constexpr int64_t kBaseSeconds = 1'700'000'000;

// A fully populated event; the body has a NUL and non-UTF-8 bytes.
v1::Event MakeEvent(const std::string& id, int64_t seconds = kBaseSeconds,
                    const std::string& type = "refir.referral.created") {
  v1::Event event;
  event.set_id(id);
  event.set_source("refir");
  event.set_type(type);
  event.mutable_received_at()->set_seconds(seconds);
  event.mutable_received_at()->set_nanos(123'456'789);
  v1::RefirPayload* refir = event.mutable_refir();
  refir->set_event_type("referral");
  refir->mutable_lead()->set_id("42");
  refir->mutable_lead()->set_email("lead@example.com");
  refir->mutable_lead()->set_name("Ada Lovelace");
  refir->mutable_referrer()->set_id("7");
  refir->mutable_referrer()->set_referral_code("ABC");
  refir->set_message("Ada joined via Bob");
  refir->mutable_campaign()->set_id("c1");
  refir->mutable_campaign()->set_name("Spring");
  event.set_body(absl::StrCat("{\"id\":\"", id, "\"}", std::string("\0\xff\xfe", 3)));
  event.set_content_type("application/json");
  (*event.mutable_headers())["user-agent"] = "Refir/1.0";
  (*event.mutable_headers())["webhook-id"] = id;
  event.set_remote_addr("10.0.0.1:5555");
  return event;
}

// Appends with the event id as the dedup key, the way the edge keys by
// webhook-id (10 minute window; MakeEvent's events share one received_at).
absl::StatusOr<AppendResult> AppendById(Journal& journal, v1::Event event) {
  DedupKey key{event.id()};
  return journal.Append(std::move(event), std::move(key));
}

v1::Event WithSequence(v1::Event event, uint64_t sequence) {
  event.set_sequence(sequence);
  return event;
}

// One stored event as VisitStored handed it over, copied out of the call.
struct VisitedEvent {
  uint64_t sequence;
  std::string type;
  std::string bytes;

  bool operator==(const VisitedEvent& other) const {
    return sequence == other.sequence && type == other.type && bytes == other.bytes;
  }
  friend void PrintTo(const VisitedEvent& event, std::ostream* out) {
    *out << "{" << event.sequence << ", " << event.type << ", " << event.bytes.size()
         << " bytes: " << ::testing::PrintToString(event.bytes) << "}";
  }
};

// VisitStored(from, max_events), the visitor stopping after `stop_after`.
std::vector<VisitedEvent> VisitAll(Journal& journal, uint64_t from, size_t max_events = 100,
                                   size_t stop_after = SIZE_MAX) {
  std::vector<VisitedEvent> seen;
  absl::Status status = journal.VisitStored(from, max_events, [&](const StoredEventView& event) {
    if (seen.size() == stop_after) return false;
    seen.push_back({event.sequence, std::string(event.type), std::string(event.bytes)});
    return true;
  });
  EXPECT_TRUE(status.ok()) << status;
  return seen;
}

std::vector<uint64_t> SequencesOf(const std::vector<VisitedEvent>& events) {
  std::vector<uint64_t> sequences;
  for (const VisitedEvent& event : events) sequences.push_back(event.sequence);
  return sequences;
}

class SqliteJournalTest : public SqliteFileTest {
 protected:
  SqliteJournalTest() : SqliteFileTest("sqlite_journal", "journal.db") {}

  SqliteJournalOptions Options() const {
    SqliteJournalOptions options;
    options.path = path_;
    return options;
  }

  std::unique_ptr<Journal> Open() {
    absl::StatusOr<std::unique_ptr<Journal>> journal = OpenSqliteJournal(Options());
    EXPECT_TRUE(journal.ok()) << journal.status();
    return journal.ok() ? *std::move(journal) : nullptr;
  }
};

TEST_F(SqliteJournalTest, AppendThenReadBackIdentical) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->HeadSequence(), 0u);
  std::vector<v1::Event> sent = {MakeEvent("a"), MakeEvent("b"), MakeEvent("c")};
  for (size_t i = 0; i < sent.size(); ++i) {
    v1::Event event = sent[i];
    event.set_sequence(999);  // ignored
    absl::StatusOr<AppendResult> result = AppendById(*journal, event);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->sequence, i + 1);
    EXPECT_EQ(result->id, sent[i].id());
    EXPECT_FALSE(result->duplicate);
  }
  EXPECT_EQ(journal->HeadSequence(), 3u);

  absl::StatusOr<std::vector<v1::Event>> read = journal->Read(1, 100, 1 << 20);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_THAT((*read)[i], EqualsProto(WithSequence(sent[i], i + 1)));
    EXPECT_EQ((*read)[i].body(), sent[i].body());  // byte-exact, NUL included
  }
  absl::StatusOr<v1::Event> second = journal->GetBySequence(2);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_THAT(*second, EqualsProto(WithSequence(sent[1], 2)));
}

TEST_F(SqliteJournalTest, DuplicateIdReturnsOriginalSequenceAndStoresOnce) {
  {
    std::unique_ptr<Journal> journal = Open();
    ASSERT_NE(journal, nullptr);
    ASSERT_EQ(AppendById(*journal, MakeEvent("a")).value().sequence, 1u);
    ASSERT_EQ(AppendById(*journal, MakeEvent("b")).value().sequence, 2u);
    v1::Event again = MakeEvent("a");
    again.set_body("a different body");
    absl::StatusOr<AppendResult> dup = AppendById(*journal, again);
    ASSERT_TRUE(dup.ok()) << dup.status();
    EXPECT_EQ(dup->sequence, 1u);
    EXPECT_TRUE(dup->duplicate);
    EXPECT_EQ(dup->id, "a");
    EXPECT_EQ(journal->HeadSequence(), 2u);
    absl::StatusOr<std::vector<v1::Event>> read = journal->Read(1, 100, 1 << 20);
    ASSERT_TRUE(read.ok());
    ASSERT_EQ(read->size(), 2u);
    EXPECT_EQ((*read)[0].body(), MakeEvent("a").body());
  }
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  absl::StatusOr<AppendResult> dup = AppendById(*journal, MakeEvent("a"));
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_EQ(dup->sequence, 1u);
  EXPECT_TRUE(dup->duplicate);
  absl::StatusOr<AppendResult> fresh = AppendById(*journal, MakeEvent("c"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->sequence, 3u);
  EXPECT_FALSE(fresh->duplicate);
  EXPECT_EQ(journal->Read(1, 100, 1 << 20).value().size(), 3u);
}

DedupKey Key(std::string key, absl::Duration window = absl::Minutes(10)) {
  return DedupKey{std::move(key), window};
}

TEST_F(SqliteJournalTest, SameKeyWithinWindowIsDuplicateOfTheOriginal) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  absl::StatusOr<AppendResult> first = journal->Append(MakeEvent("x", kBaseSeconds), Key("k"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->duplicate);
  // Another id, 9 minutes later: still within the 10-minute window.
  absl::StatusOr<AppendResult> again =
      journal->Append(MakeEvent("y", kBaseSeconds + 9 * 60), Key("k"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, first->sequence);
  EXPECT_EQ(again->id, "x");
  EXPECT_EQ(journal->HeadSequence(), 1u);
  EXPECT_EQ(journal->GetById("y").status().code(), absl::StatusCode::kNotFound);
  // Another key is no duplicate.
  absl::StatusOr<AppendResult> other = journal->Append(MakeEvent("z"), Key("other"));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->duplicate);
  EXPECT_EQ(other->sequence, 2u);
}

TEST_F(SqliteJournalTest, AfterTheWindowStoredAgainUnderAFreshId) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  ASSERT_EQ(journal->Append(MakeEvent("x", kBaseSeconds), Key("k", absl::Minutes(1)))->sequence,
            1u);
  // Exactly one window later the key no longer matches.
  absl::StatusOr<AppendResult> later =
      journal->Append(MakeEvent("x", kBaseSeconds + 60), Key("k", absl::Minutes(1)));
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_FALSE(later->duplicate);
  EXPECT_EQ(later->sequence, 2u);
  EXPECT_NE(later->id, "x");
  EXPECT_EQ(later->id.size(), 36u) << later->id;  // a UUIDv7
  absl::StatusOr<v1::Event> stored = journal->GetById(later->id);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->sequence(), 2u);
  EXPECT_EQ(stored->headers().at("webhook-id"), "x");  // the sender's id is kept
  EXPECT_EQ(stored->body(), MakeEvent("x").body());
  EXPECT_EQ(journal->GetById("x")->sequence(), 1u);
  // A resend now is a duplicate of the second, under its fresh id.
  absl::StatusOr<AppendResult> dup =
      journal->Append(MakeEvent("x", kBaseSeconds + 70), Key("k", absl::Minutes(1)));
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->sequence, 2u);
  EXPECT_EQ(dup->id, later->id);
}

TEST_F(SqliteJournalTest, TakenIdWithoutMatchingKeyGetsAFreshId) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(journal->Append(MakeEvent("x"), Key("k1")).ok());
  absl::StatusOr<AppendResult> other_key = journal->Append(MakeEvent("x"), Key("k2"));
  absl::StatusOr<AppendResult> no_key = journal->Append(MakeEvent("x"), DedupKey{});
  ASSERT_TRUE(other_key.ok()) << other_key.status();
  ASSERT_TRUE(no_key.ok()) << no_key.status();
  EXPECT_FALSE(other_key->duplicate);
  EXPECT_FALSE(no_key->duplicate);
  EXPECT_EQ(other_key->sequence, 2u);
  EXPECT_EQ(no_key->sequence, 3u);
  std::set<std::string> ids = {"x", other_key->id, no_key->id};
  EXPECT_EQ(ids.size(), 3u);
  for (const std::string& id : ids) EXPECT_TRUE(journal->GetById(id).ok()) << id;
}

TEST_F(SqliteJournalTest, DedupSurvivesReopen) {
  {
    std::unique_ptr<Journal> journal = Open();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(journal->Append(MakeEvent("x"), Key("k")).ok());
    ASSERT_TRUE(journal->Append(MakeEvent("y"), Key("k2")).ok());
  }
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  absl::StatusOr<AppendResult> dup = journal->Append(MakeEvent("x2", kBaseSeconds + 1), Key("k"));
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->sequence, 1u);
  EXPECT_EQ(dup->id, "x");
}

// The committer is held inside the listener of a first commit while two
// appends of one key queue up, so that (all but certainly) both land in the
// next group commit: the second must see the first's key.
TEST_F(SqliteJournalTest, SameKeyTwiceInOneGroupCommit) {
  std::unique_ptr<Journal> journal = Open();
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
  std::thread warm([&] { ASSERT_TRUE(journal->Append(MakeEvent("warm"), DedupKey{}).ok()); });
  in_listener.WaitForNotification();
  std::atomic<int> entered{0};
  std::vector<absl::StatusOr<AppendResult>> results(2, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      entered.fetch_add(1);
      results[i] = journal->Append(MakeEvent(absl::StrCat("same-", i)), Key("k"));
    });
  }
  while (entered.load() < 2) std::this_thread::yield();
  release.Notify();
  warm.join();
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  EXPECT_NE(results[0]->duplicate, results[1]->duplicate);
  EXPECT_EQ(results[0]->sequence, results[1]->sequence);
  EXPECT_EQ(results[0]->id, results[1]->id);
  EXPECT_EQ(journal->HeadSequence(), 2u);
}

TEST_F(SqliteJournalTest, ExpiredKeysArePurgedInSmallBatches) {
  SqliteJournalOptions options = Options();
  options.dedup_purge_interval = absl::ZeroDuration();
  options.dedup_purge_batch = 2;
  absl::StatusOr<std::unique_ptr<Journal>> opened = OpenSqliteJournal(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Journal& journal = **opened;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        journal
            .Append(MakeEvent(absl::StrCat("old-", i)), Key(absl::StrCat("k", i), absl::Minutes(1)))
            .ok());
  }
  // Still within their window: nothing is purged.
  ASSERT_TRUE(journal.Append(MakeEvent("mid", kBaseSeconds + 30), Key("mid")).ok());
  EXPECT_EQ(testing::RawQueryInt64(path_, "SELECT COUNT(*) FROM dedup"), 6);
  // Two minutes later the first five have expired; "mid" (10 minutes) and
  // "new" have not. The purge runs in batches of two until done.
  ASSERT_TRUE(journal.Append(MakeEvent("new", kBaseSeconds + 120), Key("new")).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (testing::RawQueryInt64(path_, "SELECT COUNT(*) FROM dedup") != 2 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(testing::RawQueryInt64(path_, "SELECT COUNT(*) FROM dedup"), 2);
  EXPECT_EQ(testing::RawQueryInt64(path_, "SELECT COUNT(*) FROM dedup WHERE key IN ('mid', 'new')"),
            2);
  EXPECT_EQ(journal.HeadSequence(), 7u) << "purging keys deletes no events";
}

TEST_F(SqliteJournalTest, NewFilesUseIncrementalAutoVacuum) {
  ASSERT_NE(Open(), nullptr);
  EXPECT_EQ(testing::RawQueryInt64(path_, "PRAGMA auto_vacuum"), 2);
  EXPECT_EQ(testing::RawQueryInt64(path_, "PRAGMA user_version"), 2);
}

TEST_F(SqliteJournalTest, VersionOneFileIsUpgraded) {
  RawExec(path_,
          "CREATE TABLE events (sequence INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL "
          "UNIQUE, received_at_us INTEGER NOT NULL, type TEXT NOT NULL, event BLOB NOT NULL);"
          "PRAGMA user_version = 1;");
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(testing::RawQueryInt64(path_, "PRAGMA user_version"), 2);
  ASSERT_TRUE(journal->Append(MakeEvent("x"), Key("k")).ok());
  EXPECT_TRUE(journal->Append(MakeEvent("x"), Key("k"))->duplicate);
}

TEST_F(SqliteJournalTest, DeleteOldestByAgeStopsAtTheFloorAndInBatches) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(AppendById(*journal, MakeEvent(absl::StrCat("e", i), kBaseSeconds + i)).ok());
  }
  DeleteRequest request;
  request.below_sequence = 100;
  // Events 1..5 were received before base + 5 s (each at +i s + 0.123 s).
  request.received_before = absl::FromUnixSeconds(kBaseSeconds + 5);
  request.max_events = 3;
  absl::StatusOr<DeleteResult> first = journal->DeleteOldest(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->deleted, 3u);
  EXPECT_EQ(first->first_sequence, 1u);
  EXPECT_EQ(first->last_sequence, 3u);
  absl::StatusOr<DeleteResult> second = journal->DeleteOldest(request);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->deleted, 2u);
  EXPECT_EQ(second->first_sequence, 4u);
  EXPECT_EQ(second->last_sequence, 5u);
  EXPECT_EQ(journal->DeleteOldest(request)->deleted, 0u);

  EXPECT_EQ(journal->FirstSequence().value(), 6u);
  EXPECT_EQ(journal->GetBySequence(5).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(journal->GetById("e0").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<v1::Event>> read = journal->Read(1, 100, 1 << 20);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 5u);
  EXPECT_EQ((*read)[0].sequence(), 6u);
  // The events were also in memory (RecentEvents): deleted ones are gone there too.
  EXPECT_EQ(SequencesOf(VisitAll(*journal, 1)), (std::vector<uint64_t>{6, 7, 8, 9, 10}));
  EXPECT_EQ(SequencesOf(VisitAll(*journal, 4)), (std::vector<uint64_t>{6, 7, 8, 9, 10}));
  EXPECT_EQ(SequencesOf(VisitAll(*journal, 8)), (std::vector<uint64_t>{8, 9, 10}));

  // Any age, but nothing at or above the floor (7).
  request.received_before = absl::InfiniteFuture();
  request.below_sequence = 7;
  request.max_events = 100;
  absl::StatusOr<DeleteResult> floored = journal->DeleteOldest(request);
  ASSERT_TRUE(floored.ok()) << floored.status();
  EXPECT_EQ(floored->deleted, 1u);
  EXPECT_EQ(floored->last_sequence, 6u);
  EXPECT_EQ(journal->FirstSequence().value(), 7u);
  EXPECT_EQ(SequencesOf(VisitAll(*journal, 6)), (std::vector<uint64_t>{7, 8, 9, 10}));
  // Sequences go on; nothing is reused.
  EXPECT_EQ(journal->HeadSequence(), 10u);
  EXPECT_EQ(AppendById(*journal, MakeEvent("after")).value().sequence, 11u);
  EXPECT_EQ(SequencesOf(VisitAll(*journal, 1)), (std::vector<uint64_t>{7, 8, 9, 10, 11}));
}

TEST_F(SqliteJournalTest, DeletingReclaimsSpace) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  for (int i = 0; i < 400; ++i) {
    v1::Event event = MakeEvent(absl::StrCat("big-", i));
    event.set_body(std::string(10'000, 'x'));
    ASSERT_TRUE(journal->Append(std::move(event), DedupKey{}).ok());
  }
  const uint64_t bytes_before = journal->StoredBytes().value();
  const int64_t pages_before = testing::RawQueryInt64(path_, "PRAGMA page_count");
  EXPECT_GT(bytes_before, 400u * 10'000u);
  DeleteRequest request;
  request.below_sequence = 381;
  request.max_events = 100;
  uint64_t deleted = 0;
  for (;;) {
    absl::StatusOr<DeleteResult> result = journal->DeleteOldest(request);
    ASSERT_TRUE(result.ok()) << result.status();
    if (result->deleted == 0) break;
    deleted += result->deleted;
  }
  EXPECT_EQ(deleted, 380u);
  const uint64_t bytes_after = journal->StoredBytes().value();
  EXPECT_LT(bytes_after, bytes_before / 5);
  // The pages went back to the file system, not only to the free list.
  EXPECT_LT(testing::RawQueryInt64(path_, "PRAGMA page_count"), pages_before / 5);
  EXPECT_LT(testing::RawQueryInt64(path_, "PRAGMA freelist_count"), 16);
  EXPECT_EQ(journal->Read(1, 1000, 1 << 30).value().size(), 20u);
}

TEST_F(SqliteJournalTest, ManyThreadsGetDistinctReadableSequences) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 500;
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  std::vector<std::vector<std::pair<std::string, absl::StatusOr<AppendResult>>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = absl::StrCat("t", t, "-", i);
        results[t].emplace_back(id, AppendById(*journal, MakeEvent(id)));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::map<uint64_t, std::string> by_sequence;
  for (const auto& per_thread : results) {
    for (const auto& [id, result] : per_thread) {
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_FALSE(result->duplicate);
      EXPECT_TRUE(by_sequence.emplace(result->sequence, id).second)
          << "sequence " << result->sequence << " given twice";
    }
  }
  constexpr uint64_t kTotal = kThreads * kPerThread;
  ASSERT_EQ(by_sequence.size(), kTotal);
  EXPECT_EQ(by_sequence.begin()->first, 1u);
  EXPECT_EQ(by_sequence.rbegin()->first, kTotal);
  EXPECT_EQ(journal->HeadSequence(), kTotal);

  uint64_t next = 1;
  size_t seen = 0;
  while (next <= kTotal) {
    absl::StatusOr<std::vector<v1::Event>> page = journal->Read(next, 700, 1 << 20);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_FALSE(page->empty());
    for (const v1::Event& event : *page) {
      ASSERT_EQ(event.sequence(), next);
      EXPECT_EQ(event.id(), by_sequence[next]);
      EXPECT_EQ(event.body(), MakeEvent(event.id()).body());
      ++next;
      ++seen;
    }
  }
  EXPECT_EQ(seen, kTotal);
}

TEST_F(SqliteJournalTest, ConcurrentDuplicatesStoredOnceWithOneSequence) {
  constexpr int kThreads = 8;
  constexpr int kIds = 100;
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  std::vector<std::vector<AppendResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIds; ++i) {
        absl::StatusOr<AppendResult> result =
            AppendById(*journal, MakeEvent(absl::StrCat("id-", i)));
        if (result.ok()) results[t].push_back(*result);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::map<std::string, uint64_t> sequence_of;
  std::map<std::string, int> fresh_count;
  for (const auto& per_thread : results) {
    ASSERT_EQ(per_thread.size(), static_cast<size_t>(kIds));
    for (const AppendResult& result : per_thread) {
      auto [it, inserted] = sequence_of.emplace(result.id, result.sequence);
      EXPECT_EQ(it->second, result.sequence) << result.id;
      if (!result.duplicate) ++fresh_count[result.id];
    }
  }
  ASSERT_EQ(sequence_of.size(), static_cast<size_t>(kIds));
  for (const auto& [id, count] : fresh_count) EXPECT_EQ(count, 1) << id;
  EXPECT_EQ(fresh_count.size(), static_cast<size_t>(kIds));
  EXPECT_EQ(journal->HeadSequence(), static_cast<uint64_t>(kIds));
  EXPECT_EQ(journal->Read(1, 1000, 1 << 20).value().size(), static_cast<size_t>(kIds));
}

TEST_F(SqliteJournalTest, ReopenKeepsEverythingAndContinuesSequences) {
  {
    std::unique_ptr<Journal> journal = Open();
    ASSERT_NE(journal, nullptr);
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(AppendById(*journal, MakeEvent(absl::StrCat("e", i))).ok());
    journal->Close();
  }
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->HeadSequence(), 5u);
  absl::StatusOr<std::vector<v1::Event>> read = journal->Read(1, 100, 1 << 20);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT((*read)[i], EqualsProto(WithSequence(MakeEvent(absl::StrCat("e", i)), i + 1)));
  }
  EXPECT_EQ(AppendById(*journal, MakeEvent("e5")).value().sequence, 6u);
}

TEST_F(SqliteJournalTest, SequencesNotReusedAfterAllRowsDeleted) {
  {
    std::unique_ptr<Journal> journal = Open();
    ASSERT_NE(journal, nullptr);
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(AppendById(*journal, MakeEvent(absl::StrCat("e", i))).ok());
  }
  RawExec(path_, "DELETE FROM events");
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->HeadSequence(), 3u);
  EXPECT_EQ(journal->FirstSequence().value(), 4u);
  EXPECT_EQ(AppendById(*journal, MakeEvent("new")).value().sequence, 4u);
  EXPECT_EQ(journal->FirstSequence().value(), 4u);
}

TEST_F(SqliteJournalTest, ReadHonoursFromMaxEventsAndMaxBytes) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(AppendById(*journal, MakeEvent(absl::StrCat("e-", i))).ok());
  }
  // Every stored blob has the same size (ids of equal length).
  const size_t blob = MakeEvent("e-0").ByteSizeLong();

  auto sequences = [&](uint64_t from, size_t max_events, size_t max_bytes) {
    std::vector<uint64_t> out;
    absl::StatusOr<std::vector<v1::Event>> read = journal->Read(from, max_events, max_bytes);
    EXPECT_TRUE(read.ok()) << read.status();
    if (read.ok()) {
      for (const v1::Event& event : *read) out.push_back(event.sequence());
    }
    return out;
  };
  using V = std::vector<uint64_t>;
  EXPECT_EQ(sequences(1, 3, 1 << 20), (V{1, 2, 3}));
  EXPECT_EQ(sequences(8, 100, 1 << 20), (V{8, 9, 10}));
  EXPECT_EQ(sequences(0, 2, 1 << 20), (V{1, 2}));
  EXPECT_EQ(sequences(11, 100, 1 << 20), V{});
  EXPECT_EQ(sequences(1, 0, 1 << 20), V{});
  EXPECT_EQ(sequences(4, 100, 2 * blob + blob / 2), (V{4, 5}));
  EXPECT_EQ(sequences(4, 100, 2 * blob), (V{4, 5}));
  EXPECT_EQ(sequences(4, 100, 1), (V{4}));  // at least one
  EXPECT_EQ(sequences(UINT64_MAX, 100, 1 << 20), V{});
}

TEST_F(SqliteJournalTest, VisitStoredHandsOverTheStoredBytesInOrder) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  std::vector<v1::Event> sent;
  for (int i = 0; i < 5; ++i) {
    sent.push_back(MakeEvent(absl::StrCat("v-", i), kBaseSeconds, i % 2 ? "odd" : "even"));
    ASSERT_TRUE(AppendById(*journal, sent.back()).ok());
  }
  std::vector<VisitedEvent> all = VisitAll(*journal, 1);
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence, i + 1);
    EXPECT_EQ(all[i].type, sent[i].type());
    v1::Event parsed;
    ASSERT_TRUE(parsed.ParseFromString(all[i].bytes));
    EXPECT_EQ(parsed.sequence(), 0u) << "stored without its sequence";
    EXPECT_THAT(parsed, EqualsProto(sent[i]));
  }
  EXPECT_EQ(VisitAll(*journal, 4).size(), 2u);
  EXPECT_EQ(VisitAll(*journal, 2, 2).size(), 2u);
  EXPECT_EQ(VisitAll(*journal, 1, 100, 3).size(), 3u) << "the visitor stops the read";
  EXPECT_TRUE(VisitAll(*journal, 6).empty());
  EXPECT_TRUE(VisitAll(*journal, UINT64_MAX).empty());
}

// The events just appended are read from memory (RecentEvents); after a
// reopen, or with the cache off or too small to hold them, from the file:
// every way gives the same events, bytes and order.
TEST_F(SqliteJournalTest, VisitStoredIsTheSameFromMemoryAndFromTheFile) {
  std::vector<VisitedEvent> from_memory;
  {
    std::unique_ptr<Journal> journal = Open();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(AppendById(*journal, MakeEvent("m-0")).ok());
    // A duplicate stores nothing and must not show up in the cache.
    ASSERT_TRUE(AppendById(*journal, MakeEvent("m-0")).value().duplicate);
    for (int i = 1; i < 6; ++i) {
      ASSERT_TRUE(AppendById(*journal, MakeEvent(absl::StrCat("m-", i))).ok());
    }
    from_memory = VisitAll(*journal, 1);
    EXPECT_EQ(VisitAll(*journal, 3),
              std::vector<VisitedEvent>(from_memory.begin() + 2, from_memory.end()));
  }
  EXPECT_EQ(SequencesOf(from_memory), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
  {
    std::unique_ptr<Journal> journal = Open();
    ASSERT_NE(journal, nullptr);
    EXPECT_EQ(VisitAll(*journal, 1), from_memory) << "reopened: read from the file";
  }
  for (size_t cache_bytes : {size_t{0}, size_t{1}, size_t{2000}}) {
    SCOPED_TRACE(absl::StrCat("recent_events_bytes=", cache_bytes));
    SqliteJournalOptions options = Options();
    options.recent_events_bytes = cache_bytes;
    std::vector<VisitedEvent> live;
    {
      absl::StatusOr<std::unique_ptr<Journal>> journal = OpenSqliteJournal(options);
      ASSERT_TRUE(journal.ok()) << journal.status();
      std::vector<v1::Event> sent;
      for (int i = 0; i < 4; ++i) {
        sent.push_back(MakeEvent(absl::StrCat("c", cache_bytes, "-", i)));
        ASSERT_TRUE(AppendById(**journal, sent.back()).ok());
      }
      live = VisitAll(**journal, 1);
      ASSERT_EQ(live.size(), from_memory.size() + sent.size());
      EXPECT_EQ(std::vector<VisitedEvent>(live.begin(), live.begin() + from_memory.size()),
                from_memory);
      for (size_t i = 0; i < sent.size(); ++i) {
        const VisitedEvent& visited = live[from_memory.size() + i];
        EXPECT_EQ(visited.sequence, from_memory.size() + i + 1);
        v1::Event parsed;
        ASSERT_TRUE(parsed.ParseFromString(visited.bytes));
        EXPECT_THAT(parsed, EqualsProto(sent[i]));
      }
      const std::vector<VisitedEvent> tail(live.end() - 2, live.end());
      EXPECT_EQ(VisitAll(**journal, tail.front().sequence), tail);
    }
    std::unique_ptr<Journal> reopened = Open();
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(VisitAll(*reopened, 1), live) << "the file has the bytes memory had";
    from_memory = live;
  }
}

TEST_F(SqliteJournalTest, VisitStoredReportsAMalformedRowAsDataLoss) {
  {
    std::unique_ptr<Journal> journal = Open();
    ASSERT_NE(journal, nullptr);
    ASSERT_TRUE(AppendById(*journal, MakeEvent("ok")).ok());
    ASSERT_TRUE(AppendById(*journal, MakeEvent("bad")).ok());
    journal->Close();
  }
  // A truncated record: a length-delimited field that runs past the end.
  RawExec(path_, "UPDATE events SET event = X'0A05616263' WHERE sequence = 2");
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  std::vector<uint64_t> seen;
  absl::Status status = journal->VisitStored(1, 100, [&](const StoredEventView& event) {
    seen.push_back(event.sequence);
    return true;
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_EQ(seen, std::vector<uint64_t>{1});
}

TEST_F(SqliteJournalTest, GetByIdAndBySequence) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(AppendById(*journal, MakeEvent("first")).ok());
  ASSERT_TRUE(AppendById(*journal, MakeEvent("second")).ok());

  absl::StatusOr<v1::Event> by_id = journal->GetById("second");
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_THAT(*by_id, EqualsProto(WithSequence(MakeEvent("second"), 2)));
  absl::StatusOr<v1::Event> by_sequence = journal->GetBySequence(1);
  ASSERT_TRUE(by_sequence.ok()) << by_sequence.status();
  EXPECT_THAT(*by_sequence, EqualsProto(WithSequence(MakeEvent("first"), 1)));

  absl::StatusOr<v1::Event> missing_id = journal->GetById("nope");
  EXPECT_EQ(missing_id.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing_id.status().message(), HasSubstr("nope"));
  absl::StatusOr<v1::Event> missing_sequence = journal->GetBySequence(3);
  EXPECT_EQ(missing_sequence.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing_sequence.status().message(), HasSubstr("3"));
  EXPECT_EQ(journal->GetBySequence(0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(journal->GetBySequence(UINT64_MAX).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteJournalTest, FirstSequenceAndFirstSequenceAtOrAfter) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(journal->FirstSequence().value(), 1u);
  EXPECT_EQ(journal->FirstSequenceAtOrAfter(absl::UnixEpoch()).value(), 1u);
  ASSERT_TRUE(AppendById(*journal, MakeEvent("t0", kBaseSeconds)).ok());
  ASSERT_TRUE(AppendById(*journal, MakeEvent("t10", kBaseSeconds + 10)).ok());
  ASSERT_TRUE(AppendById(*journal, MakeEvent("t20", kBaseSeconds + 20)).ok());
  const absl::Time base = absl::FromUnixSeconds(kBaseSeconds) + absl::Nanoseconds(123'456'789);
  EXPECT_EQ(journal->FirstSequence().value(), 1u);
  EXPECT_EQ(journal->FirstSequenceAtOrAfter(base - absl::Seconds(1)).value(), 1u);
  EXPECT_EQ(journal->FirstSequenceAtOrAfter(base).value(), 1u);
  EXPECT_EQ(journal->FirstSequenceAtOrAfter(base + absl::Microseconds(1)).value(), 2u);
  EXPECT_EQ(journal->FirstSequenceAtOrAfter(base + absl::Seconds(10)).value(), 2u);
  EXPECT_EQ(journal->FirstSequenceAtOrAfter(base + absl::Seconds(15)).value(), 3u);
  EXPECT_EQ(journal->FirstSequenceAtOrAfter(base + absl::Seconds(30)).value(), 4u);
  EXPECT_EQ(journal->FirstSequenceAtOrAfter(absl::InfiniteFuture()).value(), 4u);
  EXPECT_EQ(journal->FirstSequenceAtOrAfter(absl::InfinitePast()).value(), 1u);
}

TEST_F(SqliteJournalTest, ListenerSeesIncreasingHeadsCoveringEveryAppend) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  absl::Mutex mu;
  std::vector<uint64_t> heads;
  journal->AddAppendListener([&](uint64_t head) {
    absl::MutexLock lock(&mu);
    heads.push_back(head);
  });
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  std::vector<uint64_t> max_seen(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<AppendResult> result =
            AppendById(*journal, MakeEvent(absl::StrCat("t", t, "-", i)));
        ASSERT_TRUE(result.ok()) << result.status();
        // Listeners run before Append returns.
        absl::MutexLock lock(&mu);
        ASSERT_FALSE(heads.empty());
        EXPECT_GE(heads.back(), result->sequence);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  size_t calls = 0;
  {
    absl::MutexLock lock(&mu);
    calls = heads.size();
  }
  // A duplicate does not advance the head, so no listener call.
  ASSERT_TRUE(AppendById(*journal, MakeEvent("t0-0")).value().duplicate);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(heads.size(), calls);
  for (size_t i = 1; i < heads.size(); ++i) EXPECT_LT(heads[i - 1], heads[i]);
  EXPECT_EQ(heads.back(), static_cast<uint64_t>(kThreads * kPerThread));
}

TEST_F(SqliteJournalTest, AppendAfterCloseIsUnavailableButReadsWork) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  ASSERT_TRUE(AppendById(*journal, MakeEvent("a")).ok());
  EXPECT_TRUE(journal->Writable());
  journal->Close();
  EXPECT_FALSE(journal->Writable());
  journal->Close();  // idempotent
  absl::StatusOr<AppendResult> result = AppendById(*journal, MakeEvent("b"));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(result.status()), "journal_unavailable");
  EXPECT_EQ(journal->Read(1, 10, 1 << 20).value().size(), 1u);
}

TEST_F(SqliteJournalTest, CloseDrainsQueuedAppendsAndRefusesLaterOnes) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::vector<std::pair<std::string, absl::StatusOr<AppendResult>>>> results(kThreads);
  std::vector<std::thread> threads;
  absl::Mutex mu;
  int appended = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = absl::StrCat("t", t, "-", i);
        results[t].emplace_back(id, AppendById(*journal, MakeEvent(id)));
        absl::MutexLock lock(&mu);
        ++appended;
      }
    });
  }
  {
    // Close while appends are in flight.
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n >= 100; }, &appended));
  }
  journal->Close();
  for (std::thread& thread : threads) thread.join();
  journal.reset();

  journal = Open();
  ASSERT_NE(journal, nullptr);
  int ok = 0;
  int refused = 0;
  for (const auto& per_thread : results) {
    for (const auto& [id, result] : per_thread) {
      absl::StatusOr<v1::Event> stored = journal->GetById(id);
      if (result.ok()) {
        ++ok;
        ASSERT_TRUE(stored.ok()) << id << ": " << stored.status();
        EXPECT_EQ(stored->sequence(), result->sequence);
      } else {
        ++refused;
        EXPECT_EQ(ReasonOf(result.status()), "journal_unavailable");
        EXPECT_EQ(stored.status().code(), absl::StatusCode::kNotFound) << id;
      }
    }
  }
  EXPECT_GE(ok, 100);
  EXPECT_EQ(ok + refused, kThreads * kPerThread);
  EXPECT_EQ(journal->HeadSequence(), static_cast<uint64_t>(ok));
}

TEST_F(SqliteJournalTest, EmptyIdIsInvalidArgument) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  EXPECT_EQ(AppendById(*journal, MakeEvent("")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(journal->HeadSequence(), 0u);
}

TEST_F(SqliteJournalTest, OpenInMissingDirectoryFailsClearly) {
  SqliteJournalOptions options;
  options.path = dir_ + "/no/such/dir/journal.db";
  absl::StatusOr<std::unique_ptr<Journal>> journal = OpenSqliteJournal(options);
  ASSERT_FALSE(journal.ok());
  EXPECT_THAT(journal.status().message(), HasSubstr(options.path));
  EXPECT_THAT(journal.status().message(), HasSubstr("does not exist"));
}

TEST_F(SqliteJournalTest, UnknownSchemaVersionIsRefused) {
  RawExec(path_, "PRAGMA user_version = 99");
  absl::StatusOr<std::unique_ptr<Journal>> journal = OpenSqliteJournal(Options());
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(journal.status().message(), HasSubstr("99"));
}

TEST_F(SqliteJournalTest, NotADatabaseIsRefused) {
  {
    FILE* file = fopen(path_.c_str(), "w");
    ASSERT_NE(file, nullptr);
    fputs("this is not an SQLite database, not even close, but long enough to matter", file);
    fclose(file);
  }
  absl::StatusOr<std::unique_ptr<Journal>> journal = OpenSqliteJournal(Options());
  EXPECT_FALSE(journal.ok());
}

// A trigger added behind the journal's back makes one insert fail: that
// batch is rolled back and reported as journal_unavailable, and the journal
// keeps working for later appends.
TEST_F(SqliteJournalTest, CommitFailureFailsAppendAndJournalRecovers) {
  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  ASSERT_EQ(AppendById(*journal, MakeEvent("before")).value().sequence, 1u);
  RawExec(path_,
          "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.type = 'poison' "
          "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
  absl::StatusOr<AppendResult> failed =
      AppendById(*journal, MakeEvent("bad", kBaseSeconds, "poison"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(failed.status()), "journal_unavailable");
  EXPECT_THAT(failed.status().message(), HasSubstr("injected failure"));
  EXPECT_EQ(journal->GetById("bad").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(journal->HeadSequence(), 1u);
  EXPECT_FALSE(journal->Writable()) << "readiness reports the failed commit";

  absl::StatusOr<AppendResult> after = AppendById(*journal, MakeEvent("after"));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->sequence, 2u);
  EXPECT_TRUE(journal->GetById("after").ok());
  EXPECT_TRUE(journal->Writable()) << "and recovers with the next good commit";
  // Reads, from memory or the file, see exactly what was stored.
  EXPECT_EQ(SequencesOf(VisitAll(*journal, 1)), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(SequencesOf(VisitAll(*journal, 2)), (std::vector<uint64_t>{2}));
}

// The durability contract: every sequence an Append returned survives
// SIGKILL of the process at an arbitrary moment.
TEST_F(SqliteJournalTest, ReturnedAppendsSurviveKillDashNine) {
  struct Report {
    uint64_t sequence;
    uint64_t index;
  };
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  // Fork before this process opens any journal (no threads of ours yet).
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    SqliteJournalOptions options;
    options.path = path_;
    absl::StatusOr<std::unique_ptr<Journal>> journal = OpenSqliteJournal(options);
    if (!journal.ok()) _exit(2);
    constexpr int kWriters = 4;
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (uint64_t i = w;; i += kWriters) {
          absl::StatusOr<AppendResult> result =
              AppendById(**journal, MakeEvent(absl::StrCat("kill-", i)));
          if (!result.ok()) _exit(3);
          const Report report{result->sequence, i};
          // Reports are smaller than PIPE_BUF, so each write is atomic.
          if (write(fds[1], &report, sizeof(report)) != sizeof(report)) _exit(4);
        }
      });
    }
    for (std::thread& writer : writers) writer.join();  // never: killed first
    _exit(5);
  }
  close(fds[1]);
  constexpr size_t kBeforeKill = 300;
  std::vector<Report> reports;
  auto read_one = [&]() {
    Report report;
    size_t got = 0;
    while (got < sizeof(report)) {
      const ssize_t n = read(fds[0], reinterpret_cast<char*>(&report) + got, sizeof(report) - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    reports.push_back(report);
    return true;
  };
  while (reports.size() < kBeforeKill && read_one()) {
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  // Whatever the child reported before dying counts too.
  while (read_one()) {
  }
  close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(wait_status))
      << "child exited early with code " << WEXITSTATUS(wait_status);
  ASSERT_GE(reports.size(), kBeforeKill);

  std::unique_ptr<Journal> journal = Open();
  ASSERT_NE(journal, nullptr);
  std::set<uint64_t> sequences;
  for (const Report& report : reports) {
    EXPECT_TRUE(sequences.insert(report.sequence).second) << report.sequence;
    absl::StatusOr<v1::Event> stored = journal->GetBySequence(report.sequence);
    ASSERT_TRUE(stored.ok()) << "sequence " << report.sequence << ": " << stored.status();
    EXPECT_EQ(stored->id(), absl::StrCat("kill-", report.index));
    EXPECT_EQ(stored->body(), MakeEvent(stored->id()).body());
  }
  EXPECT_GE(journal->HeadSequence(), *sequences.rbegin());
  // The journal continues after the crash.
  absl::StatusOr<AppendResult> next = AppendById(*journal, MakeEvent("after-crash"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_GT(next->sequence, *sequences.rbegin());
}

}  // namespace
}  // namespace refir::bridge
