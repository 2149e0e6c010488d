// Conversions between the refir.bridge.v1 request/response messages and the
// domain types of delivery/ (stream positions, retry policies, dead letters), so that only
// grpc_api/ knows the wire shapes.
#ifndef REFIR_BRIDGE_GRPC_API_WIRE_CONVERT_H_
#define REFIR_BRIDGE_GRPC_API_WIRE_CONVERT_H_

#include "absl/status/statusor.h"
#include "bridge/delivery/consumer_groups.h"
#include "bridge/delivery/retry_policy.h"
#include "bridge/delivery/start_position.h"
#include "refir/bridge/v1/event_stream.pb.h"

namespace refir::bridge {

// A SubscribeInit start position; unset means latest. INVALID_ARGUMENT for
// a time whose nanos are out of range.
absl::StatusOr<StreamPosition> StreamPositionFromProto(const v1::StartPosition& start);

// The target of a SeekConsumerGroup. INVALID_ARGUMENT when it is unset or
// sequence 0.
absl::StatusOr<StreamPosition> SeekTargetFromProto(const v1::SeekConsumerGroupRequest& request);

// A SubscribeInit.retry_policy, validated (ValidateRetryPolicy): each
// duration in [1ms, 1h], minimum <= maximum. INVALID_ARGUMENT names the
// field ("init.retry_policy.minimum_backoff") and the limit.
absl::StatusOr<RetryPolicy> RetryPolicyFromProto(const v1::RetryPolicy& policy);

void RetryPolicyToProto(const RetryPolicy& policy, v1::RetryPolicy* out);

// A SubscribeInit.idle_expiry: INVALID_ARGUMENT when it is not a valid
// Duration (its range is the registry's to check: JoinRequest).
absl::StatusOr<absl::Duration> IdleExpiryFromProto(const google::protobuf::Duration& duration);

void DeadLetterToProto(DeadLetter letter, v1::DeadLetter* out);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_WIRE_CONVERT_H_
