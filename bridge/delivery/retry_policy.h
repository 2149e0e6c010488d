// RetryPolicy: how long a consumer group waits before delivering an event
// again after a failed delivery (a RETRY nack without a delay, or an expired
// ack deadline): minimum_backoff, doubling per redelivery, capped at
// maximum_backoff. Fixed when the group is created. Domain type: the wire
// message (refir.bridge.v1.RetryPolicy) is converted in grpc_api/.
#ifndef REFIR_BRIDGE_DELIVERY_RETRY_POLICY_H_
#define REFIR_BRIDGE_DELIVERY_RETRY_POLICY_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bridge/journal/group_state.pb.h"

namespace refir::bridge {

struct RetryPolicy {
  // Bounds of each duration.
  static constexpr absl::Duration kMinBackoff = absl::Milliseconds(1);
  static constexpr absl::Duration kMaxBackoff = absl::Hours(1);

  absl::Duration minimum_backoff;
  absl::Duration maximum_backoff;

  friend bool operator==(const RetryPolicy& a, const RetryPolicy& b) {
    return a.minimum_backoff == b.minimum_backoff && a.maximum_backoff == b.maximum_backoff;
  }
  friend bool operator!=(const RetryPolicy& a, const RetryPolicy& b) { return !(a == b); }
};

// INVALID_ARGUMENT unless each duration lies in [1ms, 1h] and minimum <=
// maximum. `field` prefixes the names in the message ("init.retry_policy").
absl::Status ValidateRetryPolicy(const RetryPolicy& policy, const std::string& field);

// The wait before the `redelivery`-th redelivery of an event (1 for the
// delivery after the first failed one): minimum_backoff * 2^(redelivery-1),
// capped at maximum_backoff. `redelivery` < 1 counts as 1.
absl::Duration BackoffDelay(const RetryPolicy& policy, int redelivery);

// "none", or "{minimum_backoff: 1s, maximum_backoff: 10s}", for messages.
std::string RetryPolicyToString(const std::optional<RetryPolicy>& policy);

// The policy persisted in a group's state (absent: none), and back.
std::optional<RetryPolicy> RetryPolicyFromState(const internal::GroupState& state);
void RetryPolicyToState(const std::optional<RetryPolicy>& policy, internal::GroupState* state);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_RETRY_POLICY_H_
