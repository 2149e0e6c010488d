// UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits.
// Used as the event id when a webhook carries no webhook-id header.
#ifndef REFIR_BRIDGE_COMMON_UUID7_H_
#define REFIR_BRIDGE_COMMON_UUID7_H_

#include <string>

#include "absl/time/time.h"

namespace refir::bridge {

// Returns a new UUIDv7 for `now` in canonical lower-case 8-4-4-4-12 form.
// Thread-safe. Ids made in the same millisecond sort in no particular order.
std::string NewUuidV7(absl::Time now);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_COMMON_UUID7_H_
