#include "bridge/grpc_api/wire_convert.h"

#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/common/proto_time.h"

namespace refir::bridge {
namespace {

absl::StatusOr<absl::Time> TimeFromProto(const google::protobuf::Timestamp& time) {
  if (time.nanos() < 0 || time.nanos() > 999999999) {
    return absl::InvalidArgumentError(
        absl::StrCat("start.time.nanos out of range: ", time.nanos()));
  }
  return FromProtoTimestamp(time);
}

// A well-formed Duration (the range and sign rules of duration.proto).
absl::StatusOr<absl::Duration> DurationFromProto(const google::protobuf::Duration& duration,
                                                 const char* field) {
  constexpr int64_t kMaxSeconds = 315576000000;
  const int64_t seconds = duration.seconds();
  const int32_t nanos = duration.nanos();
  if (seconds < -kMaxSeconds || seconds > kMaxSeconds || nanos < -999999999 || nanos > 999999999 ||
      (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is not a valid Duration (seconds ", seconds, ", nanos ", nanos, ")"));
  }
  return FromProtoDuration(duration);
}

}  // namespace

absl::StatusOr<RetryPolicy> RetryPolicyFromProto(const v1::RetryPolicy& policy) {
  RetryPolicy out;
  absl::StatusOr<absl::Duration> minimum =
      DurationFromProto(policy.minimum_backoff(), "init.retry_policy.minimum_backoff");
  if (!minimum.ok()) return minimum.status();
  absl::StatusOr<absl::Duration> maximum =
      DurationFromProto(policy.maximum_backoff(), "init.retry_policy.maximum_backoff");
  if (!maximum.ok()) return maximum.status();
  out.minimum_backoff = *minimum;
  out.maximum_backoff = *maximum;
  absl::Status valid = ValidateRetryPolicy(out, "init.retry_policy");
  if (!valid.ok()) return valid;
  return out;
}

absl::StatusOr<absl::Duration> IdleExpiryFromProto(const google::protobuf::Duration& duration) {
  return DurationFromProto(duration, "init.idle_expiry");
}

absl::StatusOr<StreamPosition> StreamPositionFromProto(const v1::StartPosition& start) {
  switch (start.position_case()) {
    case v1::StartPosition::kEarliest:
      return StreamPosition::Earliest();
    case v1::StartPosition::kSequence:
      return StreamPosition::AtSequence(start.sequence());
    case v1::StartPosition::kTime: {
      absl::StatusOr<absl::Time> time = TimeFromProto(start.time());
      if (!time.ok()) return time.status();
      return StreamPosition::AtTime(*time);
    }
    case v1::StartPosition::kLatest:
    case v1::StartPosition::POSITION_NOT_SET:
      break;
  }
  return StreamPosition::Latest();
}

absl::StatusOr<StreamPosition> SeekTargetFromProto(const v1::SeekConsumerGroupRequest& request) {
  // The same oneof as a StartPosition, but unset is an error, not latest.
  v1::StartPosition position;
  if (request.has_sequence()) {
    if (request.sequence() == 0) return absl::InvalidArgumentError("sequence must be >= 1");
    position.set_sequence(request.sequence());
  } else if (request.has_time()) {
    *position.mutable_time() = request.time();
  } else if (request.has_earliest()) {
    position.mutable_earliest();
  } else if (request.has_latest()) {
    position.mutable_latest();
  } else {
    return absl::InvalidArgumentError("set sequence, time, earliest or latest");
  }
  return StreamPositionFromProto(position);
}

void RetryPolicyToProto(const RetryPolicy& policy, v1::RetryPolicy* out) {
  *out->mutable_minimum_backoff() = ToProtoDuration(policy.minimum_backoff);
  *out->mutable_maximum_backoff() = ToProtoDuration(policy.maximum_backoff);
}

void DeadLetterToProto(DeadLetter letter, v1::DeadLetter* out) {
  out->set_sequence(letter.sequence);
  out->set_delivery_attempts(letter.delivery_attempts);
  out->set_reason(std::move(letter.reason));
  *out->mutable_dead_lettered_at() = ToProtoTimestamp(letter.dead_lettered_at);
  if (letter.event.has_value()) *out->mutable_event() = *std::move(letter.event);
}

}  // namespace refir::bridge
