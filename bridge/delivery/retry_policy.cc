#include "bridge/delivery/retry_policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace refir::bridge {
namespace {

absl::Status CheckBounds(absl::Duration value, const std::string& name) {
  if (value < RetryPolicy::kMinBackoff || value > RetryPolicy::kMaxBackoff) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " must be between ", absl::FormatDuration(RetryPolicy::kMinBackoff), " and ",
        absl::FormatDuration(RetryPolicy::kMaxBackoff), ", got ", absl::FormatDuration(value)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRetryPolicy(const RetryPolicy& policy, const std::string& field) {
  const std::string minimum = absl::StrCat(field, ".minimum_backoff");
  const std::string maximum = absl::StrCat(field, ".maximum_backoff");
  if (absl::Status status = CheckBounds(policy.minimum_backoff, minimum); !status.ok()) {
    return status;
  }
  if (absl::Status status = CheckBounds(policy.maximum_backoff, maximum); !status.ok()) {
    return status;
  }
  if (policy.minimum_backoff > policy.maximum_backoff) {
    return absl::InvalidArgumentError(absl::StrCat(
        minimum, " (", absl::FormatDuration(policy.minimum_backoff), ") must not exceed ", maximum,
        " (", absl::FormatDuration(policy.maximum_backoff), ")"));
  }
  return absl::OkStatus();
}

absl::Duration BackoffDelay(const RetryPolicy& policy, int redelivery) {
  absl::Duration delay = policy.minimum_backoff;
  // Doubling stops at the cap, so it never overflows however large
  // `redelivery` is.
  for (int i = 1; i < redelivery && delay < policy.maximum_backoff; ++i) delay *= 2;
  return std::min(delay, policy.maximum_backoff);
}

std::string RetryPolicyToString(const std::optional<RetryPolicy>& policy) {
  if (!policy.has_value()) return "none";
  return absl::StrCat("{minimum_backoff: ", absl::FormatDuration(policy->minimum_backoff),
                      ", maximum_backoff: ", absl::FormatDuration(policy->maximum_backoff), "}");
}

std::optional<RetryPolicy> RetryPolicyFromState(const internal::GroupState& state) {
  if (!state.has_retry_policy()) return std::nullopt;
  RetryPolicy policy;
  policy.minimum_backoff = absl::Nanoseconds(state.retry_policy().minimum_backoff_nanos());
  policy.maximum_backoff = absl::Nanoseconds(state.retry_policy().maximum_backoff_nanos());
  return policy;
}

void RetryPolicyToState(const std::optional<RetryPolicy>& policy, internal::GroupState* state) {
  if (!policy.has_value()) {
    state->clear_retry_policy();
    return;
  }
  internal::RetryPolicyState* stored = state->mutable_retry_policy();
  stored->set_minimum_backoff_nanos(absl::ToInt64Nanoseconds(policy->minimum_backoff));
  stored->set_maximum_backoff_nanos(absl::ToInt64Nanoseconds(policy->maximum_backoff));
}

}  // namespace refir::bridge
