// A short machine-readable reason ("invalid_json", "journal_unavailable", ...)
// attached to an absl::Status as a payload, so that the edges (HTTP, gRPC)
// can report it without parsing messages.
#ifndef REFIR_BRIDGE_COMMON_ERROR_REASON_H_
#define REFIR_BRIDGE_COMMON_ERROR_REASON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace refir::bridge {

// Returns `status` with `reason` attached. OK statuses are returned unchanged.
absl::Status WithReason(absl::Status status, absl::string_view reason);

// Makes a status of `code` with `reason` and `message`.
absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message);

// The reason attached by WithReason, or "" when there is none.
std::string ReasonOf(const absl::Status& status);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_COMMON_ERROR_REASON_H_
