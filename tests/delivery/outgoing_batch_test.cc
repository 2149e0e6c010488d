// Unit tests of OutgoingBatch: its hand-written wire encoding must decode to
// exactly the SubscribeResponse protobuf would have built from parsed events.
#include "bridge/delivery/outgoing_batch.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

v1::Event MakeEvent(const std::string& id, size_t body_bytes) {
  v1::Event event;
  event.set_id(id);
  event.set_source("refir");
  event.set_type("refir.referral.created");
  event.mutable_received_at()->set_seconds(1'700'000'000);
  event.mutable_refir()->mutable_lead()->set_email("lead@example.com");
  event.set_body(std::string(body_bytes, 'x'));
  (*event.mutable_headers())["webhook-id"] = id;
  return event;
}

// The event as the journal stores it: serialized without its sequence.
std::string Stored(v1::Event event) {
  event.clear_sequence();
  return event.SerializeAsString();
}

TEST(OutgoingBatchTest, DecodesToTheResponseProtobufWouldBuild) {
  // Sizes and sequences that need 1, 2 and 3 byte varints.
  const struct {
    uint64_t sequence;
    std::string ack_id;
    int32_t attempt;
    size_t body;
  } cases[] = {{1, "0000abcd-1-1", 1, 10},
               {300, "0000abcd-300-2", 2, 200},
               {1ull << 40, "", 1, 70'000},
               {UINT64_MAX, "0000abcd-max-9", 100, 0}};
  OutgoingBatch batch;
  v1::SubscribeResponse expected;
  for (const auto& c : cases) {
    v1::Event event = MakeEvent(absl::StrCat("id-", c.sequence), c.body);
    batch.Add(c.sequence, c.ack_id, c.attempt, Stored(event));
    v1::Delivery* delivery = expected.mutable_batch()->add_deliveries();
    delivery->set_ack_id(c.ack_id);
    delivery->set_delivery_attempt(c.attempt);
    *delivery->mutable_event() = event;
    delivery->mutable_event()->set_sequence(c.sequence);
  }
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_EQ(batch.sequence(2), 1ull << 40);

  const std::string encoded = batch.Encode();
  EXPECT_EQ(encoded.size(), batch.EncodedSize());
  EXPECT_EQ(encoded.size(), expected.ByteSizeLong()) << "same fields, only their order differs";
  v1::SubscribeResponse decoded;
  ASSERT_TRUE(decoded.ParseFromString(encoded));
  EXPECT_EQ(decoded.SerializeAsString(), expected.SerializeAsString());
}

TEST(OutgoingBatchTest, SequenceAppendedAfterTheStoredBytesWins) {
  // A stored record that (unexpectedly) carries a sequence: the delivered one
  // is the journal's, because the last value of a field wins.
  v1::Event event = MakeEvent("a", 5);
  event.set_sequence(999);
  OutgoingBatch batch;
  batch.Add(7, "ack", 1, event.SerializeAsString());
  absl::StatusOr<std::vector<v1::Delivery>> deliveries = batch.ToDeliveriesForTesting();
  ASSERT_TRUE(deliveries.ok()) << deliveries.status();
  ASSERT_EQ(deliveries->size(), 1u);
  EXPECT_EQ((*deliveries)[0].event().sequence(), 7u);
  EXPECT_EQ((*deliveries)[0].event().id(), "a");
}

TEST(OutgoingBatchTest, ClearKeepsNothingAndCountsStoredBytes) {
  OutgoingBatch batch;
  EXPECT_TRUE(batch.empty());
  batch.Add(1, "x", 1, "");
  batch.Add(2, "y", 1, Stored(MakeEvent("b", 100)));
  EXPECT_EQ(batch.event_bytes(), Stored(MakeEvent("b", 100)).size());
  batch.Clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.event_bytes(), 0u);
  batch.Add(3, "z", 1, "");
  absl::StatusOr<std::vector<v1::Delivery>> deliveries = batch.ToDeliveriesForTesting();
  ASSERT_TRUE(deliveries.ok()) << deliveries.status();
  ASSERT_EQ(deliveries->size(), 1u);
  EXPECT_EQ((*deliveries)[0].ack_id(), "z");
  EXPECT_EQ((*deliveries)[0].event().sequence(), 3u);
}

}  // namespace
}  // namespace refir::bridge
