// Durable consumer groups, end to end on the real bridge binary: fan-out,
// sharing within a group, acks, nacks, redelivery, dead letters, start
// positions, filters, restarts and flow control.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"
#include "tests/nats/nats_server_process.h"

namespace refir::bridge::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

// A redelivery "after 1 s" may be measured a little early: the server's timer
// and the test's clock are read at different points.
constexpr absl::Duration kTimingTolerance = absl::Milliseconds(100);

v1::Nack MakeNack(const std::string& ack_id, v1::Nack::Action action,
                  absl::Duration delay = absl::ZeroDuration(), const std::string& reason = "") {
  v1::Nack nack;
  nack.set_ack_id(ack_id);
  nack.set_action(action);
  if (delay > absl::ZeroDuration()) {
    nack.mutable_delay()->set_seconds(absl::ToInt64Seconds(delay));
    nack.mutable_delay()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(delay % absl::Seconds(1))));
  }
  nack.set_reason(reason);
  return nack;
}

// Runs each test on both journals: SQLite, and JetStream on a nats-server
// of the test's own (the bridge serves the groups: it is the only replica).
class ConsumerGroupFixture : public ::testing::Test {
 protected:
  virtual bool UseJetStream() const = 0;

  void SetUp() override {
    data_dir_ = MakeTempDir();
    if (UseJetStream()) {
      NatsServerOptions options;
      options.store_dir = data_dir_ + "-nats";
      nats_ = std::make_unique<NatsServerProcess>(options);
      ASSERT_TRUE(nats_->Start().ok());
    }
    bridge_ = MakeBridge();
    ASSERT_TRUE(bridge_->Start().ok());
    stub_ = MakeStub(bridge_->grpc_target());
  }

  std::unique_ptr<BridgeProcess> MakeBridge() {
    std::vector<std::string> flags;
    if (nats_ != nullptr) {
      flags = {"--journal=jetstream", "--nats_servers=" + nats_->url()};
    }
    return std::make_unique<BridgeProcess>(data_dir_, flags);
  }

  int port() const { return bridge_->http_port(); }

  // Stops the bridge (SIGTERM, or SIGKILL when `kill`) and starts a new one on
  // the same data directory (and stream).
  void Restart(bool kill) {
    if (kill) {
      bridge_->Kill();
    } else {
      absl::StatusOr<int> exit_code = bridge_->Stop();
      ASSERT_TRUE(exit_code.ok()) << exit_code.status();
      EXPECT_EQ(*exit_code, 0);
    }
    bridge_ = MakeBridge();
    ASSERT_TRUE(bridge_->Start().ok());
    // Streams of the old bridge may still use its stub's channel.
    retired_stubs_.push_back(std::move(stub_));
    stub_ = MakeStub(bridge_->grpc_target());
  }

  std::string data_dir_;
  // Declared before the bridge, so the bridge stops first.
  std::unique_ptr<NatsServerProcess> nats_;
  std::vector<std::unique_ptr<v1::EventStream::Stub>> retired_stubs_;
  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<v1::EventStream::Stub> stub_;
};

// The parameter: true for the JetStream journal.
class ConsumerGroupE2ETest : public ConsumerGroupFixture,
                             public ::testing::WithParamInterface<bool> {
 protected:
  bool UseJetStream() const override { return GetParam(); }
};

std::string JournalName(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "JetStream" : "Sqlite";
}

// Subscribe is a raw method on the server (it parses requests itself): bytes
// that are not a SubscribeRequest end the stream with INVALID_ARGUMENT.
TEST_P(ConsumerGroupE2ETest, UnparsableSubscribeRequestIsInvalidArgument) {
  grpc::GenericStub generic(
      grpc::CreateChannel(bridge_->grpc_target(), grpc::InsecureChannelCredentials()));
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      generic.PrepareCall(&context, "/refir.bridge.v1.EventStream/Subscribe", &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  ASSERT_TRUE(ok);
  // Field 1 (init) claims 5 bytes, 2 follow.
  grpc::Slice slice(
      std::string("\x0a\x05"
                  "ab",
                  4));
  grpc::ByteBuffer garbage(&slice, 1);
  call->Write(garbage, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(tag, reinterpret_cast<void*>(3));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("does not parse"));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) continue;
}

// --- 1. Fan-out -------------------------------------------------------------

TEST_P(ConsumerGroupE2ETest, EveryGroupGetsEveryEvent) {
  GroupStream a(*stub_);
  GroupStream b(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm_a = a.Open(GroupInit("fanout-a", "a"));
  ASSERT_TRUE(confirm_a.ok()) << confirm_a.status();
  absl::StatusOr<v1::SubscribeConfirm> confirm_b = b.Open(GroupInit("fanout-b", "b"));
  ASSERT_TRUE(confirm_b.ok()) << confirm_b.status();
  EXPECT_EQ(confirm_a->consumer_group(), "fanout-a");
  EXPECT_EQ(confirm_a->client_id(), "a");
  EXPECT_TRUE(confirm_a->group_created());
  EXPECT_TRUE(confirm_b->group_created());

  const std::vector<uint64_t> posted = PostEvents(port(), 30);
  for (GroupStream* stream : {&a, &b}) {
    std::vector<ReceivedDelivery> got = stream->ReadDeliveries(30, absl::Seconds(10));
    ASSERT_EQ(got.size(), 30u);
    EXPECT_THAT(SequencesOf(got), ElementsAreArray(posted)) << "first deliveries in order";
    std::set<std::string> ack_ids;
    for (const ReceivedDelivery& d : got) {
      EXPECT_EQ(d.attempt(), 1);
      EXPECT_FALSE(d.ack_id().empty());
      ack_ids.insert(d.ack_id());
    }
    EXPECT_EQ(ack_ids.size(), got.size()) << "ack ids are unique";
    std::optional<v1::SettleResult> result = stream->AckAndWait(AckIdsOf(got));
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->acked(), 30);
  }
  EXPECT_TRUE(a.NoDeliveryFor(absl::Milliseconds(500)));
  EXPECT_TRUE(b.NoDeliveryFor(absl::Milliseconds(10)));
}

// --- 2. Sharing within a group ----------------------------------------------

// Two streams of one group (max_outstanding 10) read concurrently while 200
// events are posted from 8 threads. With `hold_acks`, a stream acks only once
// its window is full or nothing came for 200 ms, so the window rule alone
// forces the group to use the other stream; without, each stream acks what
// it gets at once and both should still get a share.
void RunSplit(v1::EventStream::Stub& stub, int http_port, bool hold_acks) {
  constexpr size_t kEvents = 200;
  v1::SubscribeInit init = GroupInit("split", "first");
  init.set_max_outstanding(10);
  GroupStream streams[2] = {GroupStream(stub), GroupStream(stub)};
  absl::StatusOr<v1::SubscribeConfirm> first = streams[0].Open(init);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->group_created());
  init.set_client_id("second");
  absl::StatusOr<v1::SubscribeConfirm> second = streams[1].Open(init);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->group_created());

  absl::Mutex mu;
  std::vector<uint64_t> got[2];
  size_t total = 0;
  std::atomic<bool> done{false};
  auto consume = [&](int index) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    std::vector<std::string> unacked;
    while (!done.load() && absl::Now() < deadline) {
      std::vector<ReceivedDelivery> batch =
          streams[index].ReadAvailable(absl::Milliseconds(hold_acks ? 200 : 100));
      if (batch.empty()) {
        if (streams[index].ended()) return;
        if (!unacked.empty()) streams[index].Ack(unacked);  // idle: settle the tail
        unacked.clear();
        continue;
      }
      for (const ReceivedDelivery& d : batch) unacked.push_back(d.ack_id());
      if (!hold_acks || unacked.size() >= 10) {
        streams[index].Ack(unacked);
        unacked.clear();
      }
      absl::MutexLock lock(&mu);
      for (const ReceivedDelivery& d : batch) {
        EXPECT_EQ(d.attempt(), 1) << "sequence " << d.sequence();
        got[index].push_back(d.sequence());
      }
      total += batch.size();
      if (total >= kEvents) done.store(true);
    }
  };
  std::thread consumers[2] = {std::thread(consume, 0), std::thread(consume, 1)};
  const std::vector<uint64_t> posted = PostEvents(http_port, kEvents, "referral_created", 8);
  for (std::thread& consumer : consumers) consumer.join();
  EXPECT_TRUE(streams[0].NoDeliveryFor(absl::Milliseconds(300)));
  EXPECT_TRUE(streams[1].NoDeliveryFor(absl::Milliseconds(10)));

  absl::MutexLock lock(&mu);
  EXPECT_FALSE(got[0].empty()) << "the first stream got no event";
  EXPECT_FALSE(got[1].empty()) << "the second stream got no event";
  std::vector<uint64_t> all = got[0];
  all.insert(all.end(), got[1].begin(), got[1].end());
  std::sort(all.begin(), all.end());
  EXPECT_THAT(all, ElementsAreArray(posted)) << "union is every event exactly once";
  std::set<uint64_t> first_set(got[0].begin(), got[0].end());
  for (uint64_t sequence : got[1]) {
    EXPECT_EQ(first_set.count(sequence), 0u) << "sequence " << sequence << " went to both";
  }
  for (const std::vector<uint64_t>& sequences : got) {
    EXPECT_TRUE(std::is_sorted(sequences.begin(), sequences.end()))
        << "first deliveries on one stream come in sequence order";
  }
}

TEST_P(ConsumerGroupE2ETest, StreamsOfOneGroupSplitEventsWithoutOverlapOrGap) {
  RunSplit(*stub_, port(), /*hold_acks=*/false);
}

TEST_P(ConsumerGroupE2ETest, StreamsOfOneGroupShareEventsWhenAWindowIsFull) {
  RunSplit(*stub_, port(), /*hold_acks=*/true);
}

// --- 3. Redelivery after the ack deadline -----------------------------------

TEST_P(ConsumerGroupE2ETest, UnackedEventIsRedeliveredAfterTheAckDeadline) {
  v1::SubscribeInit init = GroupInit("deadline");
  init.set_ack_deadline_seconds(1);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_EQ(confirm->ack_deadline_seconds(), 1);

  const uint64_t sequence = PostEvent(port());
  std::vector<ReceivedDelivery> first = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].sequence(), sequence);
  EXPECT_EQ(first[0].attempt(), 1);

  std::vector<ReceivedDelivery> again = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].sequence(), sequence);
  EXPECT_EQ(again[0].attempt(), 2);
  EXPECT_NE(again[0].ack_id(), first[0].ack_id());
  EXPECT_GE(again[0].received_at - first[0].received_at, absl::Seconds(1) - kTimingTolerance);
  EXPECT_EQ(again[0].delivery.event().id(), first[0].delivery.event().id());

  std::optional<v1::SettleResult> result = stream.AckAndWait({again[0].ack_id()});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->acked(), 1);
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Seconds(2))) << "an acked event is never delivered again";

  v1::ConsumerGroup group =
      WaitForGroup(*stub_, "deadline", [](const v1::ConsumerGroup& g) { return g.pending() == 0; });
  EXPECT_EQ(group.pending(), 0u);
  EXPECT_EQ(group.redelivered(), 1u);
}

// --- 4. Nack RETRY with a delay ---------------------------------------------

TEST_P(ConsumerGroupE2ETest, NackRetryRedeliversAfterTheDelay) {
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(GroupInit("retry"));
  ASSERT_TRUE(confirm.ok()) << confirm.status();

  const uint64_t sequence = PostEvent(port());
  std::vector<ReceivedDelivery> first = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].attempt(), 1);

  const absl::Time nacked_at = absl::Now();
  ASSERT_TRUE(stream.Nack({MakeNack(first[0].ack_id(), v1::Nack::RETRY, absl::Seconds(1))}));
  std::optional<v1::SettleResult> nacked = stream.WaitForSettleResult(absl::Seconds(5));
  ASSERT_TRUE(nacked.has_value());
  EXPECT_EQ(nacked->nacked(), 1);
  EXPECT_EQ(nacked->acked(), 0);
  EXPECT_THAT(nacked->expired_ack_ids(), IsEmpty());
  EXPECT_THAT(nacked->unknown_ack_ids(), IsEmpty());

  v1::ConsumerGroup waiting;
  ASSERT_TRUE(GetGroup(*stub_, "retry", &waiting).ok());
  EXPECT_EQ(waiting.pending(), 1u) << "pending includes events waiting to be delivered again";

  std::vector<ReceivedDelivery> again = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].sequence(), sequence);
  EXPECT_EQ(again[0].attempt(), 2);
  EXPECT_NE(again[0].ack_id(), first[0].ack_id());
  EXPECT_GE(again[0].received_at, nacked_at + absl::Seconds(1) - kTimingTolerance)
      << "redelivered " << absl::FormatDuration(again[0].received_at - nacked_at)
      << " after the nack";

  std::optional<v1::SettleResult> acked = stream.AckAndWait({again[0].ack_id()});
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 1);
}

// --- 5. Dead letters --------------------------------------------------------

TEST_P(ConsumerGroupE2ETest, DeadLetterAfterMaxDeliveryAttemptsThenRequeue) {
  v1::SubscribeInit init = GroupInit("dlq");
  init.set_max_delivery_attempts(2);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_EQ(confirm->max_delivery_attempts(), 2);

  const uint64_t sequence = PostEvent(port());
  std::vector<ReceivedDelivery> first = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].attempt(), 1);
  // ACTION_UNSPECIFIED is treated as RETRY.
  ASSERT_TRUE(stream.Nack({MakeNack(first[0].ack_id(), v1::Nack::ACTION_UNSPECIFIED)}));
  std::optional<v1::SettleResult> result = stream.WaitForSettleResult(absl::Seconds(5));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->nacked(), 1);

  std::vector<ReceivedDelivery> second = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].sequence(), sequence);
  EXPECT_EQ(second[0].attempt(), 2);
  ASSERT_TRUE(stream.Nack({MakeNack(second[0].ack_id(), v1::Nack::RETRY)}));
  result = stream.WaitForSettleResult(absl::Seconds(5));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->nacked(), 1);
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Seconds(1))) << "attempts are used up";

  v1::ConsumerGroup group =
      WaitForGroup(*stub_, "dlq", [](const v1::ConsumerGroup& g) { return g.dead_letters() == 1; });
  EXPECT_EQ(group.dead_letters(), 1u);
  EXPECT_EQ(group.pending(), 0u);
  EXPECT_EQ(group.max_delivery_attempts(), 2);
  std::vector<v1::DeadLetter> letters = ListAllDeadLetters(*stub_, "dlq");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].sequence(), sequence);
  EXPECT_EQ(letters[0].delivery_attempts(), 2);
  EXPECT_THAT(letters[0].reason(), HasSubstr("max delivery attempts"));
  EXPECT_GT(letters[0].dead_lettered_at().seconds(), 1600000000);
  EXPECT_EQ(letters[0].event().sequence(), sequence);
  EXPECT_EQ(letters[0].event().id(), first[0].delivery.event().id());
  EXPECT_EQ(letters[0].event().body(), first[0].delivery.event().body());

  {
    grpc::ClientContext context;
    v1::RequeueDeadLettersRequest request;
    request.set_name("dlq");
    request.add_sequences(sequence);
    request.add_sequences(sequence + 1000);  // unknown: skipped
    v1::RequeueDeadLettersResponse response;
    grpc::Status status = stub_->RequeueDeadLetters(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.requeued(), 1);
  }
  std::vector<ReceivedDelivery> requeued = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(requeued.size(), 1u);
  EXPECT_EQ(requeued[0].sequence(), sequence);
  EXPECT_EQ(requeued[0].attempt(), 1) << "requeue resets the attempt count";
  std::optional<v1::SettleResult> acked = stream.AckAndWait({requeued[0].ack_id()});
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 1);

  group = WaitForGroup(*stub_, "dlq", [](const v1::ConsumerGroup& g) {
    return g.dead_letters() == 0 && g.pending() == 0;
  });
  EXPECT_EQ(group.dead_letters(), 0u);
  EXPECT_EQ(group.pending(), 0u);
  EXPECT_THAT(ListAllDeadLetters(*stub_, "dlq"), IsEmpty());
}

TEST_P(ConsumerGroupE2ETest, NackDeadLetterGoesStraightToDeadLettersWithTheReason) {
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(GroupInit("poison"));
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_EQ(confirm->max_delivery_attempts(), 5) << "0 means 5";

  const std::vector<uint64_t> posted = PostEvents(port(), 3);
  std::vector<ReceivedDelivery> got = stream.ReadDeliveries(3, absl::Seconds(10));
  ASSERT_EQ(got.size(), 3u);
  const std::string long_reason(2000, 'x');
  v1::SubscribeRequest request;
  *request.mutable_settle()->add_nacks() =
      MakeNack(got[0].ack_id(), v1::Nack::DEAD_LETTER, absl::ZeroDuration(), "cannot parse lead");
  *request.mutable_settle()->add_nacks() =
      MakeNack(got[1].ack_id(), v1::Nack::DEAD_LETTER, absl::ZeroDuration(), long_reason);
  request.mutable_settle()->add_ack_ids(got[2].ack_id());
  ASSERT_TRUE(stream.Send(request));
  std::optional<v1::SettleResult> result = stream.WaitForSettleResult(absl::Seconds(5));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->nacked(), 2);
  EXPECT_EQ(result->acked(), 1);
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Seconds(1)));

  std::vector<v1::DeadLetter> letters = ListAllDeadLetters(*stub_, "poison");
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].sequence(), posted[0]);
  EXPECT_EQ(letters[0].reason(), "cannot parse lead");
  EXPECT_EQ(letters[0].delivery_attempts(), 1);
  EXPECT_EQ(letters[0].event().sequence(), posted[0]);
  EXPECT_EQ(letters[1].sequence(), posted[1]);
  EXPECT_LE(letters[1].reason().size(), 1024u);
  EXPECT_FALSE(letters[1].reason().empty());
  EXPECT_EQ(long_reason.compare(0, letters[1].reason().size(), letters[1].reason()), 0);
  v1::ConsumerGroup group;
  ASSERT_TRUE(GetGroup(*stub_, "poison", &group).ok());
  EXPECT_EQ(group.dead_letters(), 2u);
  EXPECT_EQ(group.pending(), 0u);

  {
    grpc::ClientContext context;
    v1::RequeueDeadLettersRequest requeue;
    requeue.set_name("poison");
    requeue.set_all(true);
    v1::RequeueDeadLettersResponse response;
    grpc::Status status = stub_->RequeueDeadLetters(&context, requeue, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.requeued(), 2);
  }
  std::vector<ReceivedDelivery> requeued = stream.ReadDeliveries(2, absl::Seconds(10));
  ASSERT_EQ(requeued.size(), 2u);
  EXPECT_THAT(SequencesOf(requeued), UnorderedElementsAre(posted[0], posted[1]));
  for (const ReceivedDelivery& d : requeued) EXPECT_EQ(d.attempt(), 1);
  std::optional<v1::SettleResult> acked = stream.AckAndWait(AckIdsOf(requeued));
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 2);
  group = WaitForGroup(*stub_, "poison",
                       [](const v1::ConsumerGroup& g) { return g.dead_letters() == 0; });
  EXPECT_EQ(group.dead_letters(), 0u);
}

// --- 6. Late, repeated and unknown acks -------------------------------------

TEST_P(ConsumerGroupE2ETest, LateAckIsReportedExpiredAndUnknownAckIsReportedUnknown) {
  v1::SubscribeInit init = GroupInit("late");
  init.set_ack_deadline_seconds(1);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();

  PostEvent(port());
  std::vector<ReceivedDelivery> old = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(old.size(), 1u);
  std::vector<ReceivedDelivery> again = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(again.size(), 1u);
  ASSERT_EQ(again[0].attempt(), 2);

  // The redelivery has a 1 s deadline of its own: settle it promptly.
  std::optional<v1::SettleResult> late = stream.AckAndWait({old[0].ack_id()});
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->acked(), 0);
  EXPECT_THAT(late->expired_ack_ids(), ElementsAre(old[0].ack_id()));
  EXPECT_THAT(late->unknown_ack_ids(), IsEmpty());

  std::optional<v1::SettleResult> current = stream.AckAndWait({again[0].ack_id()});
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->acked(), 1) << "the late ack did not settle the redelivery";
  EXPECT_THAT(current->expired_ack_ids(), IsEmpty());

  std::optional<v1::SettleResult> twice = stream.AckAndWait({again[0].ack_id()});
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(twice->acked(), 0);
  EXPECT_THAT(twice->expired_ack_ids(), ElementsAre(again[0].ack_id()))
      << "an already settled delivery is reported expired";

  std::optional<v1::SettleResult> garbage = stream.AckAndWait({"garbage"});
  ASSERT_TRUE(garbage.has_value());
  EXPECT_EQ(garbage->acked(), 0);
  EXPECT_THAT(garbage->unknown_ack_ids(), ElementsAre("garbage"));
  EXPECT_THAT(garbage->expired_ack_ids(), IsEmpty());
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Milliseconds(1500)));
}

// --- 7. Start positions -----------------------------------------------------

TEST_P(ConsumerGroupE2ETest, StartEarliestDeliversEveryStoredEvent) {
  const std::vector<uint64_t> posted = PostEvents(port(), 3);
  v1::SubscribeInit init = GroupInit("from-earliest");
  init.mutable_start()->mutable_earliest();
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_TRUE(confirm->group_created());
  EXPECT_EQ(confirm->start_sequence(), 1u);
  EXPECT_EQ(confirm->head_sequence(), 3u);
  std::vector<ReceivedDelivery> got = stream.ReadDeliveries(3, absl::Seconds(10));
  EXPECT_THAT(SequencesOf(got), ElementsAreArray(posted));
}

TEST_P(ConsumerGroupE2ETest, StartLatestIsTheDefaultAndSkipsStoredEvents) {
  PostEvents(port(), 3);
  v1::SubscribeInit unset = GroupInit("latest-default");
  v1::SubscribeInit latest = GroupInit("latest-explicit");
  latest.mutable_start()->mutable_latest();
  GroupStream by_default(*stub_);
  GroupStream explicitly(*stub_);
  for (auto [stream, init] : {std::pair(&by_default, &unset), std::pair(&explicitly, &latest)}) {
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream->Open(*init);
    ASSERT_TRUE(confirm.ok()) << init->consumer_group() << ": " << confirm.status();
    EXPECT_TRUE(confirm->group_created());
    EXPECT_EQ(confirm->start_sequence(), 4u) << init->consumer_group();
    EXPECT_EQ(confirm->head_sequence(), 3u) << init->consumer_group();
  }
  EXPECT_TRUE(by_default.NoDeliveryFor(absl::Milliseconds(500)));
  EXPECT_TRUE(explicitly.NoDeliveryFor(absl::Milliseconds(10)));
  const uint64_t next = PostEvent(port());
  for (GroupStream* stream : {&by_default, &explicitly}) {
    std::vector<ReceivedDelivery> got = stream->ReadDeliveries(1, absl::Seconds(10));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].sequence(), next);
  }
}

TEST_P(ConsumerGroupE2ETest, StartSequenceDeliversFromThatSequence) {
  PostEvents(port(), 5);
  v1::SubscribeInit init = GroupInit("from-sequence");
  init.mutable_start()->set_sequence(3);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_EQ(confirm->start_sequence(), 3u);
  std::vector<ReceivedDelivery> got = stream.ReadDeliveries(3, absl::Seconds(10));
  EXPECT_THAT(SequencesOf(got), ElementsAre(3u, 4u, 5u));
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Milliseconds(500)));
}

TEST_P(ConsumerGroupE2ETest, StartTimeDeliversFromTheFirstEventReceivedAtOrAfterIt) {
  PostEvents(port(), 5);
  const std::vector<v1::Event> events = ListAllEvents(*stub_);
  ASSERT_EQ(events.size(), 5u);
  const absl::Time start = ToAbslTime(events[2].received_at());
  uint64_t expected = 0;
  for (const v1::Event& event : events) {
    if (ToAbslTime(event.received_at()) >= start) {
      expected = event.sequence();
      break;
    }
  }
  ASSERT_GT(expected, 0u);
  v1::SubscribeInit init = GroupInit("from-time");
  *init.mutable_start()->mutable_time() = events[2].received_at();
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_EQ(confirm->start_sequence(), expected);
  std::vector<ReceivedDelivery> got = stream.ReadDeliveries(6 - expected, absl::Seconds(10));
  ASSERT_EQ(got.size(), 6 - expected);
  EXPECT_EQ(got.front().sequence(), expected);
  EXPECT_EQ(got.back().sequence(), 5u);
}

TEST_P(ConsumerGroupE2ETest, ExistingGroupIgnoresStartAndContinuesWhereItIs) {
  const std::vector<uint64_t> posted = PostEvents(port(), 5);
  {
    v1::SubscribeInit init = GroupInit("continue", "before");
    init.mutable_start()->mutable_earliest();
    init.set_ack_deadline_seconds(1);  // whatever a closed stream's leases do, they end soon
    GroupStream stream(*stub_);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
    ASSERT_TRUE(confirm.ok()) << confirm.status();
    std::vector<ReceivedDelivery> got = stream.ReadDeliveries(5, absl::Seconds(10));
    ASSERT_EQ(got.size(), 5u);
    std::optional<v1::SettleResult> acked =
        stream.AckAndWait({got[0].ack_id(), got[1].ack_id(), got[2].ack_id()});
    ASSERT_TRUE(acked.has_value());
    EXPECT_EQ(acked->acked(), 3);
    stream.Cancel();
    stream.WaitForEnd(absl::Seconds(10));
  }
  for (auto start : {0, 1}) {
    SCOPED_TRACE(start == 0 ? "rejoin with start earliest" : "rejoin with start sequence 1");
    v1::SubscribeInit init = GroupInit("continue", "after");
    if (start == 0) init.mutable_start()->mutable_earliest();
    if (start == 1) init.mutable_start()->set_sequence(1);
    GroupStream stream(*stub_);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
    ASSERT_TRUE(confirm.ok()) << confirm.status();
    EXPECT_FALSE(confirm->group_created());
    // Events before start_sequence are never sent on this stream: in the first
    // rejoin 4 and 5 are still unacked, in the second the next event is posted.
    EXPECT_LE(confirm->start_sequence(), start == 0 ? posted[3] : posted.back() + 2);
    if (start == 0) {
      std::vector<ReceivedDelivery> got = stream.ReadDeliveries(2, absl::Seconds(10));
      EXPECT_THAT(SequencesOf(got), UnorderedElementsAre(posted[3], posted[4]))
          << "only the unacked events come again";
      std::optional<v1::SettleResult> acked = stream.AckAndWait(AckIdsOf(got));
      ASSERT_TRUE(acked.has_value());
      EXPECT_EQ(acked->acked(), 2);
    }
    const uint64_t next = PostEvent(port());
    std::vector<ReceivedDelivery> got = stream.ReadDeliveries(1, absl::Seconds(10));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].sequence(), next);
    EXPECT_EQ(got[0].attempt(), 1);
    std::optional<v1::SettleResult> acked = stream.AckAndWait(AckIdsOf(got));
    ASSERT_TRUE(acked.has_value());
    EXPECT_EQ(acked->acked(), 1);
    EXPECT_TRUE(stream.NoDeliveryFor(absl::Seconds(1))) << "nothing from the start again";
    stream.Cancel();
    stream.WaitForEnd(absl::Seconds(10));
  }
}

// --- 8. Filters --------------------------------------------------------------

TEST_P(ConsumerGroupE2ETest, FiltersDeliverOnlyMatchingTypes) {
  v1::SubscribeInit users_init = GroupInit("users");
  users_init.mutable_filter()->add_types("refir.user.added");
  v1::SubscribeInit referrals_init = GroupInit("referrals");
  referrals_init.mutable_filter()->add_types("refir.referral.*");
  GroupStream users(*stub_);
  GroupStream referrals(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> users_confirm = users.Open(users_init);
  ASSERT_TRUE(users_confirm.ok()) << users_confirm.status();
  EXPECT_THAT(users_confirm->filter().types(), ElementsAre("refir.user.added"));
  absl::StatusOr<v1::SubscribeConfirm> referrals_confirm = referrals.Open(referrals_init);
  ASSERT_TRUE(referrals_confirm.ok()) << referrals_confirm.status();
  EXPECT_THAT(referrals_confirm->filter().types(), ElementsAre("refir.referral.*"));

  const std::vector<std::string> names = {
      "referral_created", "user_added",       "coupon_redeemed", "referral_paid",   "user_added",
      "user_removed",     "referral_created", "referrals_total", "user_added_later"};
  std::vector<uint64_t> expected_users;
  std::vector<uint64_t> expected_referrals;
  for (const std::string& name : names) {
    const uint64_t sequence = PostEvent(port(), name);
    if (name == "user_added") expected_users.push_back(sequence);
    if (name.rfind("referral_", 0) == 0) expected_referrals.push_back(sequence);
  }
  ASSERT_EQ(expected_users.size(), 2u);
  ASSERT_EQ(expected_referrals.size(), 3u);

  for (auto [stream, expected] :
       {std::pair(&users, &expected_users), std::pair(&referrals, &expected_referrals)}) {
    std::vector<ReceivedDelivery> got = stream->ReadDeliveries(expected->size(), absl::Seconds(10));
    EXPECT_THAT(SequencesOf(got), ElementsAreArray(*expected));
    std::optional<v1::SettleResult> acked = stream->AckAndWait(AckIdsOf(got));
    ASSERT_TRUE(acked.has_value());
  }
  EXPECT_TRUE(users.NoDeliveryFor(absl::Seconds(1))) << "non-matching events never come";
  EXPECT_TRUE(referrals.NoDeliveryFor(absl::Milliseconds(10)));
  for (const std::string group : {"users", "referrals"}) {
    v1::ConsumerGroup state = WaitForGroup(
        *stub_, group, [](const v1::ConsumerGroup& g) { return g.lag() == 0 && g.pending() == 0; });
    EXPECT_EQ(state.lag(), 0u) << group << ": filtered events count as passed";
    EXPECT_EQ(state.pending(), 0u) << group;
    EXPECT_EQ(state.head_sequence(), names.size()) << group;
  }

  GroupStream same_filter(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> joined = same_filter.Open(users_init);
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_FALSE(joined->group_created());

  v1::SubscribeInit other_filter = GroupInit("users");
  other_filter.mutable_filter()->add_types("refir.referral.*");
  GroupStream refused(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> refusal = refused.Open(other_filter);
  EXPECT_EQ(refusal.status().code(), absl::StatusCode::kFailedPrecondition) << refusal.status();
}

// --- 9. Restarts --------------------------------------------------------------

// The parameter: (kill rather than stop, JetStream rather than SQLite).
class ConsumerGroupRestartTest : public ConsumerGroupFixture,
                                 public ::testing::WithParamInterface<std::tuple<bool, bool>> {
 protected:
  bool UseJetStream() const override { return std::get<1>(GetParam()); }
};

TEST_P(ConsumerGroupRestartTest, RestartLosesNothingAndRedeliversWhatWasUnacked) {
  const bool kill = std::get<0>(GetParam());
  const std::vector<uint64_t> before = PostEvents(port(), 20);
  std::set<uint64_t> acked_before(before.begin(), before.begin() + 10);
  std::set<uint64_t> unacked_before(before.begin() + 10, before.end());
  google::protobuf::Timestamp created_at;
  {
    v1::SubscribeInit init = GroupInit("durable", "before");
    init.mutable_start()->mutable_earliest();
    init.set_ack_deadline_seconds(2);
    init.set_max_delivery_attempts(7);
    GroupStream stream(*stub_);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
    ASSERT_TRUE(confirm.ok()) << confirm.status();
    std::vector<ReceivedDelivery> got = stream.ReadDeliveries(20, absl::Seconds(10));
    ASSERT_EQ(got.size(), 20u);
    ASSERT_THAT(SequencesOf(got), ElementsAreArray(before));
    std::vector<std::string> ids = AckIdsOf(got);
    ids.resize(10);
    std::optional<v1::SettleResult> acked = stream.AckAndWait(ids);
    ASSERT_TRUE(acked.has_value());
    ASSERT_EQ(acked->acked(), 10);
    v1::ConsumerGroup group;
    ASSERT_TRUE(GetGroup(*stub_, "durable", &group).ok());
    created_at = group.created_at();

    Restart(kill);
    if (HasFatalFailure()) return;
    grpc::Status ended = stream.WaitForEnd(absl::Seconds(10));
    EXPECT_NE(ended.error_code(), grpc::StatusCode::OK);
  }

  v1::SubscribeInit init = GroupInit("durable", "after");
  init.mutable_start()->mutable_latest();
  init.set_max_delivery_attempts(3);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_FALSE(confirm->group_created());
  EXPECT_EQ(confirm->max_delivery_attempts(), 7) << "the group's own value";
  v1::ConsumerGroup group;
  ASSERT_TRUE(GetGroup(*stub_, "durable", &group).ok());
  EXPECT_EQ(group.created_at().seconds(), created_at.seconds());
  EXPECT_EQ(group.created_at().nanos(), created_at.nanos());

  const std::vector<uint64_t> after = PostEvents(port(), 5);
  EXPECT_EQ(after.front(), before.back() + 1) << "sequences continue";
  std::set<uint64_t> wanted(unacked_before);
  wanted.insert(after.begin(), after.end());
  std::map<uint64_t, int> attempts;  // sequence -> attempt of its first delivery after restart
  std::map<uint64_t, int> times;     // sequence -> deliveries after restart
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  size_t seen_wanted = 0;
  while (seen_wanted < wanted.size() && absl::Now() < deadline) {
    std::vector<ReceivedDelivery> got = stream.ReadAvailable(absl::Milliseconds(200));
    if (got.empty()) continue;
    stream.Ack(AckIdsOf(got));
    for (const ReceivedDelivery& d : got) {
      if (times[d.sequence()]++ == 0) {
        attempts[d.sequence()] = d.attempt();
        if (wanted.count(d.sequence()) > 0) ++seen_wanted;
      }
    }
  }
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Seconds(1)));
  for (uint64_t sequence : unacked_before) {
    ASSERT_EQ(times.count(sequence), 1u) << "unacked sequence " << sequence << " was lost";
    EXPECT_EQ(times[sequence], 1) << "sequence " << sequence;
    if (!kill) {
      EXPECT_GE(attempts[sequence], 2) << "sequence " << sequence;
    }
  }
  for (uint64_t sequence : after) {
    ASSERT_EQ(times.count(sequence), 1u) << "new sequence " << sequence << " was not delivered";
    EXPECT_EQ(times[sequence], 1) << "sequence " << sequence;
    EXPECT_EQ(attempts[sequence], 1) << "sequence " << sequence;
  }
  if (!kill) {
    for (uint64_t sequence : acked_before) {
      EXPECT_EQ(times.count(sequence), 0u) << "acked sequence " << sequence << " came again";
    }
  }
  for (const auto& [sequence, count] : times) {
    EXPECT_TRUE(wanted.count(sequence) > 0 || acked_before.count(sequence) > 0)
        << "sequence " << sequence << " was never posted";
  }
}

INSTANTIATE_TEST_SUITE_P(StopAndKill, ConsumerGroupRestartTest,
                         ::testing::Combine(::testing::Values(false, true),
                                            ::testing::Values(false, true)),
                         [](const ::testing::TestParamInfo<std::tuple<bool, bool>>& param_info) {
                           return std::string(std::get<0>(param_info.param) ? "Kill9" : "Sigterm") +
                                  (std::get<1>(param_info.param) ? "JetStream" : "Sqlite");
                         });

// --- 10. Flow control ---------------------------------------------------------

TEST_P(ConsumerGroupE2ETest, WindowOfUnackedDeliveriesIsNeverExceeded) {
  const std::vector<uint64_t> posted = PostEvents(port(), 50, "referral_created", 4);
  v1::SubscribeInit init = GroupInit("window", "windowed");
  init.mutable_start()->mutable_earliest();
  init.set_max_outstanding(5);
  init.set_ack_deadline_seconds(600);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  EXPECT_EQ(confirm->max_outstanding(), 5);
  auto slice = [&](size_t from, size_t to) {
    return std::vector<uint64_t>(posted.begin() + from, posted.begin() + to);
  };

  std::vector<ReceivedDelivery> first = stream.ReadDeliveries(5, absl::Seconds(10));
  ASSERT_EQ(first.size(), 5u);
  EXPECT_THAT(SequencesOf(first), ElementsAreArray(slice(0, 5)));
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Milliseconds(1500))) << "the window is 5";

  std::optional<v1::SettleResult> acked = stream.AckAndWait({first[0].ack_id(), first[1].ack_id()});
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 2);
  std::vector<ReceivedDelivery> second = stream.ReadDeliveries(2, absl::Seconds(10));
  EXPECT_THAT(SequencesOf(second), ElementsAreArray(slice(5, 7)));
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Seconds(1))) << "2 acks make room for 2";

  ASSERT_TRUE(stream.Flow(10));
  std::vector<ReceivedDelivery> third = stream.ReadDeliveries(5, absl::Seconds(10));
  EXPECT_THAT(SequencesOf(third), ElementsAreArray(slice(7, 12)));
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Seconds(1))) << "the window is 10";
  v1::ConsumerGroup group = WaitForGroup(*stub_, "window", [](const v1::ConsumerGroup& g) {
    return g.consumers_size() == 1 && g.consumers(0).outstanding() == 10;
  });
  ASSERT_EQ(group.consumers_size(), 1);
  EXPECT_EQ(group.consumers(0).client_id(), "windowed");
  EXPECT_EQ(group.consumers(0).outstanding(), 10);
  EXPECT_EQ(group.consumers(0).max_outstanding(), 10);

  // Shrinking recalls nothing; new deliveries wait until the window has room.
  ASSERT_TRUE(stream.Flow(2));
  std::vector<std::string> outstanding = {first[2].ack_id(), first[3].ack_id(), first[4].ack_id()};
  for (const ReceivedDelivery& d : second) outstanding.push_back(d.ack_id());
  for (const ReceivedDelivery& d : third) outstanding.push_back(d.ack_id());
  ASSERT_EQ(outstanding.size(), 10u);
  acked = stream.AckAndWait(std::vector<std::string>(outstanding.begin(), outstanding.begin() + 8));
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 8);
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Seconds(1))) << "2 outstanding fill a window of 2";
  acked = stream.AckAndWait({outstanding[8]});
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 1);
  std::vector<ReceivedDelivery> fourth = stream.ReadDeliveries(1, absl::Seconds(10));
  EXPECT_THAT(SequencesOf(fourth), ElementsAreArray(slice(12, 13)));
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Seconds(1)));
}

// --- 11. A stalled group does not hold back another --------------------------

TEST_P(ConsumerGroupE2ETest, StalledConsumerDoesNotSlowAnotherGroup) {
  constexpr size_t kEvents = 500;
  v1::SubscribeInit stalled_init = GroupInit("stalled");
  stalled_init.set_max_outstanding(1);
  stalled_init.set_ack_deadline_seconds(600);
  GroupStream stalled(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> stalled_confirm = stalled.Open(stalled_init);
  ASSERT_TRUE(stalled_confirm.ok()) << stalled_confirm.status();
  GroupStream busy(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> busy_confirm = busy.Open(GroupInit("busy"));
  ASSERT_TRUE(busy_confirm.ok()) << busy_confirm.status();

  const absl::Time started = absl::Now();
  std::set<uint64_t> received;
  absl::Time finished;
  std::thread consumer([&] {
    const absl::Time deadline = started + absl::Seconds(30);
    while (received.size() < kEvents && absl::Now() < deadline) {
      std::vector<ReceivedDelivery> got = busy.ReadAvailable(absl::Milliseconds(200));
      if (got.empty()) continue;
      busy.Ack(AckIdsOf(got));
      for (const ReceivedDelivery& d : got) received.insert(d.sequence());
    }
    finished = absl::Now();
  });
  const std::vector<uint64_t> posted = PostEvents(port(), kEvents, "referral_created", 4);
  consumer.join();

  EXPECT_THAT(received, UnorderedElementsAreArray(posted));
  EXPECT_LT(finished - started, absl::Seconds(20));
  std::vector<ReceivedDelivery> stalled_got = stalled.ReadDeliveries(1, absl::Seconds(5));
  ASSERT_EQ(stalled_got.size(), 1u);
  EXPECT_EQ(stalled_got[0].sequence(), posted[0]);
  EXPECT_EQ(stalled.QueuedDeliveries(), 0u) << "a window of 1 holds one delivery";
  v1::ConsumerGroup group;
  ASSERT_TRUE(GetGroup(*stub_, "stalled", &group).ok());
  EXPECT_EQ(group.lag(), kEvents - 1);
  EXPECT_EQ(group.pending(), 1u);
}

// --- 13. ExtendDeadline -------------------------------------------------------

TEST_P(ConsumerGroupE2ETest, ExtendDeadlinePostponesRedelivery) {
  v1::SubscribeInit init = GroupInit("extend");
  init.set_ack_deadline_seconds(1);
  GroupStream stream(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
  ASSERT_TRUE(confirm.ok()) << confirm.status();

  PostEvent(port());
  std::vector<ReceivedDelivery> got = stream.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(stream.Extend({got[0].ack_id()}, 3));
  std::optional<v1::SettleResult> extended = stream.WaitForSettleResult(absl::Seconds(5));
  ASSERT_TRUE(extended.has_value());
  EXPECT_EQ(extended->extended(), 1);
  EXPECT_THAT(extended->expired_ack_ids(), IsEmpty());
  EXPECT_TRUE(stream.NoDeliveryFor(absl::Seconds(2))) << "the deadline is 3 s now";

  std::optional<v1::SettleResult> acked = stream.AckAndWait({got[0].ack_id()});
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 1);
  EXPECT_THAT(acked->expired_ack_ids(), IsEmpty());

  ASSERT_TRUE(stream.Extend({got[0].ack_id(), "garbage"}, 3));
  std::optional<v1::SettleResult> late = stream.WaitForSettleResult(absl::Seconds(5));
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->extended(), 0);
  EXPECT_THAT(late->expired_ack_ids(), Contains(got[0].ack_id()));
  EXPECT_THAT(late->unknown_ack_ids(), Contains("garbage"));
}

INSTANTIATE_TEST_SUITE_P(Journals, ConsumerGroupE2ETest, ::testing::Values(false, true),
                         JournalName);

}  // namespace
}  // namespace refir::bridge::testing
