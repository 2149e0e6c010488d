// Consumer groups through faults on a JetStream cluster: three real
// nats-server nodes, an R3 stream, two bridge replicas, several senders and
// two consumer groups. Mid-run the stream leader's node is killed (-9), then
// the replica serving the groups, and both come back. Every webhook answered
// 200 must reach both groups; an event is delivered twice to one group only
// as a documented redelivery: a retry (attempt > 1), or the first delivery
// again on a later stream, after a failover (acks the killed replica had not
// checkpointed are lost with it, docs/scaling.md).
#include <sys/stat.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/common/sanitizers.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"
#include "tests/nats/jetstream_probe.h"
#include "tests/nats/nats_server_process.h"
#include "tests/nats/sequence_drift.h"

namespace refir::bridge::testing {
namespace {

constexpr int kSenders = 4;
constexpr int kEventsPerSender = 150;
constexpr int kTotal = kSenders * kEventsPerSender;
const char* const kGroups[] = {"crm", "billing"};

struct Delivered {
  uint64_t sequence = 0;
  int attempt = 0;
  // Which stream of the group's consumer got it (counted from 0): a new
  // stream means the consumer reconnected, after a failover.
  int stream = 0;
};

// Every delivery of an accepted webhook, with the sequence its 200 named.
std::vector<SequenceSeen> DeliveriesAgainstAnswers(
    const std::map<std::string, uint64_t>& accepted,
    const std::map<std::string, std::vector<Delivered>> (&delivered)[2]) {
  std::vector<SequenceSeen> seen;
  for (int g = 0; g < 2; ++g) {
    for (const auto& [id, sequence] : accepted) {
      auto it = delivered[g].find(id);
      if (it == delivered[g].end()) continue;
      for (const Delivered& d : it->second) {
        seen.push_back(SequenceSeen{absl::StrCat(kGroups[g], " got ", id), sequence, d.sequence});
      }
    }
  }
  return seen;
}

class ClusterGroupsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ASSERT_EQ(mkdir((dir_ + "/nats").c_str(), 0700), 0);
    absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(dir_ + "/nats");
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    const std::vector<std::string> flags = {"--journal=jetstream",
                                            absl::StrCat("--nats_servers=", cluster_->urls()),
                                            "--jetstream_replicas=3",
                                            "--group_lease=2s",
                                            "--jetstream_publish_timeout=2s",
                                            "--shutdown_drain=0s",
                                            "--access_log=false"};
    for (int i = 0; i < 2; ++i) {
      bridges_.push_back(std::make_unique<BridgeProcess>(absl::StrCat(dir_, "/bridge", i), flags));
      const absl::Status started = bridges_.back()->Start();
      ASSERT_TRUE(started.ok()) << started;
    }
    PublishPorts();
  }

  // Copies the bridges' ports for the worker threads (the main thread
  // restarts bridges, which changes them).
  void PublishPorts() {
    absl::MutexLock lock(&ports_mu_);
    http_ports_.clear();
    grpc_targets_.clear();
    for (const auto& bridge : bridges_) {
      http_ports_.push_back(bridge->running() ? bridge->http_port() : 0);
      grpc_targets_.push_back(bridge->running() ? bridge->grpc_target() : "");
    }
  }
  int HttpPort(int i) {
    absl::MutexLock lock(&ports_mu_);
    return http_ports_[i];
  }
  std::string GrpcTarget(int i) {
    absl::MutexLock lock(&ports_mu_);
    return grpc_targets_[i];
  }

  std::string dir_;
  std::unique_ptr<NatsCluster> cluster_;
  std::vector<std::unique_ptr<BridgeProcess>> bridges_;
  absl::Mutex ports_mu_;
  std::vector<int> http_ports_ ABSL_GUARDED_BY(ports_mu_);
  std::vector<std::string> grpc_targets_ ABSL_GUARDED_BY(ports_mu_);
};

TEST_F(ClusterGroupsE2eTest, EveryAcceptedWebhookReachesEveryGroupThroughNodeAndReplicaDeaths) {
#ifdef REFIR_TESTS_UNDER_ASAN
  // Under ASan's slowdown this test met two bridge bugs, now fixed (a
  // takeover racing the former holder's checkpoint; a new holder exiting
  // while NATS still elected) and one of nats-server 2.9.10 that the bridge
  // cannot mend: after the stream leader's death the replicas can number
  // later messages differently (clfs drift, nats-server#4174, fixed upstream
  // by #4365), so 200 answers name a sequence one above the one consumers
  // get (1 run in 8). The release build runs this test (and skips its
  // checks when that drift shows: tests/nats/sequence_drift.h). A named gap.
  GTEST_SKIP() << "not run under AddressSanitizer (see docs/scaling.md, known limits)";
#endif
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  std::atomic<int> accepted{0};
  std::atomic<int> unavailable{0};
  std::atomic<int> other_answers{0};
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  std::map<std::string, uint64_t> accepted_ids;                // webhook id -> sequence
  std::map<std::string, std::vector<Delivered>> delivered[2];  // per group, by id

  std::vector<std::thread> senders;
  std::vector<std::thread> consumers;
  // On any early return (a failed ASSERT), stop and join every thread.
  auto join_all = absl::MakeCleanup([&] {
    stop.store(true);
    for (std::thread& thread : senders) {
      if (thread.joinable()) thread.join();
    }
    for (std::thread& thread : consumers) {
      if (thread.joinable()) thread.join();
    }
  });
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      for (int i = 0; i < kEventsPerSender && absl::Now() < deadline && !stop.load(); ++i) {
        const std::string id = absl::StrCat("s", s, "-", i);
        const std::string body =
            absl::StrCat("{\"event\":\"referral_created\",\"lead\":{\"id\":\"", i, "\"}}");
        // Resent with the same webhook-id until answered 200, as Refir would.
        for (int attempt = 0; absl::Now() < deadline && !stop.load(); ++attempt) {
          const HttpResult result =
              PostWebhook(HttpPort((s + attempt) % 2), body, {{"webhook-id", id}});
          if (result.status == 200) {
            absl::MutexLock lock(&mu);
            accepted_ids[id] = result.json["sequence"].get<uint64_t>();
            ++accepted;
            break;
          }
          if (result.status == 503) {
            ++unavailable;
          } else if (result.status != 0) {
            ++other_answers;
          }
          absl::SleepFor(absl::Milliseconds(100));
        }
        absl::SleepFor(absl::Milliseconds(20));  // pacing: ~200 webhooks/s in all
      }
    });
  }

  for (int g = 0; g < 2; ++g) {
    consumers.emplace_back([&, g] {
      v1::SubscribeInit init = GroupInit(kGroups[g], "cluster-test");
      init.mutable_start()->mutable_earliest();
      int streams_opened = 0;
      for (int turn = 0; !stop.load() && absl::Now() < deadline; ++turn) {
        const std::string target = GrpcTarget(turn % 2);
        if (target.empty()) continue;
        auto stub = MakeStub(target);
        GroupStream stream(*stub, absl::Seconds(150));
        if (!stream.Open(init, absl::Seconds(3)).ok()) {
          absl::SleepFor(absl::Milliseconds(100));
          continue;
        }
        const int this_stream = streams_opened++;
        while (!stop.load() && !stream.ended()) {
          std::vector<ReceivedDelivery> got = stream.ReadAvailable(absl::Milliseconds(300));
          if (got.empty()) continue;
          {
            absl::MutexLock lock(&mu);
            for (const ReceivedDelivery& d : got) {
              delivered[g][d.delivery.event().id()].push_back(
                  Delivered{d.sequence(), d.attempt(), this_stream});
            }
          }
          stream.Ack(AckIdsOf(got));
        }
        stream.Cancel();
      }
    });
  }

  auto wait_accepted = [&](int count) {
    while (accepted.load() < count && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
  };
  // 1. The stream leader's node dies.
  wait_accepted(kTotal / 4);
  absl::StatusOr<StreamProbe> probe = ProbeStream(cluster_->urls(), "REFIR");
  ASSERT_TRUE(probe.ok()) << probe.status();
  const std::string leader = probe->leader;
  ASSERT_FALSE(leader.empty());
  int killed_node = -1;
  for (size_t i = 0; i < cluster_->size(); ++i) {
    if (cluster_->server(static_cast<int>(i)).name() == leader) killed_node = static_cast<int>(i);
  }
  ASSERT_GE(killed_node, 0) << leader;
  cluster_->server(killed_node).Kill();
  // 2. The replica serving the groups dies.
  wait_accepted(kTotal / 2);
  int serving = -1;
  for (const absl::Time until = absl::Now() + absl::Seconds(30); serving < 0 && absl::Now() < until;
       absl::SleepFor(absl::Milliseconds(50))) {
    for (int i = 0; i < 2; ++i) {
      if (SendHttp(bridges_[i]->admin_port(), "GET", "/readyz/groups", "").status == 200)
        serving = i;
    }
  }
  ASSERT_GE(serving, 0) << "no replica serves the groups";
  bridges_[serving]->Kill();
  PublishPorts();
  // 3. Both come back.
  wait_accepted(kTotal * 3 / 4);
  ASSERT_TRUE(cluster_->server(killed_node).Start().ok());
  const absl::Status restarted = bridges_[serving]->Start();
  ASSERT_TRUE(restarted.ok()) << restarted;
  PublishPorts();
  EXPECT_EQ(SendHttp(bridges_[serving]->admin_port(), "GET", "/readyz", "").status, 200);

  for (std::thread& sender : senders) sender.join();
  senders.clear();
  // Every accepted webhook reaches both groups.
  auto all_delivered = [&] {
    absl::MutexLock lock(&mu);
    for (const auto& [id, sequence] : accepted_ids) {
      for (int g = 0; g < 2; ++g) {
        if (delivered[g].count(id) == 0) return false;
      }
    }
    return true;
  };
  while (!all_delivered() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  stop.store(true);
  for (std::thread& consumer : consumers) consumer.join();
  consumers.clear();

  absl::MutexLock lock(&mu);
  if (const std::string drift = KnownServerDrift(DeliveriesAgainstAnswers(accepted_ids, delivered));
      !drift.empty()) {
    GTEST_SKIP() << KnownServerDriftSkip(drift);
  }
  EXPECT_EQ(accepted.load(), kTotal) << "senders gave up on some webhooks";
  EXPECT_EQ(other_answers.load(), 0);
  std::set<uint64_t> sequences;
  for (const auto& [id, sequence] : accepted_ids) {
    EXPECT_TRUE(sequences.insert(sequence).second) << "two webhooks share sequence " << sequence;
  }
  int redelivered = 0;
  for (int g = 0; g < 2; ++g) {
    for (const auto& [id, sequence] : accepted_ids) {
      auto it = delivered[g].find(id);
      ASSERT_NE(it, delivered[g].end()) << kGroups[g] << " never got " << id;
      // A first delivery comes again only on a later stream (after a
      // failover: acks the old server had not checkpointed are lost).
      std::map<int, int> first_deliveries_per_stream;
      for (const Delivered& d : it->second) {
        EXPECT_EQ(d.sequence, sequence) << id;
        if (d.attempt == 1) ++first_deliveries_per_stream[d.stream];
      }
      for (const auto& [stream, count] : first_deliveries_per_stream) {
        EXPECT_LE(count, 1) << kGroups[g] << " " << id << " on stream " << stream;
      }
      redelivered += static_cast<int>(it->second.size()) - 1;
    }
  }
  RecordProperty("unavailable_answers", unavailable.load());
  RecordProperty("redeliveries", redelivered);
  std::cout << "accepted " << accepted.load() << ", 503 answers " << unavailable.load()
            << ", redeliveries " << redelivered << "\n";
}

}  // namespace
}  // namespace refir::bridge::testing
