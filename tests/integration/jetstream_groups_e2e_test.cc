// Consumer groups on the JetStream journal, end to end: two real bridge
// replicas on one real nats-server. One replica serves the groups (it holds
// the coordinator lease), the other is a standby that still takes webhooks
// and forwards group calls to it (jetstream_group_forwarding_e2e_test covers
// the forwarding); when the serving replica is killed (-9), the standby
// takes the groups over with their state: acked events are not delivered
// again, the unacked one is redelivered, new events flow, and the killed
// replica comes back as a standby.
#include <nats/nats.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/journal/group_state.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"
#include "tests/nats/nats_server_process.h"

namespace refir::bridge::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The group's state as last checkpointed in the KeyValue bucket, read
// directly with cnats (an empty state when absent or unreadable).
internal::GroupState StoredGroupState(const std::string& url, const std::string& group) {
  internal::GroupState state;
  natsConnection* connection = nullptr;
  if (natsConnection_ConnectTo(&connection, url.c_str()) != NATS_OK) return state;
  jsCtx* js = nullptr;
  kvStore* kv = nullptr;
  kvEntry* entry = nullptr;
  if (natsConnection_JetStream(&js, connection, nullptr) == NATS_OK &&
      js_KeyValue(&kv, js, "REFIR_GROUPS") == NATS_OK &&
      kvStore_Get(&entry, kv, absl::StrCat("g.", group).c_str()) == NATS_OK) {
    state.ParseFromArray(kvEntry_Value(entry), kvEntry_ValueLen(entry));
  }
  kvEntry_Destroy(entry);
  kvStore_Destroy(kv);
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  return state;
}

class JetStreamGroupsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = MakeTempDir();
    NatsServerOptions options;
    options.store_dir = dir + "/nats";
    nats_ = std::make_unique<NatsServerProcess>(options);
    ASSERT_TRUE(nats_->Start().ok());
    const std::vector<std::string> flags = {"--journal=jetstream",
                                            absl::StrCat("--nats_servers=", nats_->url()),
                                            "--group_lease=1s", "--shutdown_drain=0s"};
    first_ = std::make_unique<BridgeProcess>(dir + "/first", flags);
    ASSERT_TRUE(first_->Start().ok());
    second_ = std::make_unique<BridgeProcess>(dir + "/second", flags);
    ASSERT_TRUE(second_->Start().ok());
  }

  std::unique_ptr<NatsServerProcess> nats_;
  std::unique_ptr<BridgeProcess> first_;
  std::unique_ptr<BridgeProcess> second_;
};

TEST_F(JetStreamGroupsE2eTest, AStandbyTakesTheGroupsOverWithTheirState) {
  auto first_stub = MakeStub(first_->grpc_target());
  auto second_stub = MakeStub(second_->grpc_target());
  // Webhooks go to either replica: one stream, one sequence.
  EXPECT_EQ(PostEvent(first_->http_port()), 1u);
  EXPECT_EQ(PostEvent(second_->http_port()), 2u);
  EXPECT_EQ(PostEvent(second_->http_port()), 3u);

  // The second replica is a standby: only the first is ready for consumers
  // (/readyz/groups), and the standby names it there.
  EXPECT_EQ(SendHttp(first_->admin_port(), "GET", "/readyz/groups", "").status, 200);
  const HttpResult standby_ready = SendHttp(second_->admin_port(), "GET", "/readyz/groups", "");
  EXPECT_EQ(standby_ready.status, 503);
  EXPECT_THAT(standby_ready.body, HasSubstr("standby"));
  EXPECT_THAT(standby_ready.body, HasSubstr(absl::StrCat("127.0.0.1:", first_->grpc_port())));
  EXPECT_EQ(SendHttp(second_->admin_port(), "GET", "/readyz", "").status, 200);  // it still ingests

  v1::SubscribeInit init = GroupInit("crm");
  init.mutable_start()->mutable_earliest();
  {
    GroupStream stream(*first_stub);
    ASSERT_TRUE(stream.Open(init).ok());
    std::vector<ReceivedDelivery> got = stream.ReadDeliveries(3, absl::Seconds(10));
    ASSERT_THAT(SequencesOf(got), ElementsAre(1, 2, 3));
    ASSERT_TRUE(stream.AckAndWait({got[0].ack_id(), got[1].ack_id()}).has_value());
    // Wait until the acks are checkpointed in the bucket: only 3 unsettled.
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    internal::GroupState state;
    while (absl::Now() < deadline) {
      state = StoredGroupState(nats_->url(), "crm");
      if (state.cursor() >= 4 && state.unsettled_sequences_size() == 1) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_THAT(state.unsettled_sequences(), ElementsAre(3));
    first_->Kill();
  }

  // The standby takes over once the lease runs out.
  std::unique_ptr<GroupStream> taken_over;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    auto stream = std::make_unique<GroupStream>(*second_stub);
    if (stream->Open(init).ok()) {
      taken_over = std::move(stream);
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_NE(taken_over, nullptr) << "the standby never took the groups over";
  EXPECT_EQ(SendHttp(second_->admin_port(), "GET", "/readyz/groups", "").status, 200);
  std::vector<ReceivedDelivery> again = taken_over->ReadDeliveries(1, absl::Seconds(10));
  ASSERT_THAT(SequencesOf(again), ElementsAre(3));
  EXPECT_EQ(again[0].attempt(), 2);
  EXPECT_TRUE(taken_over->NoDeliveryFor(absl::Milliseconds(500)));  // 1 and 2 stay acked
  EXPECT_EQ(PostEvent(second_->http_port()), 4u);
  std::vector<ReceivedDelivery> fresh = taken_over->ReadDeliveries(1, absl::Seconds(10));
  ASSERT_THAT(SequencesOf(fresh), ElementsAre(4));
  ASSERT_TRUE(taken_over->AckAndWait({again[0].ack_id(), fresh[0].ack_id()}).has_value());

  // The killed replica comes back as a standby, naming its successor, and
  // forwards group calls to it.
  ASSERT_TRUE(first_->Start().ok());
  const HttpResult restarted_ready = SendHttp(first_->admin_port(), "GET", "/readyz/groups", "");
  EXPECT_EQ(restarted_ready.status, 503);
  EXPECT_THAT(restarted_ready.body, HasSubstr(absl::StrCat("127.0.0.1:", second_->grpc_port())));
  auto restarted_stub = MakeStub(first_->grpc_target());
  v1::ConsumerGroup group;
  ASSERT_TRUE(GetGroup(*restarted_stub, "crm", &group).ok());
  EXPECT_EQ(group.consumers_size(), 1);
  EXPECT_EQ(PostEvent(first_->http_port()), 5u);
  EXPECT_THAT(SequencesOf(taken_over->ReadDeliveries(1, absl::Seconds(10))), ElementsAre(5));
}

}  // namespace
}  // namespace refir::bridge::testing
