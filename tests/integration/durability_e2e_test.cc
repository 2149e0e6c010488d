// Every webhook answered 200 survives a restart of the bridge, and a kill -9
// in the middle of a load, on both journals (a SQLite file; a JetStream
// stream on a real nats-server, which keeps running).
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/bridge_test.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using DurabilityE2ETest = JournalTest;

TEST_P(DurabilityE2ETest, RestartKeepsEveryEventAndContinuesSequences) {
  const std::string data_dir = MakeTempDir();
  std::map<std::string, uint64_t> stored;  // id -> sequence
  {
    std::unique_ptr<BridgeProcess> bridge = MakeBridge({}, data_dir);
    ASSERT_TRUE(bridge->Start().ok());
    for (int i = 0; i < 50; ++i) {
      HttpResult result =
          PostWebhook(bridge->http_port(), absl::StrCat(R"({"message":"m)", i, R"("})"),
                      {{"webhook-id", absl::StrCat("wh-", i)}});
      ASSERT_EQ(result.status, 200);
      stored[result.json["id"]] = result.json["sequence"];
    }
    absl::StatusOr<int> exit_code = bridge->Stop();
    ASSERT_TRUE(exit_code.ok()) << exit_code.status();
    EXPECT_EQ(*exit_code, 0);
  }
  std::unique_ptr<BridgeProcess> bridge = MakeBridge({}, data_dir);
  ASSERT_TRUE(bridge->Start().ok());
  auto stub = MakeStub(bridge->grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  ASSERT_EQ(events.size(), stored.size());
  for (const v1::Event& event : events) {
    ASSERT_EQ(stored.count(event.id()), 1u) << event.id();
    EXPECT_EQ(stored[event.id()], event.sequence());
  }
  HttpResult next = PostWebhook(bridge->http_port(), "{}");
  ASSERT_EQ(next.status, 200);
  EXPECT_EQ(next.json["sequence"], 51);
  // A resend of a webhook-id stored before the restart is still a duplicate.
  const std::string old_id = stored.begin()->first;
  HttpResult dup = PostWebhook(bridge->http_port(), "{}", {{"webhook-id", old_id}});
  ASSERT_EQ(dup.status, 200);
  EXPECT_EQ(dup.json["sequence"], stored.begin()->second);
  EXPECT_EQ(dup.json["duplicate"], true);
}

TEST_P(DurabilityE2ETest, KillNineUnderLoadLosesNoAcknowledgedEvent) {
  const std::string data_dir = MakeTempDir();
  std::unique_ptr<BridgeProcess> bridge = MakeBridge({}, data_dir);
  ASSERT_TRUE(bridge->Start().ok());
  const int port = bridge->http_port();

  absl::Mutex mu;
  std::vector<std::string> acknowledged;  // ids answered 200
  std::atomic<bool> stop{false};
  absl::Notification enough;
  std::vector<std::thread> posters;
  for (int t = 0; t < 8; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; !stop.load() && i < 100000; ++i) {
        const std::string id = absl::StrCat("load-", t, "-", i);
        HttpResult result =
            PostWebhook(port, absl::StrCat(R"({"message":")", id, R"("})"), {{"webhook-id", id}});
        if (result.status != 200) break;  // the bridge is gone
        absl::MutexLock lock(&mu);
        acknowledged.push_back(id);
        if (acknowledged.size() == 400 && !enough.HasBeenNotified()) enough.Notify();
      }
    });
  }
  ASSERT_TRUE(enough.WaitForNotificationWithTimeout(absl::Seconds(60)));
  bridge->Kill();
  stop.store(true);
  for (std::thread& poster : posters) poster.join();

  std::unique_ptr<BridgeProcess> restarted = MakeBridge({}, data_dir);
  ASSERT_TRUE(restarted->Start().ok());
  auto stub = MakeStub(restarted->grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  std::set<std::string> stored_ids;
  for (const v1::Event& event : events) stored_ids.insert(event.id());
  absl::MutexLock lock(&mu);
  ASSERT_GE(acknowledged.size(), 400u);
  for (const std::string& id : acknowledged) {
    EXPECT_EQ(stored_ids.count(id), 1u) << id << " was answered 200 but is not stored";
  }
  // Sequences stay strictly increasing and unique.
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_LT(events[i - 1].sequence(), events[i].sequence());
  }
}

INSTANTIATE_TEST_SUITE_P(Journals, DurabilityE2ETest, AllJournalBackends(), JournalBackendName);

}  // namespace
}  // namespace refir::bridge::testing
