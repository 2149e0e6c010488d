// OutgoingBatch: the deliveries of one DeliveryBatch, kept close to the wire
// bytes they are sent as. Events are copied in as the journal stores them (a
// serialized refir.bridge.v1.Event without its sequence) and never parsed:
// Encode writes a SubscribeResponse{batch} in protobuf wire format around
// them, appending each event's `sequence` field after its stored bytes. A
// parser merges the fields of a message in whatever order they come, so
// clients decode exactly the Event the journal stored, with its sequence.
#ifndef REFIR_BRIDGE_DELIVERY_OUTGOING_BATCH_H_
#define REFIR_BRIDGE_DELIVERY_OUTGOING_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "refir/bridge/v1/event_stream.pb.h"

namespace refir::bridge {

class OutgoingBatch {
 public:
  // Forgets every delivery, keeping the buffers for reuse.
  void Clear();

  // Adds one delivery of the stored event `stored_event` at `sequence`.
  // `ack_id` is empty on ephemeral streams.
  void Add(uint64_t sequence, absl::string_view ack_id, int32_t delivery_attempt,
           absl::string_view stored_event);

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  uint64_t sequence(size_t i) const { return entries_[i].sequence; }
  // Stored bytes of the events added so far (what a batch's byte cap counts).
  size_t event_bytes() const { return events_.size(); }

  // Bytes of the encoded SubscribeResponse.
  size_t EncodedSize() const;
  // Writes the SubscribeResponse carrying this batch: exactly EncodedSize()
  // bytes at `out`.
  void EncodeTo(uint8_t* out) const;
  std::string Encode() const;

  // The deliveries as messages, by parsing the encoding (tests only;
  // the stream never does this). DATA_LOSS if it does not parse.
  absl::StatusOr<std::vector<v1::Delivery>> ToDeliveriesForTesting() const;

 private:
  struct Entry {
    uint64_t sequence;
    int32_t delivery_attempt;
    uint32_t ack_id_size;
    size_t ack_id_offset;
    size_t event_offset;
    size_t event_size;
    size_t delivery_size;  // encoded Delivery, without its tag and length
  };

  std::string ack_ids_;  // every ack id, back to back
  std::string events_;   // every stored event, back to back
  std::vector<Entry> entries_;
  size_t batch_size_ = 0;  // encoded DeliveryBatch, without its tag and length
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_OUTGOING_BATCH_H_
