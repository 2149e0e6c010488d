// Retention end to end: the real binary deletes events older than
// --retention once every consumer group has settled them, keeps an event a
// group still has pending, and trims the journal to --max_journal_bytes.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

grpc::StatusCode GetEventCode(v1::EventStream::Stub& stub, uint64_t sequence) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::GetEventRequest request;
  request.set_sequence(sequence);
  v1::Event event;
  return stub.GetEvent(&context, request, &event).error_code();
}

// Polls GetEvent(sequence) until NOT_FOUND or `timeout`; true when deleted.
bool WaitUntilDeleted(v1::EventStream::Stub& stub, uint64_t sequence,
                      absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (GetEventCode(stub, sequence) == grpc::StatusCode::NOT_FOUND) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

TEST(RetentionE2ETest, DeletesOldSettledEventsAndKeepsPendingOnes) {
  BridgeProcess bridge(MakeTempDir(), {"--retention=1s", "--retention_check_interval=100ms"});
  ASSERT_TRUE(bridge.Start().ok());
  auto stub = MakeStub(bridge.grpc_target());
  GroupStream stream(*stub);
  ASSERT_TRUE(stream.Open(GroupInit("keeper")).ok());
  const std::vector<uint64_t> sequences = PostEvents(bridge.http_port(), 3);
  ASSERT_EQ(sequences, (std::vector<uint64_t>{1, 2, 3}));
  std::vector<ReceivedDelivery> deliveries = stream.ReadDeliveries(3, absl::Seconds(10));
  ASSERT_EQ(deliveries.size(), 3u);
  std::vector<std::string> ack_first_two;
  std::string ack_third;
  for (const ReceivedDelivery& delivery : deliveries) {
    if (delivery.sequence() == 3) {
      ack_third = delivery.ack_id();
    } else {
      ack_first_two.push_back(delivery.ack_id());
    }
  }
  ASSERT_TRUE(stream.Ack(ack_first_two));
  ASSERT_TRUE(stream.WaitForSettleResult(absl::Seconds(10)).has_value());

  EXPECT_TRUE(WaitUntilDeleted(*stub, 1));
  EXPECT_TRUE(WaitUntilDeleted(*stub, 2));
  // Sequence 3 is as old as 1 and 2 but still pending in the group: the
  // check that deleted them kept it. (That no later check deletes it either
  // is shown in process, with a chosen clock: GroupRegistryTest.
  // RetentionDeletesSettledEventsAndKeepsPendingOnes.)
  EXPECT_EQ(GetEventCode(*stub, 3), grpc::StatusCode::OK);
  // Once acked, it goes too.
  ASSERT_TRUE(stream.Ack({ack_third}));
  EXPECT_TRUE(WaitUntilDeleted(*stub, 3));
  // The journal goes on with the next sequence.
  EXPECT_EQ(PostEvent(bridge.http_port()), 4u);
}

TEST(RetentionE2ETest, MaxJournalBytesTrimsTheOldestEvents) {
  constexpr uint64_t kMaxBytes = 2'000'000;
  constexpr int kEvents = 120;
  BridgeProcess bridge(MakeTempDir(), {absl::StrCat("--max_journal_bytes=", kMaxBytes),
                                       "--retention_check_interval=100ms"});
  ASSERT_TRUE(bridge.Start().ok());
  const std::string filler(50'000, 'x');
  for (int i = 0; i < kEvents; ++i) {
    HttpResult posted = PostWebhook(bridge.http_port(),
                                    absl::StrCat(R"({"n":)", i, R"(,"filler":")", filler, "\"}"));
    ASSERT_EQ(posted.status, 200) << posted.body;
  }
  auto stub = MakeStub(bridge.grpc_target());
  EXPECT_TRUE(WaitUntilDeleted(*stub, 1));
  // Trimmed to under the limit: at most kMaxBytes / 50 kB events are left,
  // the newest ones.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::vector<v1::Event> left = ListAllEvents(*stub);
  while (left.size() * filler.size() > kMaxBytes && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    left = ListAllEvents(*stub);
  }
  ASSERT_FALSE(left.empty());
  EXPECT_LE(left.size() * filler.size(), kMaxBytes);
  EXPECT_GE(left.size(), 20u) << "trimmed far below the limit";
  EXPECT_EQ(left.back().sequence(), static_cast<uint64_t>(kEvents));
}

}  // namespace
}  // namespace refir::bridge::testing
