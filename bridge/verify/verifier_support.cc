#include "bridge/verify/verifier_support.h"

#include "absl/strings/match.h"
#include "bridge/common/error_reason.h"

namespace refir::bridge::verify_internal {

absl::Status Unauthenticated(absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kUnauthenticated, kUnauthenticatedReason, message);
}

const std::string* FindHeader(const VerificationInput& input, absl::string_view name) {
  if (input.headers == nullptr) return nullptr;
  for (const auto& [key, value] : *input.headers) {
    if (absl::EqualsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

const std::string* FindQueryParameter(const VerificationInput& input, absl::string_view name) {
  if (input.query_parameters == nullptr) return nullptr;
  for (const auto& [key, value] : *input.query_parameters) {
    if (key == name) return &value;
  }
  return nullptr;
}

}  // namespace refir::bridge::verify_internal
