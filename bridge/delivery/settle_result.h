// Filling a SettleResult within bounds: at most kMaxListedAckIds expired and
// kMaxListedAckIds unknown ack ids are listed (and unknown ids only up to
// kMaxListedAckIdBytes long); the rest are only counted, so a client that
// settles many ids it never got cannot make the reply grow with its request.
#ifndef REFIR_BRIDGE_DELIVERY_SETTLE_RESULT_H_
#define REFIR_BRIDGE_DELIVERY_SETTLE_RESULT_H_

#include <cstddef>

#include "absl/strings/string_view.h"
#include "refir/bridge/v1/event_stream.pb.h"

namespace refir::bridge {

// Ids listed per kind (expired, unknown) in one SettleResult.
inline constexpr int kMaxListedAckIds = 100;
// Longest unknown ack id listed (the ids this server issues are shorter).
inline constexpr size_t kMaxListedAckIdBytes = 64;

// Records `ack_id` as never issued: listed, or counted when the list is full
// or the id is longer than kMaxListedAckIdBytes.
void AddUnknownAckId(absl::string_view ack_id, v1::SettleResult* result);
// Records `ack_id` as no longer live: listed, or counted when the list is full.
void AddExpiredAckId(absl::string_view ack_id, v1::SettleResult* result);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_SETTLE_RESULT_H_
