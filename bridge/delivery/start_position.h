// Resolves a SubscribeInit start position (earliest, latest, a sequence, a
// time) to the first journal sequence a stream should deliver.
#ifndef REFIR_BRIDGE_DELIVERY_START_POSITION_H_
#define REFIR_BRIDGE_DELIVERY_START_POSITION_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "bridge/journal/journal.h"
#include "refir/bridge/v1/event_stream.pb.h"

namespace refir::bridge {

// Unset position means latest: HeadSequence() + 1. A sequence of 0 means 1.
// INVALID_ARGUMENT for a time outside the representable range.
absl::StatusOr<uint64_t> ResolveStartSequence(Journal& journal, const v1::StartPosition& start);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_START_POSITION_H_
