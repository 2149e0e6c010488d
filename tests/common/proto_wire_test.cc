// Unit tests of the wire-format helpers used around stored event bytes.
#include "bridge/common/proto_wire.h"

#include <initializer_list>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"
#include "gtest/gtest.h"
#include "refir/bridge/v1/event.pb.h"

namespace refir::bridge::wire {
namespace {

TEST(ProtoWireTest, SizesAndWritesMatchProtobuf) {
  for (uint64_t value : std::initializer_list<uint64_t>{0, 1, 127, 128, 16383, 16384, UINT64_MAX}) {
    uint8_t buffer[16];
    EXPECT_EQ(static_cast<size_t>(WriteVarint(value, buffer) - buffer), VarintSize(value));
    EXPECT_EQ(VarintFieldSize(value), 1 + VarintSize(value));
  }
  // A Timestamp{seconds = 300} written by hand equals protobuf's encoding.
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(300);
  uint8_t buffer[16];
  const uint8_t* end = WriteVarintField(1, 300, buffer);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer), end - buffer),
            timestamp.SerializeAsString());
  end = WriteLengthDelimitedHeader(2, 200, buffer);
  EXPECT_EQ(static_cast<size_t>(end - buffer) + 200, LengthDelimitedSize(200));
}

TEST(ProtoWireTest, WellFormedMessages) {
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(1'700'000'000);
  timestamp.set_nanos(5);
  EXPECT_TRUE(IsWellFormedMessage(timestamp.SerializeAsString()));
  EXPECT_TRUE(IsWellFormedMessage(""));
  EXPECT_TRUE(
      IsWellFormedMessage(std::string("\x0a\x03"
                                      "abc",
                                      5)));  // bytes field
  EXPECT_TRUE(
      IsWellFormedMessage(std::string("\x09"
                                      "12345678",
                                      9)));  // fixed64
  EXPECT_TRUE(
      IsWellFormedMessage(std::string("\x0d"
                                      "1234",
                                      5)));  // fixed32
}

TEST(ProtoWireTest, MalformedMessages) {
  EXPECT_FALSE(
      IsWellFormedMessage(std::string("\x0a\x05"
                                      "abc",
                                      5)));                       // length past the end
  EXPECT_FALSE(IsWellFormedMessage(std::string("\x08", 1)));      // missing varint
  EXPECT_FALSE(IsWellFormedMessage(std::string("\x08\x80", 2)));  // truncated varint
  EXPECT_FALSE(IsWellFormedMessage(std::string("\x00", 1)));      // field number 0
  EXPECT_FALSE(IsWellFormedMessage(std::string("\x0b", 1)));      // group start
  EXPECT_FALSE(IsWellFormedMessage(std::string("\x0f", 1)));      // wire type 7
  EXPECT_FALSE(
      IsWellFormedMessage(std::string("\x09"
                                      "123",
                                      4)));  // short fixed64
}

TEST(ProtoWireTest, FindsALengthDelimitedFieldOfAStoredEvent) {
  v1::Event event;
  event.set_id("evt-1");
  event.set_body(std::string(5000, 'x'));
  event.set_ordering_key("lead-42");
  event.mutable_headers()->insert({"webhook-id", "evt-1"});
  const std::string bytes = event.SerializeAsString();
  EXPECT_EQ(FindLengthDelimitedField(bytes, v1::Event::kOrderingKeyFieldNumber), "lead-42");
  EXPECT_EQ(FindLengthDelimitedField(bytes, v1::Event::kIdFieldNumber), "evt-1");
  // Absent, and malformed input: empty.
  event.clear_ordering_key();
  EXPECT_EQ(FindLengthDelimitedField(event.SerializeAsString(), v1::Event::kOrderingKeyFieldNumber),
            "");
  EXPECT_EQ(FindLengthDelimitedField(bytes.substr(0, bytes.size() - 1),
                                     v1::Event::kOrderingKeyFieldNumber),
            "");
  // Repeated: the last one wins, as when parsing.
  const std::string twice = absl::StrCat(bytes, std::string("\x5a\x01z", 3));
  EXPECT_EQ(FindLengthDelimitedField(twice, v1::Event::kOrderingKeyFieldNumber), "z");
}

}  // namespace
}  // namespace refir::bridge::wire
