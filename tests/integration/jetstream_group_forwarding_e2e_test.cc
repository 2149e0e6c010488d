// Any replica serves any consumer group, end to end: two real bridge
// replicas on one real nats-server, the first serving the groups (it holds
// the coordinator lease), the second a standby that forwards every
// consumer-group call to it: Subscribe streams proxied byte for byte, the
// admin RPCs answered as the serving replica answers them, tokens checked
// on the standby first and again where the call is served. A forwarded call
// is never forwarded again (the loop guard), and when the serving replica
// dies, the proxied stream ends UNAVAILABLE and the client's resubscribe
// reaches the standby once it took the groups over.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"
#include "tests/nats/nats_server_process.h"

namespace refir::bridge::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

constexpr char kTokensFile[] = R"(# name  token                   groups
alpha   alpha-token-0123456789  crm
)";
constexpr char kAlphaToken[] = "alpha-token-0123456789";

std::chrono::system_clock::time_point In(absl::Duration duration) {
  return absl::ToChronoTime(absl::Now() + duration);
}

// The value of refir_bridge_group_calls_forwarded_total on `admin_port`'s
// /metrics; -1 when absent.
double ForwardedTotal(int admin_port) {
  const HttpResult metrics = SendHttp(admin_port, "GET", "/metrics", "");
  for (absl::string_view line : absl::StrSplit(metrics.body, '\n')) {
    if (!absl::ConsumePrefix(&line, "refir_bridge_group_calls_forwarded_total ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return value;
  }
  return -1;
}

// A status as the test compares them: code and message.
std::string Describe(const grpc::Status& status) {
  return absl::StrCat(status.error_code(), ": ", status.error_message());
}

class JetStreamGroupForwardingE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    NatsServerOptions options;
    options.store_dir = dir_ + "/nats";
    nats_ = std::make_unique<NatsServerProcess>(options);
    ASSERT_TRUE(nats_->Start().ok());
  }

  // The first replica started serves the groups; the second is a standby.
  void StartReplicas(std::vector<std::string> extra_flags = {}) {
    std::vector<std::string> flags = {"--journal=jetstream",
                                      absl::StrCat("--nats_servers=", nats_->url()),
                                      "--group_lease=1s", "--shutdown_drain=0s"};
    flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
    serving_ = std::make_unique<BridgeProcess>(dir_ + "/serving", flags);
    ASSERT_TRUE(serving_->Start().ok());
    standby_ = std::make_unique<BridgeProcess>(dir_ + "/standby", flags);
    ASSERT_TRUE(standby_->Start().ok());
    ASSERT_EQ(SendHttp(serving_->admin_port(), "GET", "/readyz/groups", "").status, 200);
    ASSERT_EQ(SendHttp(standby_->admin_port(), "GET", "/readyz/groups", "").status, 503);
  }

  std::string dir_;
  std::unique_ptr<NatsServerProcess> nats_;
  std::unique_ptr<BridgeProcess> serving_;
  std::unique_ptr<BridgeProcess> standby_;
};

TEST_F(JetStreamGroupForwardingE2eTest, ASubscriberOnTheStandbyGetsEveryEventAndItsAcksTakeEffect) {
  ASSERT_NO_FATAL_FAILURE(StartReplicas());
  auto serving_stub = MakeStub(serving_->grpc_target());
  auto standby_stub = MakeStub(standby_->grpc_target());
  const std::vector<uint64_t> posted = PostEvents(standby_->http_port(), 30);
  ASSERT_EQ(posted.size(), 30u);

  v1::SubscribeInit init = GroupInit("crm", "on-standby");
  init.mutable_start()->mutable_earliest();
  init.set_max_batch(7);
  GroupStream stream(*standby_stub);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_EQ(confirm->consumer_group(), "crm");
  EXPECT_TRUE(confirm->group_created());
  EXPECT_EQ(confirm->max_batch(), 7);

  std::vector<ReceivedDelivery> got = stream.ReadDeliveries(30, absl::Seconds(10));
  ASSERT_THAT(SequencesOf(got), ElementsAreArray(posted));
  std::optional<v1::SettleResult> settled = stream.AckAndWait(AckIdsOf(got));
  ASSERT_TRUE(settled.has_value());
  EXPECT_EQ(settled->acked(), 30);

  // The serving replica holds the group, the stream (attached from the
  // standby) and the acks.
  v1::ConsumerGroup group = WaitForGroup(*serving_stub, "crm", [](const v1::ConsumerGroup& g) {
    return g.ack_floor() == 31 && g.pending() == 0;
  });
  EXPECT_EQ(group.ack_floor(), 31u);
  EXPECT_EQ(group.pending(), 0u);
  EXPECT_EQ(group.redelivered(), 0u);
  ASSERT_EQ(group.consumers_size(), 1);
  EXPECT_EQ(group.consumers(0).client_id(), "on-standby");
  // Nothing comes again, and new events keep flowing through the proxy.
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Milliseconds(500)));
  const uint64_t next = PostEvent(serving_->http_port());
  EXPECT_THAT(SequencesOf(stream.ReadDeliveries(1, absl::Seconds(10))), ElementsAre(next));
  EXPECT_GE(ForwardedTotal(standby_->admin_port()), 1);
  EXPECT_EQ(ForwardedTotal(serving_->admin_port()), 0);

  // The client's cancel reaches the serving replica, which drops the
  // consumer.
  stream.Cancel();
  EXPECT_EQ(stream.WaitForEnd(absl::Seconds(10)).error_code(), grpc::StatusCode::CANCELLED);
  group = WaitForGroup(*serving_stub, "crm",
                       [](const v1::ConsumerGroup& g) { return g.consumers_size() == 0; });
  EXPECT_EQ(group.consumers_size(), 0);
  EXPECT_EQ(stream.unexpected_responses(), 0);
}

TEST_F(JetStreamGroupForwardingE2eTest, AStreamRefusedByTheServingReplicaEndsWithItsStatus) {
  ASSERT_NO_FATAL_FAILURE(StartReplicas());
  auto serving_stub = MakeStub(serving_->grpc_target());
  auto standby_stub = MakeStub(standby_->grpc_target());
  v1::SubscribeInit init = GroupInit("crm");
  init.set_max_batch(100000);
  GroupStream on_serving(*serving_stub);
  GroupStream on_standby(*standby_stub);
  const absl::Status direct = on_serving.Open(init).status();
  const absl::Status forwarded = on_standby.Open(init).status();
  EXPECT_EQ(direct.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(forwarded, direct);
}

TEST_F(JetStreamGroupForwardingE2eTest, EachAdminCallOnTheStandbyAnswersAsTheServingReplica) {
  ASSERT_NO_FATAL_FAILURE(StartReplicas());
  auto serving_stub = MakeStub(serving_->grpc_target());
  auto standby_stub = MakeStub(standby_->grpc_target());
  const std::vector<uint64_t> posted = PostEvents(serving_->http_port(), 4);
  ASSERT_EQ(posted.size(), 4u);
  // Group "crm": events 1 and 2 acked, 3 dead-lettered, 4 pending.
  {
    v1::SubscribeInit init = GroupInit("crm");
    init.mutable_start()->mutable_earliest();
    GroupStream stream(*serving_stub);
    ASSERT_TRUE(stream.Open(init).ok());
    std::vector<ReceivedDelivery> got = stream.ReadDeliveries(4, absl::Seconds(10));
    ASSERT_THAT(SequencesOf(got), ElementsAre(1, 2, 3, 4));
    ASSERT_TRUE(stream.AckAndWait({got[0].ack_id(), got[1].ack_id()}).has_value());
    v1::Nack nack;
    nack.set_ack_id(got[2].ack_id());
    nack.set_action(v1::Nack::DEAD_LETTER);
    nack.set_reason("test");
    ASSERT_TRUE(stream.Nack({nack}));
    ASSERT_TRUE(stream.WaitForSettleResult(absl::Seconds(10)).has_value());
    stream.Cancel();
    stream.WaitForEnd(absl::Seconds(10));
  }
  WaitForGroup(*serving_stub, "crm", [](const v1::ConsumerGroup& g) {
    return g.consumers_size() == 0 && g.dead_letters() == 1;
  });

  // Each read gives the same answer on both replicas.
  auto same = [](const google::protobuf::Message& a, const google::protobuf::Message& b) {
    return MessageDifferencer::Equals(a, b);
  };
  v1::ConsumerGroup direct_group, forwarded_group;
  ASSERT_TRUE(GetGroup(*serving_stub, "crm", &direct_group).ok());
  ASSERT_TRUE(GetGroup(*standby_stub, "crm", &forwarded_group).ok());
  EXPECT_TRUE(same(direct_group, forwarded_group)) << direct_group.DebugString() << "\n"
                                                   << forwarded_group.DebugString();
  EXPECT_EQ(forwarded_group.dead_letters(), 1u);
  EXPECT_EQ(forwarded_group.pending(), 1u);
  {
    v1::ConsumerGroup none;
    const grpc::Status direct = GetGroup(*serving_stub, "nope", &none);
    const grpc::Status forwarded = GetGroup(*standby_stub, "nope", &none);
    EXPECT_EQ(direct.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(Describe(forwarded), Describe(direct));
  }
  {
    v1::ListConsumerGroupsResponse direct, forwarded;
    grpc::ClientContext direct_context, forwarded_context;
    direct_context.set_deadline(In(absl::Seconds(10)));
    forwarded_context.set_deadline(In(absl::Seconds(10)));
    ASSERT_TRUE(serving_stub->ListConsumerGroups(&direct_context, {}, &direct).ok());
    ASSERT_TRUE(standby_stub->ListConsumerGroups(&forwarded_context, {}, &forwarded).ok());
    EXPECT_TRUE(same(direct, forwarded));
    EXPECT_EQ(forwarded.groups_size(), 1);
  }
  const std::vector<v1::DeadLetter> direct_letters = ListAllDeadLetters(*serving_stub, "crm");
  const std::vector<v1::DeadLetter> forwarded_letters = ListAllDeadLetters(*standby_stub, "crm");
  ASSERT_EQ(forwarded_letters.size(), 1u);
  ASSERT_EQ(direct_letters.size(), 1u);
  EXPECT_TRUE(same(direct_letters[0], forwarded_letters[0]));
  EXPECT_EQ(forwarded_letters[0].sequence(), 3u);

  // Each write through the standby takes effect on the serving replica.
  {
    grpc::ClientContext context;
    context.set_deadline(In(absl::Seconds(10)));
    v1::RequeueDeadLettersRequest request;
    request.set_name("crm");
    request.set_all(true);
    v1::RequeueDeadLettersResponse response;
    ASSERT_TRUE(standby_stub->RequeueDeadLetters(&context, request, &response).ok());
    EXPECT_EQ(response.requeued(), 1);
    EXPECT_TRUE(ListAllDeadLetters(*serving_stub, "crm").empty());
  }
  {
    grpc::ClientContext context;
    context.set_deadline(In(absl::Seconds(10)));
    v1::SeekConsumerGroupRequest request;
    request.set_name("crm");
    request.set_sequence(2);
    v1::SeekConsumerGroupResponse response;
    const grpc::Status status = standby_stub->SeekConsumerGroup(&context, request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    v1::ConsumerGroup group;
    ASSERT_TRUE(GetGroup(*serving_stub, "crm", &group).ok());
    EXPECT_EQ(group.cursor_sequence(), response.cursor_sequence());
    EXPECT_EQ(group.cursor_sequence(), 2u);
  }
  {
    // An invalid request: the serving replica's INVALID_ARGUMENT, unchanged.
    v1::SeekConsumerGroupRequest request;
    request.set_name("crm");
    v1::SeekConsumerGroupResponse response;
    grpc::ClientContext direct_context, forwarded_context;
    direct_context.set_deadline(In(absl::Seconds(10)));
    forwarded_context.set_deadline(In(absl::Seconds(10)));
    const grpc::Status direct =
        serving_stub->SeekConsumerGroup(&direct_context, request, &response);
    const grpc::Status forwarded =
        standby_stub->SeekConsumerGroup(&forwarded_context, request, &response);
    EXPECT_EQ(direct.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(Describe(forwarded), Describe(direct));
  }
  {
    grpc::ClientContext context;
    context.set_deadline(In(absl::Seconds(10)));
    v1::DeleteConsumerGroupRequest request;
    request.set_name("crm");
    google::protobuf::Empty empty;
    ASSERT_TRUE(standby_stub->DeleteConsumerGroup(&context, request, &empty).ok());
    v1::ConsumerGroup gone;
    EXPECT_EQ(GetGroup(*serving_stub, "crm", &gone).error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

TEST_F(JetStreamGroupForwardingE2eTest, AForwardedCallIsNotForwardedAgain) {
  ASSERT_NO_FATAL_FAILURE(StartReplicas());
  auto standby_stub = MakeStub(standby_->grpc_target());
  // A call that says it was forwarded already: the standby answers it
  // itself, with the standby's UNAVAILABLE naming the serving replica.
  grpc::ClientContext context;
  context.set_deadline(In(absl::Seconds(10)));
  context.AddMetadata("x-refir-forwarded-by", "some-replica");
  v1::GetConsumerGroupRequest request;
  request.set_name("crm");
  v1::ConsumerGroup group;
  const grpc::Status status = standby_stub->GetConsumerGroup(&context, request, &group);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("standby"));
  EXPECT_THAT(status.error_message(), HasSubstr(absl::StrCat("127.0.0.1:", serving_->grpc_port())));
  EXPECT_EQ(ForwardedTotal(standby_->admin_port()), 0);
}

TEST_F(JetStreamGroupForwardingE2eTest, TheStandbyChecksTokensAndPassesThemOn) {
  const std::string tokens = WriteFile(dir_, "tokens", kTokensFile);
  ASSERT_NO_FATAL_FAILURE(StartReplicas({"--grpc_tokens_file=" + tokens}));
  ChannelOptions alpha;
  alpha.bearer_token = kAlphaToken;
  ChannelOptions wrong;
  wrong.bearer_token = "wrong-token-0123456789";
  auto standby_alpha = MakeStub(standby_->grpc_target(), alpha);
  auto standby_wrong = MakeStub(standby_->grpc_target(), wrong);
  auto standby_none = MakeStub(standby_->grpc_target());

  // Refused on the standby itself: nothing is forwarded.
  v1::ConsumerGroup group;
  EXPECT_EQ(GetGroup(*standby_wrong, "crm", &group).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetGroup(*standby_none, "crm", &group).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetGroup(*standby_alpha, "billing", &group).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  {
    GroupStream stream(*standby_wrong);
    EXPECT_EQ(stream.Open(GroupInit("crm")).status().code(), absl::StatusCode::kUnauthenticated);
  }
  {
    GroupStream stream(*standby_alpha);
    EXPECT_EQ(stream.Open(GroupInit("billing")).status().code(),
              absl::StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(ForwardedTotal(standby_->admin_port()), 0);

  // Allowed: forwarded with the caller's token, which the serving replica
  // requires too.
  const uint64_t sequence = PostEvent(standby_->http_port());
  v1::SubscribeInit init = GroupInit("crm");
  init.mutable_start()->mutable_earliest();
  GroupStream stream(*standby_alpha);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_THAT(SequencesOf(stream.ReadDeliveries(1, absl::Seconds(10))), ElementsAre(sequence));
  EXPECT_EQ(GetGroup(*standby_alpha, "crm", &group).error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(group.name(), "crm");
  {
    grpc::ClientContext context;
    context.set_deadline(In(absl::Seconds(10)));
    v1::ListConsumerGroupsResponse response;
    ASSERT_TRUE(standby_alpha->ListConsumerGroups(&context, {}, &response).ok());
    EXPECT_EQ(response.groups_size(), 1);
  }
  EXPECT_GE(ForwardedTotal(standby_->admin_port()), 3);
}

TEST_F(JetStreamGroupForwardingE2eTest, WhenTheServingReplicaDiesTheProxiedStreamEndsUnavailable) {
  ASSERT_NO_FATAL_FAILURE(StartReplicas());
  auto standby_stub = MakeStub(standby_->grpc_target());
  const std::vector<uint64_t> posted = PostEvents(standby_->http_port(), 6);
  ASSERT_EQ(posted.size(), 6u);
  v1::SubscribeInit init = GroupInit("crm");
  init.mutable_start()->mutable_earliest();
  GroupStream proxied(*standby_stub);
  ASSERT_TRUE(proxied.Open(init).ok());
  std::vector<ReceivedDelivery> got = proxied.ReadDeliveries(6, absl::Seconds(10));
  ASSERT_THAT(SequencesOf(got), ElementsAreArray(posted));
  ASSERT_TRUE(proxied.AckAndWait({got[0].ack_id(), got[1].ack_id(), got[2].ack_id()}).has_value());
  // Wait until the serving replica reports the acks (its state is then
  // checkpointed within its checkpoint interval; an ack lost to the kill
  // could only mean one more delivery, which the contract allows).
  auto serving_stub = MakeStub(serving_->grpc_target());
  WaitForGroup(*serving_stub, "crm", [](const v1::ConsumerGroup& g) { return g.ack_floor() == 4; });

  serving_->Kill();
  const grpc::Status ended = proxied.WaitForEnd(absl::Seconds(30));
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(ended);

  // The client reconnects to the same address until the former standby
  // took the groups over; the unacked events come again.
  std::unique_ptr<GroupStream> resumed;
  for (const absl::Time until = absl::Now() + absl::Seconds(30); absl::Now() < until;) {
    auto stream = std::make_unique<GroupStream>(*standby_stub);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream->Open(init);
    if (confirm.ok()) {
      resumed = std::move(stream);
      break;
    }
    EXPECT_EQ(confirm.status().code(), absl::StatusCode::kUnavailable) << confirm.status();
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_NE(resumed, nullptr) << "the standby never took the groups over";
  EXPECT_EQ(SendHttp(standby_->admin_port(), "GET", "/readyz/groups", "").status, 200);
  std::vector<ReceivedDelivery> again = resumed->ReadAvailable(absl::Seconds(10));
  for (int i = 0; i < 5 && again.size() < 3; ++i) {
    std::vector<ReceivedDelivery> more = resumed->ReadAvailable(absl::Seconds(2));
    again.insert(again.end(), more.begin(), more.end());
  }
  EXPECT_THAT(SequencesOf(again), IsSupersetOf({posted[3], posted[4], posted[5]}));
  for (const ReceivedDelivery& delivery : again) EXPECT_GE(delivery.attempt(), 2);
}

}  // namespace
}  // namespace refir::bridge::testing
