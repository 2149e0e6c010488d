// Hostile clients at the gRPC listener (issue 16), against the real bridge
// binary: oversized Settle / ExtendDeadline messages, a client that floods
// settles without reading the results (memory stays bounded, others are
// served), streams beyond --grpc_max_concurrent_streams on one connection,
// oversized filters and client ids, groups beyond --grpc_max_consumer_groups,
// and ListConsumerGroups paging within its byte cap.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_probes.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kMaxAckIds = 10000;

// A channel with its own TCP connection (gRPC otherwise shares connections
// between channels with equal arguments).
std::unique_ptr<v1::EventStream::Stub> StubOnNewConnection(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::EventStream::NewStub(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
}

// Unknown ack ids shaped like real ones (which are listed in results).
std::vector<std::string> UnknownAckIds(int count, int salt) {
  std::vector<std::string> ids;
  ids.reserve(count);
  for (int i = 0; i < count; ++i) ids.push_back(absl::StrCat("9-", salt, "-", 1000000000 + i));
  return ids;
}

v1::SubscribeRequest SettleOf(const std::vector<std::string>& ids) {
  v1::SubscribeRequest request;
  for (const std::string& id : ids) request.mutable_settle()->add_ack_ids(id);
  return request;
}

// A Subscribe stream on the callback API that sends its init and then, if
// given, `settle` `settle_count` times, one write after another, and never
// reads past the confirm: the hostile client. Records writes done, the
// confirm, and the end.
class RawStream final
    : public grpc::ClientBidiReactor<v1::SubscribeRequest, v1::SubscribeResponse> {
 public:
  RawStream(v1::EventStream::Stub& stub, const v1::SubscribeInit& init,
            v1::SubscribeRequest settle = {}, int settle_count = 0)
      : settle_(std::move(settle)), settle_left_(settle_count) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    *init_.mutable_init() = init;
    stub.async()->Subscribe(&context_, this);
    StartWrite(&init_);
    StartRead(&response_);
    StartCall();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return;
    writes_done_.fetch_add(1);
    absl::MutexLock lock(&mu_);
    if (settle_left_ > 0) {
      --settle_left_;
      StartWrite(&settle_);
    }
  }
  // Reads only the confirm; the hostile client never reads again.
  void OnReadDone(bool ok) override {
    if (ok && response_.has_confirm()) confirmed_.store(true);
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  int writes_done() const { return writes_done_.load(); }
  bool confirmed() const { return confirmed_.load(); }
  void Cancel() { context_.TryCancel(); }
  // Waits for OnDone (the reactor must outlive it).
  bool WaitDone(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&done_), timeout);
  }

 private:
  grpc::ClientContext context_;
  v1::SubscribeRequest init_;
  v1::SubscribeRequest settle_;
  v1::SubscribeResponse response_;
  std::atomic<int> writes_done_{0};
  std::atomic<bool> confirmed_{false};
  absl::Mutex mu_;
  int settle_left_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// Polls `done` every 20 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

class HostileGrpcClientsE2ETest : public ::testing::Test {
 protected:
  void StartBridge(std::vector<std::string> flags = {}) {
    bridge_ = std::make_unique<BridgeProcess>(MakeTempDir(), std::move(flags));
    bridge_->set_stderr_file(absl::StrCat(bridge_->data_dir(), "/stderr.log"));
    ASSERT_TRUE(bridge_->Start().ok());
    stub_ = MakeStub(bridge_->grpc_target());
  }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<v1::EventStream::Stub> stub_;
};

TEST_F(HostileGrpcClientsE2ETest, SettleWithTooManyAckIdsEndsTheStream) {
  StartBridge();
  GroupStream stream(*stub_);
  ASSERT_TRUE(stream.Open(GroupInit("settle-cap")).ok());
  std::vector<std::string> ids = UnknownAckIds(kMaxAckIds, 1);
  v1::SubscribeRequest request = SettleOf(ids);
  v1::Nack* nack = request.mutable_settle()->add_nacks();
  nack->set_ack_id("9-1-1");
  ASSERT_TRUE(stream.Send(request));
  const grpc::Status status = stream.WaitForEnd(absl::Seconds(10));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "Settle carries 10001 ack ids; the limit is 10000");
}

TEST_F(HostileGrpcClientsE2ETest, ExtendWithTooManyAckIdsEndsTheStream) {
  StartBridge();
  GroupStream stream(*stub_);
  ASSERT_TRUE(stream.Open(GroupInit("extend-cap")).ok());
  ASSERT_TRUE(stream.Extend(UnknownAckIds(kMaxAckIds + 5, 2), 30));
  const grpc::Status status = stream.WaitForEnd(absl::Seconds(10));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "ExtendDeadline carries 10005 ack ids; the limit is 10000");
}

TEST_F(HostileGrpcClientsE2ETest, SettleResultListsABoundedNumberOfIds) {
  StartBridge();
  GroupStream stream(*stub_);
  ASSERT_TRUE(stream.Open(GroupInit("settle-listing")).ok());
  // Exactly the cap is accepted; 100 ids are listed, the rest counted.
  std::optional<v1::SettleResult> result =
      stream.AckAndWait(UnknownAckIds(kMaxAckIds, 3), absl::Seconds(10));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->unknown_ack_ids_size() + result->expired_ack_ids_size(), 100);
  EXPECT_EQ(result->unknown_ack_ids_not_listed() + result->expired_ack_ids_not_listed(),
            kMaxAckIds - 100);
  // A 1 KiB "ack id" is counted, never echoed.
  result = stream.AckAndWait({std::string(1024, 'z')}, absl::Seconds(10));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->unknown_ack_ids_size(), 0);
  EXPECT_EQ(result->unknown_ack_ids_not_listed(), 1);
}

TEST_F(HostileGrpcClientsE2ETest, UnreadSettleFloodKeepsMemoryBoundedAndOthersServed) {
  StartBridge();
  std::unique_ptr<v1::EventStream::Stub> hostile_stub = StubOnNewConnection(bridge_->grpc_target());
  // Hostile client 1: 200 settles of 10,000 unknown ids (about 230 KB each,
  // 46 MB in all), never reading a result. Each result lists 100 ids.
  auto big = std::make_unique<RawStream>(*hostile_stub, GroupInit("flood", "big-settles"),
                                         SettleOf(UnknownAckIds(kMaxAckIds, 4)), 200);
  // Hostile client 2: 5,000 settles of 200 ids that each produce the
  // largest result (100 expired and 100 unknown ids listed, about 11 KB),
  // never reading one: 55 MB of results if the bridge kept answering.
  constexpr int kSmallSettles = 5000;
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(absl::StrCat("9-", 1000000000000000000 + i, "-7"));
  for (int i = 0; i < 100; ++i) ids.push_back(absl::StrCat("unknown-", i, std::string(50, 'u')));
  auto small = std::make_unique<RawStream>(*hostile_stub, GroupInit("flood", "small-settles"),
                                           SettleOf(ids), kSmallSettles);
  ASSERT_TRUE(WaitUntil([&] { return big->confirmed() && small->confirmed(); }, absl::Seconds(10)));
  // Wait until the flood is absorbed: every write done, or the writes
  // stalled (the bridge stopped reading: backpressure). Which one happens
  // depends on how much the client's own gRPC transport buffers of the
  // results it does not read; the bridge's memory is bounded either way.
  int last = -1;
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  while (small->writes_done() + big->writes_done() != last && absl::Now() < give_up) {
    last = small->writes_done() + big->writes_done();
    absl::SleepFor(absl::Milliseconds(250));
  }
  const int stalled_at = small->writes_done();
  EXPECT_GT(stalled_at, 64) << "the bridge read too few settles for the test to mean anything";

  // A well-behaved client on its own connection still gets and acks events.
  GroupStream good(*stub_);
  ASSERT_TRUE(good.Open(GroupInit("good", "good-client")).ok());
  const std::vector<uint64_t> sequences = PostEvents(bridge_->http_port(), 20);
  ASSERT_EQ(sequences.size(), 20u);
  std::vector<ReceivedDelivery> deliveries = good.ReadDeliveries(20, absl::Seconds(10));
  ASSERT_EQ(deliveries.size(), 20u);
  std::optional<v1::SettleResult> acked = good.AckAndWait(AckIdsOf(deliveries));
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->acked(), 20);

  const int64_t peak_kb = ProcStatusKb(bridge_->pid(), "VmHWM");
  ASSERT_GT(peak_kb, 0);
  RecordProperty("bridge_peak_rss_kb", static_cast<int>(peak_kb));
  std::printf("bridge VmHWM: %.1f MiB (writes done: %d big settles, %d small ones)\n",
              static_cast<double>(peak_kb) / 1024, big->writes_done(), stalled_at);
  EXPECT_LT(peak_kb, RssBoundKb(150 * 1024)) << "bridge peak RSS " << peak_kb << " kB";

  big->Cancel();
  small->Cancel();
  ASSERT_TRUE(big->WaitDone(absl::Seconds(10)));
  ASSERT_TRUE(small->WaitDone(absl::Seconds(10)));
}

TEST_F(HostileGrpcClientsE2ETest, StreamsBeyondTheLimitOnOneConnectionWait) {
  StartBridge({"--grpc_max_concurrent_streams=5"});
  std::unique_ptr<v1::EventStream::Stub> crowded = StubOnNewConnection(bridge_->grpc_target());
  std::vector<std::unique_ptr<RawStream>> streams;
  for (int i = 0; i < 15; ++i) {
    streams.push_back(std::make_unique<RawStream>(*crowded, v1::SubscribeInit()));
  }
  auto confirmed = [&] {
    int n = 0;
    for (const auto& stream : streams) n += stream->confirmed() ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(WaitUntil([&] { return confirmed() >= 5; }, absl::Seconds(10)));
  // The others stay unadmitted while the first five are open.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(confirmed(), 5);

  // A legitimate client on another connection is served.
  std::unique_ptr<v1::EventStream::Stub> other = StubOnNewConnection(bridge_->grpc_target());
  GroupStream legit(*other);
  EXPECT_TRUE(legit.Open(v1::SubscribeInit()).ok());

  for (auto& stream : streams) stream->Cancel();
  for (auto& stream : streams) ASSERT_TRUE(stream->WaitDone(absl::Seconds(10)));
}

TEST_F(HostileGrpcClientsE2ETest, OversizedFilterAndClientIdAreInvalidArgument) {
  StartBridge();
  {
    v1::SubscribeInit init = GroupInit("big-filter");
    for (int i = 0; i < 20000; ++i) init.mutable_filter()->add_types(absl::StrCat("t.", i));
    GroupStream stream(*stub_);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
    EXPECT_TRUE(absl::IsInvalidArgument(confirm.status())) << confirm.status();
    EXPECT_THAT(confirm.status().message(),
                HasSubstr("filter.types has 20000 entries; the limit is 100"));
  }
  {
    v1::SubscribeInit init = GroupInit("long-entry");
    init.mutable_filter()->add_types(std::string(300, 'a'));
    GroupStream stream(*stub_);
    absl::StatusOr<v1::SubscribeConfirm> confirm = stream.Open(init);
    EXPECT_TRUE(absl::IsInvalidArgument(confirm.status())) << confirm.status();
    EXPECT_THAT(confirm.status().message(), HasSubstr("the limit is 256"));
  }
  {
    GroupStream stream(*stub_);
    absl::StatusOr<v1::SubscribeConfirm> confirm =
        stream.Open(GroupInit("long-client", std::string(1 << 20, 'c')));
    EXPECT_TRUE(absl::IsInvalidArgument(confirm.status())) << confirm.status();
    EXPECT_THAT(confirm.status().message(),
                HasSubstr("init.client_id is 1048576 bytes; the limit is 256"));
  }
  {
    // At the limit it is accepted, and logged clipped.
    GroupStream stream(*stub_);
    ASSERT_TRUE(stream.Open(GroupInit("max-client", std::string(256, 'k'))).ok());
  }
  ASSERT_TRUE(WaitUntil([&] { return absl::StrContains(bridge_->CapturedStderr(), "(256 bytes)"); },
                        absl::Seconds(5)));
  EXPECT_FALSE(absl::StrContains(bridge_->CapturedStderr(), std::string(65, 'k')));
  EXPECT_FALSE(absl::StrContains(bridge_->CapturedStderr(), std::string(65, 'c')));
}

TEST_F(HostileGrpcClientsE2ETest, GroupsBeyondTheLimitAreResourceExhausted) {
  StartBridge({"--grpc_max_consumer_groups=3"});
  for (int i = 0; i < 3; ++i) {
    GroupStream stream(*stub_);
    ASSERT_TRUE(stream.Open(GroupInit(absl::StrCat("g", i))).ok());
  }
  GroupStream fourth(*stub_);
  absl::StatusOr<v1::SubscribeConfirm> confirm = fourth.Open(GroupInit("g3"));
  EXPECT_TRUE(absl::IsResourceExhausted(confirm.status())) << confirm.status();
  EXPECT_THAT(confirm.status().message(), HasSubstr("the limit is 3"));
  EXPECT_THAT(confirm.status().message(), HasSubstr("--grpc_max_consumer_groups"));
  // Existing groups can still be joined.
  GroupStream again(*stub_);
  EXPECT_TRUE(again.Open(GroupInit("g1")).ok());
}

TEST_F(HostileGrpcClientsE2ETest, ListConsumerGroupsPagesWithinTheByteCap) {
  StartBridge();
  // 45 groups with 100-entry filters of 250 bytes: about 1.1 MiB described.
  constexpr int kGroups = 45;
  std::set<std::string> created;
  for (int g = 0; g < kGroups; ++g) {
    v1::SubscribeInit init = GroupInit(absl::StrCat("big-", 100 + g));
    for (int i = 0; i < 100; ++i) {
      init.mutable_filter()->add_types(absl::StrCat("t", i, ".", std::string(240, 'x')));
    }
    GroupStream stream(*stub_);
    ASSERT_TRUE(stream.Open(init).ok()) << g;
    created.insert(init.consumer_group());
  }
  auto list_all = [&](int page_size, int* pages) {
    std::vector<std::string> names;
    std::string token;
    *pages = 0;
    do {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      v1::ListConsumerGroupsRequest request;
      request.set_page_size(page_size);
      request.set_page_token(token);
      v1::ListConsumerGroupsResponse response;
      const grpc::Status status = stub_->ListConsumerGroups(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      EXPECT_LE(response.ByteSizeLong(), 1024u * 1024u);
      EXPECT_GT(response.groups_size(), 0);
      for (const v1::ConsumerGroup& group : response.groups()) names.push_back(group.name());
      token = response.next_page_token();
      ++*pages;
    } while (!token.empty() && *pages < 100);
    return names;
  };
  int pages = 0;
  std::vector<std::string> names = list_all(1000, &pages);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), created);
  EXPECT_EQ(names.size(), created.size()) << "a group was listed twice";
  EXPECT_GE(pages, 2) << "1.1 MiB of groups fit one page";
  names = list_all(10, &pages);
  EXPECT_EQ(names.size(), created.size());
  EXPECT_EQ(pages, 5);

  grpc::ClientContext context;
  v1::ListConsumerGroupsRequest request;
  request.set_page_size(1001);
  v1::ListConsumerGroupsResponse response;
  const grpc::Status status = stub_->ListConsumerGroups(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_size must be between 1 and 1000"));
}

}  // namespace
}  // namespace refir::bridge::testing
