// The GroupStore contract (bridge/journal/group_store.h) on both backends:
// SQLite on a real file, and JetStream (a KeyValue bucket and a dead-letter
// stream) on a real nats-server the test starts. Then what only the
// JetStream store does: fencing a replica that lost the groups, and the
// repair of a SaveGroup cut short; and the coordinator lease.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/common/log_setup.h"
#include "bridge/journal/jetstream/group_coordinator.h"
#include "bridge/journal/jetstream/jetstream_group_store.h"
#include "bridge/journal/jetstream/nats_connection.h"
#include "bridge/journal/sqlite/sqlite_group_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/capturing_log_sink.h"
#include "tests/common/temp_dir.h"
#include "tests/journal/group_store_test_util.h"
#include "tests/nats/nats_server_process.h"

namespace refir::bridge {
namespace {

using ::refir::bridge::testing::MakeDeadLetter;
using ::refir::bridge::testing::MakeState;
using ::refir::bridge::testing::MakeTempDir;
using ::refir::bridge::testing::NatsCluster;
using ::refir::bridge::testing::NatsServerOptions;
using ::refir::bridge::testing::NatsServerProcess;
using ::refir::bridge::testing::Sequences;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

enum class Backend { kSqlite, kJetStream };

class GroupStoreContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("refir-groups");
    ASSERT_FALSE(dir_.empty());
    if (GetParam() == Backend::kJetStream) {
      NatsServerOptions options;
      options.store_dir = dir_ + "/nats";
      nats_ = std::make_unique<NatsServerProcess>(options);
      ASSERT_TRUE(nats_->Start().ok());
    }
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<GroupStore> Open() {
    absl::StatusOr<std::unique_ptr<GroupStore>> store;
    if (GetParam() == Backend::kSqlite) {
      store = OpenSqliteGroupStore(dir_ + "/groups.db");
    } else {
      jetstream::NatsConnectionOptions options;
      options.servers = {nats_->url()};
      absl::StatusOr<std::unique_ptr<jetstream::NatsConnection>> connection =
          jetstream::NatsConnection::Connect(options);
      EXPECT_TRUE(connection.ok()) << connection.status();
      if (!connection.ok()) return nullptr;
      connections_.push_back(*std::move(connection));
      jetstream::GroupStoreSettings settings;
      store = jetstream::OpenJetStreamGroupStore(connections_.back()->get(), settings);
    }
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  std::string dir_;
  std::unique_ptr<NatsServerProcess> nats_;
  std::vector<std::unique_ptr<jetstream::NatsConnection>> connections_;
  std::unique_ptr<GroupStore> store_;
};

TEST_P(GroupStoreContractTest, EmptyStoreLoadsNothing) {
  absl::StatusOr<std::vector<internal::GroupState>> groups = store_->LoadGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  EXPECT_THAT(*groups, IsEmpty());
  EXPECT_EQ(store_->CountDeadLetters("nobody").value_or(99), 0u);
  EXPECT_THAT(store_->ListDeadLetters("nobody", 0, 10).value(), IsEmpty());
}

TEST_P(GroupStoreContractTest, SaveThenLoadRoundTripsAndReplaces) {
  ASSERT_TRUE(store_->SaveGroup(MakeState("crm.sync", 100), {}, {}).ok());
  ASSERT_TRUE(store_->SaveGroup(MakeState("crm.sync", 200), {}, {}).ok());
  std::unique_ptr<GroupStore> reopened = Open();
  ASSERT_NE(reopened, nullptr);
  absl::StatusOr<std::vector<internal::GroupState>> groups = reopened->LoadGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].SerializeAsString(), MakeState("crm.sync", 200).SerializeAsString());
}

TEST_P(GroupStoreContractTest, DeadLettersAddedRemovedAndListedAscendingWithPaging) {
  const std::vector<internal::DeadLetterRecord> first = {MakeDeadLetter(30), MakeDeadLetter(10),
                                                         MakeDeadLetter(20), MakeDeadLetter(50),
                                                         MakeDeadLetter(40)};
  ASSERT_TRUE(store_->SaveGroup(MakeState("billing", 60), first, {}).ok());
  EXPECT_EQ(store_->CountDeadLetters("billing").value(), 5u);
  absl::StatusOr<std::vector<internal::DeadLetterRecord>> all =
      store_->ListDeadLetters("billing", 0, 100);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Sequences(*all), ElementsAre(10, 20, 30, 40, 50));
  EXPECT_EQ((*all)[0].SerializeAsString(), MakeDeadLetter(10).SerializeAsString());
  EXPECT_THAT(Sequences(store_->ListDeadLetters("billing", 0, 2).value()), ElementsAre(10, 20));
  EXPECT_THAT(Sequences(store_->ListDeadLetters("billing", 20, 2).value()), ElementsAre(30, 40));
  EXPECT_THAT(store_->ListDeadLetters("billing", 50, 10).value(), IsEmpty());

  const std::vector<internal::DeadLetterRecord> added = {MakeDeadLetter(60),
                                                         MakeDeadLetter(30, "replaced")};
  const std::vector<uint64_t> removed = {10, 40, 999};
  ASSERT_TRUE(store_->SaveGroup(MakeState("billing", 70), added, removed).ok());
  EXPECT_EQ(store_->CountDeadLetters("billing").value(), 4u);
  absl::StatusOr<std::vector<internal::DeadLetterRecord>> after =
      store_->ListDeadLetters("billing", 0, 100);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_THAT(Sequences(*after), ElementsAre(20, 30, 50, 60));
  EXPECT_EQ((*after)[1].reason(), "replaced");
}

TEST_P(GroupStoreContractTest, GroupsAreIndependentLoadInNameOrderAndDeleteAlone) {
  // "a.b" and "a" must not share dead letters (a '.' is a subject separator
  // on JetStream).
  ASSERT_TRUE(store_->SaveGroup(MakeState("a.b", 50), {MakeDeadLetter(5)}, {}).ok());
  ASSERT_TRUE(
      store_->SaveGroup(MakeState("a", 60), {MakeDeadLetter(6), MakeDeadLetter(7)}, {}).ok());
  ASSERT_TRUE(store_->SaveGroup(MakeState("Z-last_1", 70), {}, {}).ok());
  absl::StatusOr<std::vector<internal::GroupState>> groups = store_->LoadGroups();
  ASSERT_TRUE(groups.ok()) << groups.status();
  std::vector<std::string> names;
  for (const internal::GroupState& group : *groups) names.push_back(group.name());
  EXPECT_THAT(names, ElementsAre("Z-last_1", "a", "a.b"));
  EXPECT_EQ(store_->CountDeadLetters("a").value(), 2u);
  EXPECT_EQ(store_->CountDeadLetters("a.b").value(), 1u);

  ASSERT_TRUE(store_->DeleteGroup("a").ok());
  ASSERT_TRUE(store_->DeleteGroup("never-existed").ok());
  EXPECT_EQ(store_->CountDeadLetters("a").value(), 0u);
  EXPECT_EQ(store_->CountDeadLetters("a.b").value(), 1u);
  names.clear();
  const std::vector<internal::GroupState> remaining = store_->LoadGroups().value();
  for (const internal::GroupState& group : remaining) names.push_back(group.name());
  EXPECT_THAT(names, ElementsAre("Z-last_1", "a.b"));
  // A deleted group can be created again.
  ASSERT_TRUE(store_->SaveGroup(MakeState("a", 10), {}, {}).ok());
  EXPECT_EQ(store_->LoadGroups().value().size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Backends, GroupStoreContractTest,
                         ::testing::Values(Backend::kSqlite, Backend::kJetStream),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param == Backend::kSqlite ? "Sqlite" : "JetStream";
                         });

class JetStreamGroupsTest : public GroupStoreContractTest {};

TEST_P(JetStreamGroupsTest, AReplicaThatLostTheGroupsCannotOverwriteThem) {
  ASSERT_TRUE(store_->SaveGroup(MakeState("crm", 100), {}, {}).ok());
  // Another replica takes the groups over: it loads them.
  std::unique_ptr<GroupStore> successor = Open();
  ASSERT_NE(successor, nullptr);
  ASSERT_EQ(successor->LoadGroups().value().size(), 1u);
  // The old one's checkpoint is refused; the successor's lands.
  const absl::Status stale = store_->SaveGroup(MakeState("crm", 150), {}, {});
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted) << stale;
  EXPECT_THAT(stale.message(), HasSubstr("another replica"));
  ASSERT_TRUE(successor->SaveGroup(MakeState("crm", 160), {}, {}).ok());
  EXPECT_EQ(Open()->LoadGroups().value()[0].cursor(), 160u);
}

// A standby may take the groups over while the former holder, cut off from
// its lease by a NATS leader election, still checkpoints them: a save of the
// former holder between the successor's read of a group and its claim (the
// write back that fences the former holder) must neither fail the takeover
// nor lose that save. Each round races a successor's load against a former
// holder saving in a loop, then the successor is the next round's former.
TEST_P(JetStreamGroupsTest, ASuccessorTakesTheGroupsWhileTheFormerHolderStillSavesThem) {
  constexpr int kRounds = 20;
  ASSERT_TRUE(store_->SaveGroup(MakeState("crm", 100), {}, {}).ok());
  std::unique_ptr<GroupStore> former = std::move(store_);
  uint64_t cursor = 100;
  for (int round = 0; round < kRounds; ++round) {
    absl::Mutex mu;
    uint64_t last_saved = cursor;  // guarded by mu
    absl::Status refused;
    std::atomic<bool> stop{false};  // the takeover failed: nothing fences it
    std::thread saver([&, first = cursor + 1] {
      for (uint64_t next = first; !stop.load(); ++next) {
        const absl::Status saved = former->SaveGroup(MakeState("crm", next), {}, {});
        if (!saved.ok()) {
          refused = saved;
          return;
        }
        {
          absl::MutexLock lock(&mu);
          last_saved = next;
        }
        // The bridge checkpoints a busy group every 100 ms; every 2 ms here
        // puts saves inside the successor's read-to-claim window often.
        absl::SleepFor(absl::Milliseconds(2));
      }
    });
    {
      // The former holder is saving: a few saves landed.
      absl::MutexLock lock(&mu);
      const uint64_t started = cursor;
      auto saving = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return last_saved >= started + 3; };
      EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&saving), absl::Seconds(10)));
    }
    std::unique_ptr<GroupStore> successor = Open();
    ASSERT_NE(successor, nullptr);
    absl::StatusOr<std::vector<internal::GroupState>> loaded = successor->LoadGroups();
    if (!loaded.ok()) stop = true;  // else it runs until refused
    saver.join();
    ASSERT_TRUE(loaded.ok()) << "round " << round << ": " << loaded.status();
    ASSERT_EQ(loaded->size(), 1u);
    // Fenced: the former holder's next save was refused, and the successor
    // holds its last one.
    EXPECT_EQ(refused.code(), absl::StatusCode::kAborted) << refused;
    absl::MutexLock lock(&mu);
    EXPECT_EQ((*loaded)[0].cursor(), last_saved) << "round " << round;
    cursor = last_saved;
    former = std::move(successor);
  }
}

TEST_P(JetStreamGroupsTest, ADeadLetterWinsOverAStaleUnsettledEntry) {
  // As if a SaveGroup was cut short after writing the dead letter of 93
  // (MakeState(100) lists 93 and 98 unsettled).
  ASSERT_TRUE(store_->SaveGroup(MakeState("crm", 100), {MakeDeadLetter(93)}, {}).ok());
  absl::StatusOr<std::vector<internal::GroupState>> loaded = Open()->LoadGroups();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_THAT((*loaded)[0].unsettled_sequences(), ElementsAre(98));
  EXPECT_THAT((*loaded)[0].unsettled_attempts(), ElementsAre(0));
}

TEST_P(JetStreamGroupsTest, OneCoordinatorAtATimeAndAStandbyTakesOver) {
  jetstream::NatsConnectionOptions options;
  options.servers = {nats_->url()};
  auto connection = jetstream::NatsConnection::Connect(options);
  ASSERT_TRUE(connection.ok());
  jetstream::CoordinatorOptions first_options;
  first_options.bucket = jetstream::GroupBucketName("REFIR");
  first_options.replica_id = "first";
  first_options.advertised_address = "10.0.0.1:50051";
  first_options.lease = absl::Seconds(1);
  jetstream::CoordinatorOptions second_options = first_options;
  second_options.replica_id = "second";
  second_options.advertised_address = "10.0.0.2:50051";

  std::atomic<int> first_acquired{0};
  absl::Notification second_acquired;
  auto first = jetstream::GroupCoordinator::Start((*connection)->get(), first_options,
                                                  [&] {
                                                    ++first_acquired;
                                                    return absl::OkStatus();
                                                  },
                                                  [] {});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE((*first)->holds_lease());
  EXPECT_EQ(first_acquired.load(), 1);
  auto second = jetstream::GroupCoordinator::Start((*connection)->get(), second_options,
                                                   [&] {
                                                     second_acquired.Notify();
                                                     return absl::OkStatus();
                                                   },
                                                   [] {});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE((*second)->holds_lease());
  EXPECT_EQ((*second)->holder(), "replica first at 10.0.0.1:50051");
  // The first keeps renewing: three lease periods later the second is still
  // a standby.
  EXPECT_FALSE(second_acquired.WaitForNotificationWithTimeout(absl::Seconds(3)));
  EXPECT_TRUE((*first)->holds_lease());
  // Released on stop: the second takes over.
  (*first)->Stop();
  ASSERT_TRUE(second_acquired.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE((*second)->holds_lease());
  EXPECT_EQ((*second)->holder(), "replica second at 10.0.0.2:50051");
}

// A replica that takes the lease but cannot load the groups (NATS still
// electing a leader) gives the lease back instead of holding it unserved,
// and takes it again to try anew.
TEST_P(JetStreamGroupsTest, AHolderThatCannotServeYetGivesTheLeaseBackAndTriesAgain) {
  jetstream::NatsConnectionOptions options;
  options.servers = {nats_->url()};
  auto connection = jetstream::NatsConnection::Connect(options);
  ASSERT_TRUE(connection.ok());
  jetstream::CoordinatorOptions holder_options;
  holder_options.bucket = jetstream::GroupBucketName("REFIR");
  holder_options.replica_id = "holder";
  holder_options.advertised_address = "10.0.0.1:50051";
  holder_options.lease = absl::Seconds(1);
  std::atomic<int> tries{0};
  absl::Notification serving;
  auto holder = jetstream::GroupCoordinator::Start(
      (*connection)->get(), holder_options,
      [&] {
        if (++tries < 3) return absl::UnavailableError("listing consumer groups: Timeout");
        serving.Notify();
        return absl::OkStatus();
      },
      [] {});
  ASSERT_TRUE(holder.ok()) << holder.status();
  // The first try failed at once: the lease is given back.
  EXPECT_EQ(tries.load(), 1);
  ASSERT_TRUE(serving.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(tries.load(), 3);
  EXPECT_TRUE((*holder)->holds_lease());
  EXPECT_EQ((*holder)->holder(), "replica holder at 10.0.0.1:50051");
}

TEST_P(JetStreamGroupsTest, AHolderWhoseLeaseWasTakenGivesTheGroupsUp) {
  jetstream::NatsConnectionOptions options;
  options.servers = {nats_->url()};
  auto connection = jetstream::NatsConnection::Connect(options);
  ASSERT_TRUE(connection.ok());
  jetstream::CoordinatorOptions holder_options;
  holder_options.bucket = jetstream::GroupBucketName("REFIR");
  holder_options.replica_id = "holder";
  holder_options.advertised_address = "10.0.0.1:50051";
  holder_options.lease = absl::Seconds(1);
  absl::Notification lost;
  auto holder =
      jetstream::GroupCoordinator::Start((*connection)->get(), holder_options,
                                         [] { return absl::OkStatus(); }, [&] { lost.Notify(); });
  ASSERT_TRUE(holder.ok()) << holder.status();
  ASSERT_TRUE((*holder)->holds_lease());
  // Another writer changes the key behind the holder's back (what a
  // standby's takeover looks like to it).
  jsCtx* js = nullptr;
  kvStore* kv = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, (*connection)->get(), nullptr), NATS_OK);
  ASSERT_EQ(js_KeyValue(&kv, js, "REFIR_GROUPS"), NATS_OK);
  uint64_t revision = 0;
  EXPECT_EQ(kvStore_PutString(&revision, kv, "coordinator", "intruder\n10.0.0.9:50051"), NATS_OK);
  kvStore_Destroy(kv);
  jsCtx_Destroy(js);
  ASSERT_TRUE(lost.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_FALSE((*holder)->holds_lease());
}

INSTANTIATE_TEST_SUITE_P(Backends, JetStreamGroupsTest, ::testing::Values(Backend::kJetStream),
                         [](const ::testing::TestParamInfo<Backend>&) { return "JetStream"; });

// A replica (re)started while its NATS cluster has no JetStream quorum (a
// node rejoining, an election) waits for it instead of exiting: the store's
// Open retries while JetStream is unavailable, up to startup_wait. Without
// the wait the same Open is refused as UNAVAILABLE.
TEST(JetStreamGroupStoreStartupTest, OpenWaitsForTheClusterToRegainQuorum) {
  auto sink = std::make_shared<testing::CapturingLogSink>();
  InitLogging(LogOptions{}, sink);
  const std::string dir = MakeTempDir("refir-groups-quorum");
  ASSERT_FALSE(dir.empty());
  absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(dir + "/nats");
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  (*cluster)->server(1).Kill();
  (*cluster)->server(2).Kill();
  {
    jetstream::NatsConnectionOptions options;
    options.servers = {(*cluster)->server(0).url()};
    absl::StatusOr<std::unique_ptr<jetstream::NatsConnection>> connection =
        jetstream::NatsConnection::Connect(options);
    ASSERT_TRUE(connection.ok()) << connection.status();
    jetstream::GroupStoreSettings settings;
    settings.stream.replicas = 3;
    settings.timeout = absl::Seconds(1);
    settings.startup_wait = absl::ZeroDuration();
    absl::StatusOr<std::unique_ptr<GroupStore>> refused =
        jetstream::OpenJetStreamGroupStore((*connection)->get(), settings);
    ASSERT_FALSE(refused.ok());
    EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();

    settings.startup_wait = absl::Seconds(60);
    absl::StatusOr<std::unique_ptr<GroupStore>> opened;
    std::thread opener(
        [&] { opened = jetstream::OpenJetStreamGroupStore((*connection)->get(), settings); });
    // Once it was refused and waits, the quorum comes back.
    bool waiting = false;
    for (const absl::Time until = absl::Now() + absl::Seconds(30); !waiting && absl::Now() < until;
         absl::SleepFor(absl::Milliseconds(20))) {
      FlushLogs();
      waiting = absl::StrContains(sink->text(), "JetStream is not ready yet; retrying");
    }
    EXPECT_TRUE(waiting) << sink->text();
    ASSERT_TRUE((*cluster)->server(1).Start().ok());
    ASSERT_TRUE((*cluster)->server(2).Start().ok());
    opener.join();
    ASSERT_TRUE(opened.ok()) << opened.status();
    absl::StatusOr<std::vector<internal::GroupState>> groups = (*opened)->LoadGroups();
    ASSERT_TRUE(groups.ok()) << groups.status();
    EXPECT_THAT(*groups, IsEmpty());
  }
  // Later tests log to stderr again (no NATS connection is left to log).
  InitLogging(LogOptions{});
}

}  // namespace
}  // namespace refir::bridge
