// Conversion between absl::Time and google.protobuf.Timestamp (and
// absl::Duration and google.protobuf.Duration), shared by every place that
// puts a time into a message or reads one from it.
#ifndef REFIR_BRIDGE_COMMON_PROTO_TIME_H_
#define REFIR_BRIDGE_COMMON_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace refir::bridge {

// The valid Timestamp range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
bool InProtoTimestampRange(absl::Time time);

// `time` as a Timestamp (seconds rounded toward the past, nanos in
// [0, 1e9)); times outside the valid range are clamped to it.
google::protobuf::Timestamp ToProtoTimestamp(absl::Time time);

// `duration` as a Duration (truncated to nanoseconds; seconds and nanos
// share its sign). Infinite durations are clamped to the valid range.
google::protobuf::Duration ToProtoDuration(absl::Duration duration);

// The duration a Duration stands for (seconds + nanos, unchecked).
absl::Duration FromProtoDuration(const google::protobuf::Duration& duration);

// The time a Timestamp stands for (seconds + nanos, unchecked: validate
// what a client sent before).
absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& time);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_COMMON_PROTO_TIME_H_
