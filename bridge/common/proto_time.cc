#include "bridge/common/proto_time.h"

#include <algorithm>
#include <cstdint>

namespace refir::bridge {
namespace {
constexpr int64_t kMinSeconds = -62135596800;          // 0001-01-01T00:00:00Z
constexpr int64_t kMaxSeconds = 253402300799;          // 9999-12-31T23:59:59Z
constexpr int64_t kMaxDurationSeconds = 315576000000;  // 10,000 years
}  // namespace

bool InProtoTimestampRange(absl::Time time) {
  return time >= absl::FromUnixSeconds(kMinSeconds) &&
         time < absl::FromUnixSeconds(kMaxSeconds + 1);
}

google::protobuf::Timestamp ToProtoTimestamp(absl::Time time) {
  google::protobuf::Timestamp out;
  if (time < absl::FromUnixSeconds(kMinSeconds)) {
    out.set_seconds(kMinSeconds);
    return out;
  }
  if (time >= absl::FromUnixSeconds(kMaxSeconds + 1)) {
    out.set_seconds(kMaxSeconds);
    out.set_nanos(999999999);
    return out;
  }
  // ToUnixSeconds rounds toward the infinite past, so nanos is in [0, 1e9).
  const int64_t seconds = absl::ToUnixSeconds(time);
  out.set_seconds(seconds);
  out.set_nanos(
      static_cast<int32_t>((time - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
  return out;
}

google::protobuf::Duration ToProtoDuration(absl::Duration duration) {
  google::protobuf::Duration out;
  const absl::Duration limit = absl::Seconds(kMaxDurationSeconds);
  duration = std::clamp(duration, -limit, limit);
  // Both truncate toward zero, so seconds and nanos share the sign.
  const int64_t seconds = absl::IDivDuration(duration, absl::Seconds(1), &duration);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(duration)));
  return out;
}

absl::Duration FromProtoDuration(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
}

absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& time) {
  return absl::FromUnixSeconds(time.seconds()) + absl::Nanoseconds(time.nanos());
}

}  // namespace refir::bridge
