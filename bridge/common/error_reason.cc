#include "bridge/common/error_reason.h"

#include <utility>

#include "absl/strings/cord.h"

namespace refir::bridge {
namespace {
constexpr absl::string_view kReasonTypeUrl = "type.refir.io/refir.bridge.ErrorReason";
}  // namespace

absl::Status WithReason(absl::Status status, absl::string_view reason) {
  if (status.ok()) return status;
  status.SetPayload(kReasonTypeUrl, absl::Cord(reason));
  return status;
}

absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message) {
  return WithReason(absl::Status(code, message), reason);
}

std::string ReasonOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kReasonTypeUrl);
  if (!payload.has_value()) return "";
  return std::string(*payload);
}

}  // namespace refir::bridge
