#include "bridge/delivery/outgoing_batch.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bridge/common/proto_wire.h"

namespace refir::bridge {
namespace {

// Field numbers (proto/refir/bridge/v1/event_stream.proto, event.proto).
constexpr int kResponseBatch = 2;    // SubscribeResponse.batch
constexpr int kBatchDeliveries = 1;  // DeliveryBatch.deliveries
constexpr int kDeliveryAckId = 1;    // Delivery.ack_id
constexpr int kDeliveryAttempt = 2;  // Delivery.delivery_attempt
constexpr int kDeliveryEvent = 3;    // Delivery.event
constexpr int kEventSequence = 2;    // Event.sequence

// An int32 as protobuf encodes it: sign-extended to 64 bits.
uint64_t Int32Wire(int32_t value) { return static_cast<uint64_t>(static_cast<int64_t>(value)); }

size_t EventSize(size_t stored_size, uint64_t sequence) {
  return stored_size + (sequence == 0 ? 0 : wire::VarintFieldSize(sequence));
}

}  // namespace

void OutgoingBatch::Clear() {
  ack_ids_.clear();
  events_.clear();
  entries_.clear();
  batch_size_ = 0;
}

void OutgoingBatch::Add(uint64_t sequence, absl::string_view ack_id, int32_t delivery_attempt,
                        absl::string_view stored_event) {
  Entry entry;
  entry.sequence = sequence;
  entry.delivery_attempt = delivery_attempt;
  entry.ack_id_offset = ack_ids_.size();
  entry.ack_id_size = static_cast<uint32_t>(ack_id.size());
  entry.event_offset = events_.size();
  entry.event_size = stored_event.size();
  ack_ids_.append(ack_id.data(), ack_id.size());
  events_.append(stored_event.data(), stored_event.size());
  // Proto3 leaves fields at their default value out.
  entry.delivery_size =
      (ack_id.empty() ? 0 : wire::LengthDelimitedSize(ack_id.size())) +
      (delivery_attempt == 0 ? 0 : wire::VarintFieldSize(Int32Wire(delivery_attempt))) +
      wire::LengthDelimitedSize(EventSize(stored_event.size(), sequence));
  batch_size_ += wire::LengthDelimitedSize(entry.delivery_size);
  entries_.push_back(entry);
}

size_t OutgoingBatch::EncodedSize() const { return wire::LengthDelimitedSize(batch_size_); }

void OutgoingBatch::EncodeTo(uint8_t* out) const {
  out = wire::WriteLengthDelimitedHeader(kResponseBatch, batch_size_, out);
  for (const Entry& entry : entries_) {
    out = wire::WriteLengthDelimitedHeader(kBatchDeliveries, entry.delivery_size, out);
    if (entry.ack_id_size > 0) {
      out = wire::WriteLengthDelimitedHeader(kDeliveryAckId, entry.ack_id_size, out);
      std::memcpy(out, ack_ids_.data() + entry.ack_id_offset, entry.ack_id_size);
      out += entry.ack_id_size;
    }
    if (entry.delivery_attempt != 0) {
      out = wire::WriteVarintField(kDeliveryAttempt, Int32Wire(entry.delivery_attempt), out);
    }
    out = wire::WriteLengthDelimitedHeader(kDeliveryEvent,
                                           EventSize(entry.event_size, entry.sequence), out);
    std::memcpy(out, events_.data() + entry.event_offset, entry.event_size);
    out += entry.event_size;
    if (entry.sequence != 0) out = wire::WriteVarintField(kEventSequence, entry.sequence, out);
  }
}

std::string OutgoingBatch::Encode() const {
  std::string encoded(EncodedSize(), '\0');
  EncodeTo(reinterpret_cast<uint8_t*>(encoded.data()));
  return encoded;
}

absl::StatusOr<std::vector<v1::Delivery>> OutgoingBatch::ToDeliveriesForTesting() const {
  v1::SubscribeResponse response;
  if (!response.ParseFromString(Encode())) {
    return absl::DataLossError(absl::StrCat("a batch of ", size(), " deliveries does not parse"));
  }
  std::vector<v1::Delivery> deliveries;
  deliveries.reserve(static_cast<size_t>(response.batch().deliveries_size()));
  for (v1::Delivery& delivery : *response.mutable_batch()->mutable_deliveries()) {
    deliveries.push_back(std::move(delivery));
  }
  return deliveries;
}

}  // namespace refir::bridge
