// Ack ids: each names one delivery of one event to one consumer group, as
// "<epoch>-<sequence>-<delivery>". `delivery` counts every delivery the group
// made since the process started, so no two deliveries share an id (not even
// two first deliveries of one event around a seek); the epoch is random per
// group per process start, so an id from before a restart never matches a
// delivery made after it.
#ifndef REFIR_BRIDGE_DELIVERY_ACK_ID_H_
#define REFIR_BRIDGE_DELIVERY_ACK_ID_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace refir::bridge {

struct AckId {
  uint32_t epoch = 0;
  uint64_t sequence = 0;
  uint64_t delivery = 0;

  std::string Encode() const;
  // Appends the encoding to `out`.
  void AppendTo(std::string* out) const;
  // nullopt when `text` is not an ack id of this format.
  static std::optional<AckId> Decode(absl::string_view text);
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_ACK_ID_H_
