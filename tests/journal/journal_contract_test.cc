// The Journal contract (bridge/journal/journal.h), run against both
// backends: the SQLite journal on a real file and the JetStream journal on a
// real nats-server started by the test. Where JetStream 2.9 forces a
// difference (ids of reused webhook ids, GetById), the test says so.
#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bridge/common/error_reason.h"
#include "bridge/journal/jetstream/jetstream_journal.h"
#include "bridge/journal/jetstream/nats_connection.h"
#include "bridge/journal/jetstream/nats_handles.h"
#include "bridge/journal/sqlite/sqlite_journal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/temp_dir.h"
#include "tests/nats/nats_server_process.h"

namespace refir::bridge {
namespace {

using ::refir::bridge::testing::MakeTempDir;
using ::refir::bridge::testing::NatsServerOptions;
using ::refir::bridge::testing::NatsServerProcess;

constexpr int64_t kBaseSeconds = 1'700'000'000;

v1::Event MakeEvent(const std::string& id, int64_t seconds = kBaseSeconds) {
  v1::Event event;
  event.set_id(id);
  event.set_source("refir");
  event.set_type("refir.referral.created");
  event.mutable_received_at()->set_seconds(seconds);
  event.mutable_refir()->mutable_lead()->set_id("42");
  event.set_body(absl::StrCat("{\"id\":\"", id, "\"}", std::string("\0\xff", 2)));
  (*event.mutable_headers())["webhook-id"] = id;
  return event;
}

enum class Backend { kSqlite, kJetStream };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "JetStream";
}

class JournalContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("refir-journal");
    ASSERT_FALSE(dir_.empty());
    if (GetParam() == Backend::kJetStream) {
      NatsServerOptions options;
      options.store_dir = dir_ + "/nats";
      nats_ = std::make_unique<NatsServerProcess>(options);
      ASSERT_TRUE(nats_->Start().ok());
    }
    absl::StatusOr<std::unique_ptr<Journal>> journal = Open();
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = *std::move(journal);
  }

  absl::StatusOr<std::unique_ptr<Journal>> Open() {
    if (GetParam() == Backend::kSqlite) {
      SqliteJournalOptions options;
      options.path = dir_ + "/journal.db";
      return OpenSqliteJournal(options);
    }
    JetStreamJournalOptions options;
    options.connection.servers = {nats_->url()};
    options.timeout = absl::Seconds(2);
    return OpenJetStreamJournal(options);
  }

  void Reopen() {
    journal_->Close();
    journal_.reset();
    absl::StatusOr<std::unique_ptr<Journal>> journal = Open();
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = *std::move(journal);
  }

  std::string dir_;
  std::unique_ptr<NatsServerProcess> nats_;
  std::unique_ptr<Journal> journal_;
};

TEST_P(JournalContractTest, AppendsGetIncreasingSequencesAndReadBack) {
  for (int i = 1; i <= 3; ++i) {
    absl::StatusOr<AppendResult> appended =
        journal_->Append(MakeEvent(absl::StrCat("e", i)), DedupKey{absl::StrCat("k", i)});
    ASSERT_TRUE(appended.ok()) << appended.status();
    EXPECT_EQ(appended->sequence, static_cast<uint64_t>(i));
    EXPECT_EQ(appended->id, absl::StrCat("e", i));
    EXPECT_FALSE(appended->duplicate);
  }
  EXPECT_EQ(journal_->HeadSequence(), 3u);
  absl::StatusOr<std::vector<v1::Event>> events = journal_->Read(1, 10, SIZE_MAX);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*events)[i].sequence(), static_cast<uint64_t>(i + 1));
    EXPECT_EQ((*events)[i].id(), absl::StrCat("e", i + 1));
    EXPECT_EQ((*events)[i].body(), MakeEvent(absl::StrCat("e", i + 1)).body());
  }
  absl::StatusOr<v1::Event> second = journal_->GetBySequence(2);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->id(), "e2");
  EXPECT_EQ(second->sequence(), 2u);
  EXPECT_TRUE(absl::IsNotFound(journal_->GetBySequence(4).status()));
  absl::StatusOr<std::vector<v1::Event>> beyond = journal_->Read(4, 10, SIZE_MAX);
  ASSERT_TRUE(beyond.ok());
  EXPECT_TRUE(beyond->empty());
}

TEST_P(JournalContractTest, SameDedupKeyIsADuplicateOfTheFirst) {
  ASSERT_TRUE(journal_->Append(MakeEvent("first"), DedupKey{"refir|webhook-id|w1"}).ok());
  absl::StatusOr<AppendResult> again =
      journal_->Append(MakeEvent("second"), DedupKey{"refir|webhook-id|w1"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, 1u);
  EXPECT_EQ(again->id, "first");
  EXPECT_EQ(journal_->HeadSequence(), 1u);
  // A key that is no plain token (a line break, a long value) dedups too.
  const std::string odd_key = absl::StrCat("refir|field|line\r\nbreak", std::string(300, 'x'));
  absl::StatusOr<AppendResult> odd = journal_->Append(MakeEvent("third"), DedupKey{odd_key});
  ASSERT_TRUE(odd.ok()) << odd.status();
  EXPECT_FALSE(odd->duplicate);
  absl::StatusOr<AppendResult> odd_again = journal_->Append(MakeEvent("fourth"), DedupKey{odd_key});
  ASSERT_TRUE(odd_again.ok()) << odd_again.status();
  EXPECT_TRUE(odd_again->duplicate);
  EXPECT_EQ(odd_again->sequence, odd->sequence);
  EXPECT_EQ(odd_again->id, "third");
}

TEST_P(JournalContractTest, EmptyDedupKeyStoresEveryAppend) {
  absl::StatusOr<AppendResult> one = journal_->Append(MakeEvent("same"), DedupKey{});
  absl::StatusOr<AppendResult> two = journal_->Append(MakeEvent("same"), DedupKey{});
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_FALSE(two->duplicate);
  EXPECT_EQ(two->sequence, one->sequence + 1);
  if (GetParam() == Backend::kSqlite) {
    EXPECT_NE(two->id, "same");  // a fresh UUIDv7: ids stay unique
  } else {
    EXPECT_EQ(two->id, "same");  // JetStream: no id index (docs/api.md)
  }
}

TEST_P(JournalContractTest, VisitStoredStopsWhereAskedAndAtTheLimit) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(journal_->Append(MakeEvent(absl::StrCat("e", i)), DedupKey{}).ok());
  }
  std::vector<uint64_t> seen;
  ASSERT_TRUE(journal_
                  ->VisitStored(2, 3,
                                [&](const StoredEventView& view) {
                                  seen.push_back(view.sequence);
                                  EXPECT_EQ(view.type, "refir.referral.created");
                                  v1::Event event;
                                  EXPECT_TRUE(event.ParseFromArray(
                                      view.bytes.data(), static_cast<int>(view.bytes.size())));
                                  EXPECT_EQ(event.id(), absl::StrCat("e", view.sequence));
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{2, 3, 4}));
  seen.clear();
  ASSERT_TRUE(journal_
                  ->VisitStored(1, 10,
                                [&](const StoredEventView& view) {
                                  if (view.sequence == 3) return false;
                                  seen.push_back(view.sequence);
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2}));
}

TEST_P(JournalContractTest, ListenersSeeTheHeadBeforeAppendReturns) {
  absl::Mutex mu;
  uint64_t heard = 0;
  journal_->AddAppendListener([&](uint64_t head) {
    absl::MutexLock lock(&mu);
    EXPECT_GE(head, heard);  // only rises
    heard = head;
  });
  for (int i = 1; i <= 20; ++i) {
    absl::StatusOr<AppendResult> appended =
        journal_->Append(MakeEvent(absl::StrCat("e", i)), DedupKey{});
    ASSERT_TRUE(appended.ok());
    absl::MutexLock lock(&mu);
    EXPECT_GE(heard, appended->sequence);
    EXPECT_GE(journal_->HeadSequence(), appended->sequence);
  }
}

TEST_P(JournalContractTest, ConcurrentAppendsGetDistinctSequences) {
  constexpr int kThreads = 8;
  constexpr int kEach = 50;
  absl::Mutex mu;
  std::set<uint64_t> sequences;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = absl::StrCat("t", t, "-", i);
        absl::StatusOr<AppendResult> appended = journal_->Append(MakeEvent(id), DedupKey{id});
        ASSERT_TRUE(appended.ok()) << appended.status();
        absl::MutexLock lock(&mu);
        EXPECT_TRUE(sequences.insert(appended->sequence).second);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(sequences.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*sequences.begin(), 1u);
  EXPECT_EQ(*sequences.rbegin(), static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(journal_->HeadSequence(), static_cast<uint64_t>(kThreads * kEach));
  absl::StatusOr<std::vector<v1::Event>> all = journal_->Read(1, 1000, SIZE_MAX);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<size_t>(kThreads * kEach));
}

TEST_P(JournalContractTest, ReopenKeepsEventsAndDedupKeys) {
  ASSERT_TRUE(journal_->Append(MakeEvent("a"), DedupKey{"ka"}).ok());
  ASSERT_TRUE(journal_->Append(MakeEvent("b"), DedupKey{"kb"}).ok());
  Reopen();
  EXPECT_EQ(journal_->HeadSequence(), 2u);
  absl::StatusOr<v1::Event> b = journal_->GetBySequence(2);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->id(), "b");
  absl::StatusOr<AppendResult> again = journal_->Append(MakeEvent("a2"), DedupKey{"ka"});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, 1u);
  absl::StatusOr<AppendResult> next = journal_->Append(MakeEvent("c"), DedupKey{"kc"});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->sequence, 3u);
  EXPECT_EQ(journal_->FirstSequence().value_or(0), 1u);
}

TEST_P(JournalContractTest, ReadsAfterReopenComeFromStorageInOrder) {
  for (int i = 1; i <= 300; ++i) {
    ASSERT_TRUE(journal_->Append(MakeEvent(absl::StrCat("e", i)), DedupKey{}).ok());
  }
  Reopen();  // nothing in memory now: every read goes to the file or the stream
  std::vector<uint64_t> seen;
  auto collect = [&](const StoredEventView& view) {
    v1::Event event;
    EXPECT_TRUE(event.ParseFromArray(view.bytes.data(), static_cast<int>(view.bytes.size())));
    EXPECT_EQ(event.id(), absl::StrCat("e", view.sequence));
    EXPECT_EQ(view.type, "refir.referral.created");
    seen.push_back(view.sequence);
    return true;
  };
  ASSERT_TRUE(journal_->VisitStored(1, 1000, collect).ok());
  ASSERT_EQ(seen.size(), 300u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
  seen.clear();
  ASSERT_TRUE(journal_->VisitStored(100, 50, collect).ok());
  ASSERT_EQ(seen.size(), 50u);
  EXPECT_EQ(seen.front(), 100u);
  EXPECT_EQ(seen.back(), 149u);
  seen.clear();
  ASSERT_TRUE(journal_->VisitStored(295, 50, collect).ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{295, 296, 297, 298, 299, 300}));
  seen.clear();
  ASSERT_TRUE(journal_
                  ->VisitStored(10, 100,
                                [&](const StoredEventView& view) {
                                  if (view.sequence == 40) return false;
                                  seen.push_back(view.sequence);
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(seen.size(), 30u);
  // Read stops at the byte cap, with at least one event.
  absl::StatusOr<std::vector<v1::Event>> capped = journal_->Read(1, 1000, 1);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->size(), 1u);
}

TEST_P(JournalContractTest, FirstSequenceAtOrAfterFindsByReceivedTime) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(
        journal_->Append(MakeEvent(absl::StrCat("e", i), kBaseSeconds + 10 * i), DedupKey{}).ok());
  }
  EXPECT_EQ(journal_->FirstSequenceAtOrAfter(absl::FromUnixSeconds(kBaseSeconds)).value_or(0), 1u);
  EXPECT_EQ(journal_->FirstSequenceAtOrAfter(absl::FromUnixSeconds(kBaseSeconds + 25)).value_or(0),
            4u);
  EXPECT_EQ(journal_->FirstSequenceAtOrAfter(absl::FromUnixSeconds(kBaseSeconds + 30)).value_or(0),
            4u);
  EXPECT_EQ(journal_->FirstSequenceAtOrAfter(absl::FromUnixSeconds(kBaseSeconds + 999)).value_or(0),
            8u);
}

TEST_P(JournalContractTest, AppendAfterCloseIsUnavailable) {
  journal_->Close();
  EXPECT_FALSE(journal_->Writable());
  absl::StatusOr<AppendResult> appended = journal_->Append(MakeEvent("late"), DedupKey{});
  ASSERT_FALSE(appended.ok());
  EXPECT_TRUE(absl::IsUnavailable(appended.status())) << appended.status();
  EXPECT_EQ(ReasonOf(appended.status()), kJournalUnavailableReason);
}

INSTANTIATE_TEST_SUITE_P(Backends, JournalContractTest,
                         ::testing::Values(Backend::kSqlite, Backend::kJetStream), BackendName);

class JetStreamJournalTest : public JournalContractTest {};

// A failed publish is 503 and not ready; the journal turns writable again by
// itself once NATS is back, without waiting for a publish to succeed (a load
// balancer would send none to a bridge that is not ready).
TEST_P(JetStreamJournalTest, NotWritableWhileNatsIsDownAndWritableAgainWithoutAPublish) {
  ASSERT_TRUE(journal_->Append(MakeEvent("before"), DedupKey{"k-before"}).ok());
  nats_->Kill();
  absl::StatusOr<AppendResult> refused = journal_->Append(MakeEvent("down"), DedupKey{"k-down"});
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  EXPECT_EQ(ReasonOf(refused.status()), kJournalUnavailableReason);
  EXPECT_FALSE(journal_->Writable());
  ASSERT_TRUE(nats_->Start().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!journal_->Writable() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(journal_->Writable());
  absl::StatusOr<AppendResult> after = journal_->Append(MakeEvent("after"), DedupKey{"k-after"});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->sequence, 2u);  // nothing from the refused append was stored
}

// The consumers the stream has now, by name.
std::set<std::string> ConsumersOfStream(const std::string& url, const std::string& stream) {
  std::set<std::string> names;
  jetstream::NatsConnectionOptions options;
  options.servers = {url};
  absl::StatusOr<std::unique_ptr<jetstream::NatsConnection>> connection =
      jetstream::NatsConnection::Connect(options);
  EXPECT_TRUE(connection.ok()) << connection.status();
  if (!connection.ok()) return names;
  jsCtx* raw_js = nullptr;
  EXPECT_EQ(natsConnection_JetStream(&raw_js, (*connection)->get(), nullptr), NATS_OK);
  jetstream::JsContextPtr js(raw_js);
  jsConsumerNamesList* list = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_ConsumerNames(&list, js.get(), stream.c_str(), nullptr, &error);
  EXPECT_TRUE(status == NATS_OK || status == NATS_NOT_FOUND)
      << natsStatus_GetText(status) << ", JetStream error " << error;
  if (status != NATS_OK) return names;
  for (int i = 0; i < list->Count; ++i) names.insert(list->List[i]);
  jsConsumerNamesList_Destroy(list);
  return names;
}

// A read from the stream goes through an ephemeral consumer of its own,
// which it deletes once done: catch-up reads many times a second must not
// leave one behind on the server each time.
TEST_P(JetStreamJournalTest, StreamedReadsLeaveNoConsumerBehind) {
  for (int i = 1; i <= 100; ++i) {
    ASSERT_TRUE(journal_->Append(MakeEvent(absl::StrCat("e", i)), DedupKey{}).ok());
  }
  Reopen();  // nothing in memory now: the reads below go to the stream
  const std::string stream = JetStreamJournalOptions().stream.name;
  const std::set<std::string> before = ConsumersOfStream(nats_->url(), stream);
  EXPECT_FALSE(before.empty());  // at least the reopened journal's follower
  size_t visited = 0;
  auto count = [&visited](const StoredEventView&) {
    ++visited;
    return true;
  };
  for (uint64_t from = 1; from <= 100; from += 20) {
    ASSERT_TRUE(journal_->VisitStored(from, 20, count).ok());
  }
  EXPECT_EQ(visited, 100u);
  for (const std::string& name : ConsumersOfStream(nats_->url(), stream)) {
    EXPECT_TRUE(before.count(name) == 1) << "consumer " << name << " was left behind";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, JetStreamJournalTest, ::testing::Values(Backend::kJetStream),
                         BackendName);

}  // namespace
}  // namespace refir::bridge
