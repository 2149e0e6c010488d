// RetryWhileUnavailable: how the JetStream backend opens what it needs at
// startup. A cluster still electing its leaders (a bridge and its NATS
// servers starting together, a node rejoining) answers UNAVAILABLE for a
// while: the attempt is repeated every 500 ms, each retry logged with
// `subject`, until it gives anything else or `wait` has passed.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_STARTUP_RETRY_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_STARTUP_RETRY_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/common/log.h"

namespace refir::bridge::jetstream {
namespace startup_retry_internal {

inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

}  // namespace startup_retry_internal

// `attempt` returns an absl::Status or an absl::StatusOr; its last result
// is returned.
template <typename Attempt>
auto RetryWhileUnavailable(absl::Duration wait, const LogField& subject, Attempt attempt)
    -> decltype(attempt()) {
  auto result = attempt();
  const absl::Time give_up = absl::Now() + wait;
  while (absl::IsUnavailable(startup_retry_internal::StatusOf(result)) && absl::Now() < give_up) {
    LogWarning("JetStream is not ready yet; retrying",
               {subject, {"error", startup_retry_internal::StatusOf(result).message()}});
    absl::SleepFor(absl::Milliseconds(500));
    result = attempt();
  }
  return result;
}

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_STARTUP_RETRY_H_
