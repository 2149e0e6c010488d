// Consumer groups, end to end on the real bridge binary: init validation,
// confirm defaults, heartbeats, and the admin RPCs (GetConsumerGroup,
// ListConsumerGroups, SeekConsumerGroup, DeleteConsumerGroup and the NOT_FOUND
// answers of every group RPC).
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/bridge_test.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

class ConsumerGroupAdminE2ETest : public BridgeTest {
 protected:
  int port() const { return bridge_->http_port(); }

  std::vector<std::string> GroupNames() {
    grpc::ClientContext context;
    v1::ListConsumerGroupsResponse response;
    grpc::Status status =
        stub_->ListConsumerGroups(&context, v1::ListConsumerGroupsRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> names;
    for (const v1::ConsumerGroup& group : response.groups()) names.push_back(group.name());
    return names;
  }

  grpc::Status Seek(const v1::SeekConsumerGroupRequest& request,
                    v1::SeekConsumerGroupResponse* response) {
    grpc::ClientContext context;
    return stub_->SeekConsumerGroup(&context, request, response);
  }

  grpc::Status Delete(const std::string& name) {
    grpc::ClientContext context;
    v1::DeleteConsumerGroupRequest request;
    request.set_name(name);
    google::protobuf::Empty empty;
    return stub_->DeleteConsumerGroup(&context, request, &empty);
  }
};

// --- 12. Bad inits and unknown groups ----------------------------------------

TEST_F(ConsumerGroupAdminE2ETest, FirstMessageThatIsNotAnInitIsInvalidArgument) {
  std::vector<v1::SubscribeRequest> firsts(4);
  firsts[0].mutable_settle()->add_ack_ids("x");
  firsts[1].mutable_flow()->set_max_outstanding(5);
  firsts[2].mutable_extend()->add_ack_ids("x");
  firsts[2].mutable_extend()->set_seconds(5);
  // firsts[3]: an empty request.
  for (const v1::SubscribeRequest& first : firsts) {
    SCOPED_TRACE(first.ShortDebugString());
    GroupStream stream(*stub_);
    stream.Send(first);
    grpc::Status status = stream.WaitForEnd(absl::Seconds(10));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  }
}

TEST_F(ConsumerGroupAdminE2ETest, OutOfRangeInitFieldsAreInvalidArgument) {
  struct BadInit {
    std::string what;
    v1::SubscribeInit init;
    bool check_not_created;
  };
  auto with = [](void (*set)(v1::SubscribeInit&)) {
    v1::SubscribeInit init = GroupInit("bad-init");
    set(init);
    return init;
  };
  const std::vector<BadInit> cases = {
      {"name with a space", GroupInit("has space"), false},
      {"name with a slash", GroupInit("a/b"), false},
      {"name of 129 characters", GroupInit(std::string(129, 'g')), false},
      {"ack_deadline_seconds 601",
       with([](v1::SubscribeInit& i) { i.set_ack_deadline_seconds(601); }), true},
      {"ack_deadline_seconds -1",
       with([](v1::SubscribeInit& i) { i.set_ack_deadline_seconds(-1); }), true},
      {"max_outstanding 10001", with([](v1::SubscribeInit& i) { i.set_max_outstanding(10001); }),
       true},
      {"max_outstanding -1", with([](v1::SubscribeInit& i) { i.set_max_outstanding(-1); }), true},
      {"max_delivery_attempts 101",
       with([](v1::SubscribeInit& i) { i.set_max_delivery_attempts(101); }), true},
      {"max_delivery_attempts -1",
       with([](v1::SubscribeInit& i) { i.set_max_delivery_attempts(-1); }), true},
      {"heartbeat_seconds 301", with([](v1::SubscribeInit& i) { i.set_heartbeat_seconds(301); }),
       true},
      {"max_batch 1001", with([](v1::SubscribeInit& i) { i.set_max_batch(1001); }), true},
  };
  for (const BadInit& c : cases) {
    SCOPED_TRACE(c.what);
    GroupStream stream(*stub_);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(c.init);
    EXPECT_EQ(confirm.status().code(), absl::StatusCode::kInvalidArgument) << confirm.status();
    if (c.check_not_created) {
      v1::ConsumerGroup group;
      EXPECT_EQ(GetGroup(*stub_, "bad-init", &group).error_code(), grpc::StatusCode::NOT_FOUND)
          << "a refused init creates no group";
    }
  }
  EXPECT_THAT(GroupNames(), IsEmpty());
}

TEST_F(ConsumerGroupAdminE2ETest, LimitValuesAreAcceptedAndEchoed) {
  const std::string name =
      std::string("Az09._-") + std::string(121, 'n');  // 128 characters from the allowed set
  ASSERT_EQ(name.size(), 128u);
  v1::SubscribeInit init = GroupInit(name, "limits");
  init.set_ack_deadline_seconds(600);
  init.set_max_outstanding(10000);
  init.set_max_delivery_attempts(100);
  init.set_heartbeat_seconds(300);
  init.set_max_batch(1000);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_EQ(confirm->consumer_group(), name);
  EXPECT_EQ(confirm->client_id(), "limits");
  EXPECT_TRUE(confirm->group_created());
  EXPECT_EQ(confirm->ack_deadline_seconds(), 600);
  EXPECT_EQ(confirm->max_outstanding(), 10000);
  EXPECT_EQ(confirm->max_delivery_attempts(), 100);
  EXPECT_EQ(confirm->heartbeat_seconds(), 300);
  EXPECT_EQ(confirm->max_batch(), 1000);

  v1::SubscribeInit min = GroupInit("m", "minimum");
  min.set_ack_deadline_seconds(1);
  min.set_max_outstanding(1);
  min.set_max_delivery_attempts(1);
  min.set_heartbeat_seconds(1);
  min.set_max_batch(1);
  GroupStream small(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> min_confirm = small.Open(min);
  ASSERT_TRUE(min_confirm.ok()) << min_confirm.status();
  EXPECT_EQ(min_confirm->ack_deadline_seconds(), 1);
  EXPECT_EQ(min_confirm->max_outstanding(), 1);
  EXPECT_EQ(min_confirm->max_delivery_attempts(), 1);
  EXPECT_EQ(min_confirm->heartbeat_seconds(), 1);
  EXPECT_EQ(min_confirm->max_batch(), 1);
}

TEST_F(ConsumerGroupAdminE2ETest, ConfirmReportsDefaults) {
  PostEvents(port(), 2);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(GroupInit("defaults", "d"));
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_EQ(confirm->consumer_group(), "defaults");
  EXPECT_EQ(confirm->client_id(), "d");
  EXPECT_TRUE(confirm->group_created());
  EXPECT_EQ(confirm->ack_deadline_seconds(), 30);
  EXPECT_EQ(confirm->max_outstanding(), 1000);
  EXPECT_EQ(confirm->max_delivery_attempts(), 5);
  EXPECT_EQ(confirm->heartbeat_seconds(), 15);
  EXPECT_EQ(confirm->max_batch(), 100);
  EXPECT_THAT(confirm->filter().types(), IsEmpty());
  EXPECT_EQ(confirm->head_sequence(), 2u);
  EXPECT_EQ(confirm->start_sequence(), 3u);
}

TEST_F(ConsumerGroupAdminE2ETest, EveryGroupRpcAnswersNotFoundForAnUnknownGroup) {
  const std::string name = "no-such-group";
  {
    v1::ConsumerGroup group;
    EXPECT_EQ(GetGroup(*stub_, name, &group).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    v1::SeekConsumerGroupRequest request;
    request.set_name(name);
    request.set_sequence(1);
    v1::SeekConsumerGroupResponse response;
    EXPECT_EQ(Seek(request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    v1::ListDeadLettersRequest request;
    request.set_name(name);
    v1::ListDeadLettersResponse response;
    EXPECT_EQ(stub_->ListDeadLetters(&context, request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    v1::RequeueDeadLettersRequest request;
    request.set_name(name);
    request.set_all(true);
    v1::RequeueDeadLettersResponse response;
    EXPECT_EQ(stub_->RequeueDeadLetters(&context, request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_EQ(Delete(name).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(GroupNames(), IsEmpty()) << "no RPC created the group";
}

// --- 14. Heartbeats -------------------------------------------------------------

TEST_F(ConsumerGroupAdminE2ETest, IdleStreamGetsHeartbeats) {
  PostEvents(port(), 2);
  v1::SubscribeInit init = GroupInit("heartbeat");
  init.set_heartbeat_seconds(1);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_EQ(confirm->heartbeat_seconds(), 1);

  std::optional<v1::Heartbeat> heartbeat = stream.WaitForHeartbeat(absl::Seconds(3));
  ASSERT_TRUE(heartbeat.has_value()) << "no heartbeat within 3 s";
  EXPECT_EQ(heartbeat->head_sequence(), 2u);
  EXPECT_LT(absl::AbsDuration(ToAbslTime(heartbeat->server_time()) - absl::Now()),
            absl::Seconds(10));
  std::optional<v1::Heartbeat> next = stream.WaitForHeartbeat(absl::Seconds(3));
  ASSERT_TRUE(next.has_value()) << "heartbeats keep coming";
  EXPECT_EQ(stream.QueuedDeliveries(), 0u);
}

// --- 15. Admin RPCs -------------------------------------------------------------

TEST_F(ConsumerGroupAdminE2ETest, GetConsumerGroupReportsPositionsPendingAndConsumers) {
  PostEvents(port(), 10);
  const absl::Time before_create = absl::Now();
  v1::SubscribeInit init = GroupInit("admin", "worker-1");
  init.mutable_start()->mutable_earliest();
  init.set_max_outstanding(3);
  init.set_ack_deadline_seconds(600);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();

  std::vector<ReceivedDelivery> first = stream.ReadDeliveries(3, absl::Seconds(10));
  ASSERT_EQ(first.size(), 3u);
  std::optional<v1::SettleResult> acked = stream.AckAndWait({first[0].ack_id()});
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 1);
  std::vector<ReceivedDelivery> fourth = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(fourth.size(), 1u);
  EXPECT_EQ(fourth[0].sequence(), 4u);

  // Delivered 1-4, acked 1: 2, 3 and 4 pending, 5 is next.
  v1::ConsumerGroup group = WaitForGroup(*stub_, "admin", [](const v1::ConsumerGroup& g) {
    return g.cursor_sequence() == 5 && g.pending() == 3;
  });
  EXPECT_EQ(group.name(), "admin");
  EXPECT_THAT(group.filter().types(), IsEmpty());
  EXPECT_EQ(group.max_delivery_attempts(), 5);
  EXPECT_GE(ToAbslTime(group.created_at()), before_create - absl::Seconds(5));
  EXPECT_LE(ToAbslTime(group.created_at()), absl::Now() + absl::Seconds(5));
  EXPECT_EQ(group.head_sequence(), 10u);
  EXPECT_EQ(group.cursor_sequence(), 5u);
  EXPECT_EQ(group.ack_floor(), 2u);
  EXPECT_EQ(group.lag(), 6u);
  EXPECT_EQ(group.pending(), 3u);
  EXPECT_EQ(group.redelivered(), 0u);
  EXPECT_EQ(group.dead_letters(), 0u);
  ASSERT_EQ(group.consumers_size(), 1);
  EXPECT_EQ(group.consumers(0).client_id(), "worker-1");
  EXPECT_FALSE(group.consumers(0).peer().empty());
  EXPECT_EQ(group.consumers(0).outstanding(), 3);
  EXPECT_EQ(group.consumers(0).max_outstanding(), 3);
  EXPECT_GT(group.consumers(0).connected_at().seconds(), 1600000000);

  // A second consumer shows up too.
  GroupStream other(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> other_confirm = other.Open(GroupInit("admin", "worker-2"));
  ASSERT_TRUE(other_confirm.ok()) << other_confirm.status();
  group = WaitForGroup(*stub_, "admin",
                       [](const v1::ConsumerGroup& g) { return g.consumers_size() == 2; });
  std::vector<std::string> client_ids;
  for (const v1::ConnectedConsumer& consumer : group.consumers()) {
    client_ids.push_back(consumer.client_id());
  }
  EXPECT_THAT(client_ids, UnorderedElementsAre("worker-1", "worker-2"));
}

TEST_F(ConsumerGroupAdminE2ETest, ListConsumerGroupsListsEveryGroup) {
  EXPECT_THAT(GroupNames(), IsEmpty());
  for (const char* name : {"alpha", "beta", "gamma"}) {
    GroupStream stream(*stub_);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(GroupInit(name));
    ASSERT_TRUE(confirm.ok()) << confirm.status();
    stream.Cancel();
  }
  EXPECT_THAT(GroupNames(), UnorderedElementsAre("alpha", "beta", "gamma"))
      << "groups are durable: they outlive their streams";
}

TEST_F(ConsumerGroupAdminE2ETest, SeekReplaysAndForgetsOutstandingDeliveries) {
  const std::vector<uint64_t> posted = PostEvents(port(), 6);
  v1::SubscribeInit init = GroupInit("seek");
  init.mutable_start()->mutable_earliest();
  init.set_ack_deadline_seconds(600);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  std::vector<ReceivedDelivery> first = stream.ReadDeliveries(6, absl::Seconds(10));
  ASSERT_EQ(first.size(), 6u);
  std::optional<v1::SettleResult> acked = stream.AckAndWait(
      {first[0].ack_id(), first[1].ack_id(), first[2].ack_id(), first[3].ack_id()});
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 4);

  v1::SeekConsumerGroupRequest request;
  request.set_name("seek");
  request.set_sequence(2);
  v1::SeekConsumerGroupResponse response;
  grpc::Status status = Seek(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.cursor_sequence(), 2u);

  std::vector<ReceivedDelivery> replay = stream.ReadDeliveries(5, absl::Seconds(10));
  EXPECT_THAT(SequencesOf(replay), ElementsAre(2u, 3u, 4u, 5u, 6u));
  std::optional<v1::SettleResult> stale = stream.AckAndWait({first[4].ack_id(), first[5].ack_id()});
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale->acked(), 0);
  EXPECT_THAT(stale->expired_ack_ids(), UnorderedElementsAre(first[4].ack_id(), first[5].ack_id()))
      << "a seek forgets outstanding deliveries";
  acked = stream.AckAndWait(AckIdsOf(replay));
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 5);
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Milliseconds(500)));

  // Latest: only events stored from now on.
  request.clear_target();
  request.mutable_latest();
  status = Seek(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.cursor_sequence(), posted.back() + 1);
  const uint64_t next = PostEvent(port());
  std::vector<ReceivedDelivery> live = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].sequence(), next);
  acked = stream.AckAndWait(AckIdsOf(live));
  ASSERT_TRUE(acked.has_value());

  // Time: the first event received at or after it.
  const std::vector<v1::Event> events = ListAllEvents(*stub_);
  ASSERT_EQ(events.size(), 7u);
  const absl::Time at = ToAbslTime(events[3].received_at());
  uint64_t expected = 0;
  for (const v1::Event& event : events) {
    if (ToAbslTime(event.received_at()) >= at) {
      expected = event.sequence();
      break;
    }
  }
  request.clear_target();
  *request.mutable_time() = events[3].received_at();
  status = Seek(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.cursor_sequence(), expected);
  std::vector<ReceivedDelivery> from_time = stream.ReadDeliveries(8 - expected, absl::Seconds(10));
  ASSERT_EQ(from_time.size(), 8 - expected);
  EXPECT_EQ(from_time.front().sequence(), expected);
  acked = stream.AckAndWait(AckIdsOf(from_time));
  ASSERT_TRUE(acked.has_value());

  // Earliest: the oldest stored event.
  request.clear_target();
  request.mutable_earliest();
  status = Seek(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.cursor_sequence(), 1u);
  std::vector<ReceivedDelivery> all = stream.ReadDeliveries(7, absl::Seconds(10));
  EXPECT_THAT(SequencesOf(all), ElementsAre(1u, 2u, 3u, 4u, 5u, 6u, 7u));

  v1::ConsumerGroup group;
  ASSERT_TRUE(GetGroup(*stub_, "seek", &group).ok());
  EXPECT_EQ(group.cursor_sequence(), 8u);
}

TEST_F(ConsumerGroupAdminE2ETest, DeleteIsRefusedWhileAStreamIsConnected) {
  {
    GroupStream stream(*stub_);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(GroupInit("doomed"));
    ASSERT_TRUE(confirm.ok()) << confirm.status();
    EXPECT_EQ(Delete("doomed").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    v1::ConsumerGroup group;
    EXPECT_TRUE(GetGroup(*stub_, "doomed", &group).ok()) << "a refused delete keeps the group";
    stream.Cancel();
    stream.WaitForEnd(absl::Seconds(10));
  }
  v1::ConsumerGroup group = WaitForGroup(
      *stub_, "doomed", [](const v1::ConsumerGroup& g) { return g.consumers_size() == 0; });
  EXPECT_EQ(group.consumers_size(), 0) << "the closed stream left the group";
  grpc::Status deleted = Delete("doomed");
  EXPECT_TRUE(deleted.ok()) << deleted.error_code() << " " << deleted.error_message();
  EXPECT_EQ(GetGroup(*stub_, "doomed", &group).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(GroupNames(), Not(Contains("doomed")));
  EXPECT_EQ(Delete("doomed").error_code(), grpc::StatusCode::NOT_FOUND);

  GroupStream again(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = again.Open(GroupInit("doomed"));
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_TRUE(confirm->group_created()) << "the name is free again";
}

}  // namespace
}  // namespace refir::bridge::testing
