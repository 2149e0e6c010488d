// SIGTERM, end to end on the real bridge binary: webhooks in flight are
// answered and every one answered 200 is stored, new ones get 503 +
// Retry-After (or find the listener closed), subscriber streams end with
// UNAVAILABLE, consumer groups are checkpointed, and a client that stopped
// reading cannot hold the stop up past the shutdown grace.
#include <signal.h>

#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::UnorderedElementsAreArray;

// The bridge's default --shutdown_grace and --shutdown_drain.
constexpr absl::Duration kShutdownGrace = absl::Seconds(5);
constexpr absl::Duration kShutdownDrain = absl::Seconds(1);

// What the posters saw.
struct LoadRecord {
  std::map<std::string, uint64_t> acknowledged;  // id -> sequence, answered 200
  std::set<std::string> unavailable;             // answered 503
  std::set<std::string> connection_failed;       // no answer at all
  int unavailable_without_retry_after = 0;
  int unavailable_without_json_error = 0;
  std::vector<std::string> unexpected;  // any other answer, described
};

TEST(GracefulShutdownE2ETest, SigtermDuringLoadLosesNoAcknowledgedWebhook) {
  const std::string data_dir = MakeTempDir();
  BridgeProcess bridge(data_dir);
  ASSERT_TRUE(bridge.Start().ok());
  const int port = bridge.http_port();

  absl::Mutex mu;
  LoadRecord record;
  std::atomic<bool> stop{false};
  absl::Notification enough;
  std::vector<std::thread> posters;
  for (int t = 0; t < 8; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; !stop.load() && i < 100000; ++i) {
        const std::string id = absl::StrCat("sigterm-", t, "-", i);
        HttpResult result =
            PostWebhook(port, absl::StrCat(R"({"message":")", id, R"("})"), {{"webhook-id", id}});
        absl::MutexLock lock(&mu);
        if (result.status == 200) {
          if (result.json.is_object() && result.json["id"] == id &&
              result.json["sequence"].is_number_unsigned()) {
            record.acknowledged[id] = result.json["sequence"].get<uint64_t>();
          } else {
            record.unexpected.push_back(absl::StrCat(id, ": 200 with body ", result.body));
          }
          if (record.acknowledged.size() >= 400 && !enough.HasBeenNotified()) enough.Notify();
        } else if (result.status == 503) {
          record.unavailable.insert(id);
          if (result.retry_after.empty()) ++record.unavailable_without_retry_after;
          if (!result.json.is_object() || !result.json.contains("error")) {
            ++record.unavailable_without_json_error;
          }
        } else if (result.status == 0) {
          record.connection_failed.insert(id);
        } else {
          record.unexpected.push_back(absl::StrCat(id, ": ", result.status, " ", result.body));
        }
      }
    });
  }
  const bool loaded = enough.WaitForNotificationWithTimeout(absl::Seconds(30));
  absl::StatusOr<int> exit_code = bridge.Stop();
  stop.store(true);
  for (std::thread& poster : posters) poster.join();
  ASSERT_TRUE(loaded) << "fewer than 400 webhooks acknowledged in 30 s";
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);

  absl::MutexLock lock(&mu);
  EXPECT_THAT(record.unexpected, ::testing::IsEmpty());
  EXPECT_EQ(record.unavailable_without_retry_after, 0) << "every 503 carries Retry-After";
  EXPECT_EQ(record.unavailable_without_json_error, 0) << "every 503 has a JSON error body";
  std::cout << "acknowledged " << record.acknowledged.size() << ", 503 "
            << record.unavailable.size() << ", connection failures "
            << record.connection_failed.size() << "\n";

  BridgeProcess restarted(data_dir);
  ASSERT_TRUE(restarted.Start().ok());
  auto stub = MakeStub(restarted.grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  std::map<std::string, std::vector<uint64_t>> stored;  // id -> sequences
  for (const v1::Event& event : events) stored[event.id()].push_back(event.sequence());
  for (const auto& [id, sequence] : record.acknowledged) {
    auto it = stored.find(id);
    if (it == stored.end()) {
      ADD_FAILURE() << id << " was answered 200 (sequence " << sequence << ") but is not stored";
      continue;
    }
    EXPECT_THAT(it->second, ::testing::ElementsAre(sequence)) << id << " stored exactly once";
  }
  // A 503 means "not taken, retry": such an id was never appended.
  for (const std::string& id : record.unavailable) {
    EXPECT_EQ(stored.count(id), 0u) << id << " was answered 503 but is stored";
  }
  // Whatever is stored beyond the acknowledged ids lost its answer with the
  // connection; it was posted by a poster all the same.
  for (const auto& [id, sequences] : stored) {
    EXPECT_TRUE(record.acknowledged.count(id) > 0 || record.connection_failed.count(id) > 0)
        << id << " is stored but was neither acknowledged nor left without an answer";
  }
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LT(events[i - 1].sequence(), events[i].sequence());
  }
}

TEST(GracefulShutdownE2ETest, SigtermWithASubscribedGroupKeepsItsAcks) {
  const std::string data_dir = MakeTempDir();
  auto bridge = std::make_unique<BridgeProcess>(data_dir);
  ASSERT_TRUE(bridge->Start().ok());
  auto stub = MakeStub(bridge->grpc_target());

  const std::vector<uint64_t> posted = PostEvents(bridge->http_port(), 20);
  ASSERT_EQ(posted.size(), 20u);
  // Every other event acked, so the checkpoint must keep a set, not a cursor.
  std::vector<uint64_t> acked;
  std::vector<uint64_t> unacked;
  {
    v1::SubscribeInit init = GroupInit("graceful", "before");
    init.mutable_start()->mutable_earliest();
    // Long enough that nothing is redelivered for an expired deadline here.
    init.set_ack_deadline_seconds(120);
    init.set_max_delivery_attempts(5);
    GroupStream stream(*stub);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
    ASSERT_TRUE(confirm.ok()) << confirm.status();
    std::vector<ReceivedDelivery> got = stream.ReadDeliveries(20, absl::Seconds(10));
    ASSERT_EQ(got.size(), 20u);
    std::vector<std::string> ack_ids;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].attempt(), 1);
      if (i % 2 == 0) {
        ack_ids.push_back(got[i].ack_id());
        acked.push_back(got[i].sequence());
      } else {
        unacked.push_back(got[i].sequence());
      }
    }
    std::optional<v1::SettleResult> settled = stream.AckAndWait(ack_ids);
    ASSERT_TRUE(settled.has_value());
    ASSERT_EQ(settled->acked(), 10);

    absl::StatusOr<int> exit_code = bridge->Stop();
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
    EXPECT_EQ(*exit_code, 0);
    grpc::Status ended = stream.WaitForEnd(absl::Seconds(10));
    EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE) << ended.error_message();
  }

  bridge = std::make_unique<BridgeProcess>(data_dir);
  ASSERT_TRUE(bridge->Start().ok());
  auto new_stub = MakeStub(bridge->grpc_target());
  v1::SubscribeInit init = GroupInit("graceful", "after");
  init.set_ack_deadline_seconds(120);
  GroupStream stream(*new_stub);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_FALSE(confirm->group_created());
  std::vector<ReceivedDelivery> again = stream.ReadDeliveries(unacked.size(), absl::Seconds(10));
  EXPECT_THAT(SequencesOf(again), UnorderedElementsAreArray(unacked));
  for (const ReceivedDelivery& d : again) {
    EXPECT_GE(d.attempt(), 2) << "sequence " << d.sequence();
  }
  // Nothing else comes: the acked ones were checkpointed at the stop.
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Seconds(1)));
  for (const ReceivedDelivery& d : stream.ReadAvailable(absl::ZeroDuration())) {
    ADD_FAILURE() << "sequence " << d.sequence() << " came again (attempt " << d.attempt() << ")";
  }
  std::optional<v1::SettleResult> settled = stream.AckAndWait(AckIdsOf(again));
  ASSERT_TRUE(settled.has_value());
  EXPECT_EQ(settled->acked(), static_cast<int>(again.size()));
}

TEST(GracefulShutdownE2ETest, ShutdownIsBoundedWithASilentClient) {
  const std::string data_dir = MakeTempDir();
  BridgeProcess bridge(data_dir);
  ASSERT_TRUE(bridge.Start().ok());
  auto stub = MakeStub(bridge.grpc_target());

  // A batch (up to 2 MiB) is far larger than the 64 KiB HTTP/2 stream window,
  // so the bridge's first write to the silent stream stalls: its Finish waits
  // behind that write until the shutdown grace cancels the call (or gRPC in
  // this process polls the socket and grants window, which ends it sooner).
  constexpr int kEvents = 8;
  const std::string filler(512 * 1024, 'x');
  for (int i = 0; i < kEvents; ++i) {
    HttpResult result =
        PostWebhook(bridge.http_port(), absl::StrCat(R"({"message":")", filler, R"("})"));
    ASSERT_EQ(result.status, 200) << result.body;
  }

  v1::SubscribeInit init = GroupInit("silent", "silent");
  init.mutable_start()->mutable_earliest();
  // Sends the init; nothing on this stream is ever read.
  Subscription silent(*stub, init, absl::Seconds(60));
  // The bridge has handed the deliveries to the stream.
  v1::ConsumerGroup group =
      WaitForGroup(*stub, "silent", [](const v1::ConsumerGroup& g) { return g.pending() > 0; });
  ASSERT_GT(group.pending(), 0u) << "the bridge never delivered to the silent stream";

  const absl::Time start = absl::Now();
  absl::StatusOr<int> exit_code = bridge.Stop();
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_LT(took, kShutdownDrain + kShutdownGrace + absl::Seconds(3)) << "the stop took " << took;
  std::cout << "stop with a silent client took " << took << "\n";
}

// The drain (--shutdown_drain): after SIGTERM /readyz turns 503, and for the
// drain period a request on a connection kept alive from before, or on a new
// one, is answered 503 shutting_down with Retry-After and Connection: close,
// and is not stored. Only the webhook answered 200 is.
TEST(GracefulShutdownE2ETest, KeepAliveRequestAfterSigtermIsAnsweredShuttingDown) {
  const std::string data_dir = MakeTempDir();
  // Long enough that the requests below are made inside it; the test waits
  // on /readyz, not on time.
  BridgeProcess bridge(data_dir, {"--shutdown_drain=5s"});
  ASSERT_TRUE(bridge.Start().ok());

  httplib::Client client("127.0.0.1", bridge.http_port());
  client.set_keep_alive(true);
  const httplib::Headers json_headers = {{"webhook-id", "before-sigterm"}};
  httplib::Result before = client.Post("/webhook", json_headers, R"({"n":1})", "application/json");
  ASSERT_TRUE(before) << httplib::to_string(before.error());
  ASSERT_EQ(before->status, 200) << before->body;
  EXPECT_NE(before->get_header_value("Connection"), "close") << "kept alive";

  ASSERT_EQ(kill(bridge.pid(), SIGTERM), 0);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int ready_status = 0;
  while (absl::Now() < deadline) {
    ready_status = SendHttp(bridge.admin_port(), "GET", "/readyz", "").status;
    if (ready_status == 503) break;
    absl::SleepFor(absl::Milliseconds(10));  // Polling another process's state.
  }
  ASSERT_EQ(ready_status, 503) << "/readyz did not turn 503 after SIGTERM";

  httplib::Result after =
      client.Post("/webhook", {{"webhook-id", "after-sigterm"}}, R"({"n":2})", "application/json");
  ASSERT_TRUE(after) << httplib::to_string(after.error());
  EXPECT_EQ(after->status, 503) << after->body;
  EXPECT_EQ(after->get_header_value("Retry-After"), "1");
  EXPECT_EQ(after->get_header_value("Connection"), "close");
  nlohmann::json body = nlohmann::json::parse(after->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << after->body;
  EXPECT_EQ(body["error"], "shutting_down") << after->body;

  HttpResult fresh = PostWebhook(bridge.http_port(), R"({"n":3})", {{"webhook-id", "fresh"}});
  EXPECT_EQ(fresh.status, 503) << fresh.body;
  ASSERT_TRUE(fresh.json.is_object()) << fresh.body;
  EXPECT_EQ(fresh.json["error"], "shutting_down") << fresh.body;
  EXPECT_EQ(fresh.retry_after, "1");

  absl::StatusOr<int> exit_code = bridge.Stop();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);

  BridgeProcess restarted(data_dir);
  ASSERT_TRUE(restarted.Start().ok());
  auto stub = MakeStub(restarted.grpc_target());
  std::vector<std::string> stored;
  for (const v1::Event& event : ListAllEvents(*stub)) stored.push_back(event.id());
  EXPECT_THAT(stored, ::testing::ElementsAre("before-sigterm"));
}

}  // namespace
}  // namespace refir::bridge::testing
