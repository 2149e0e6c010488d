// What a test can read off a running bridge from outside: one sample of its
// /metrics and the memory figures of its process in /proc.
#ifndef REFIR_TESTS_INTEGRATION_BRIDGE_PROBES_H_
#define REFIR_TESTS_INTEGRATION_BRIDGE_PROBES_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "tests/common/sanitizers.h"

namespace refir::bridge::testing {

// What a bound on the bridge's RSS becomes in this build: the bound itself in
// a release build; under AddressSanitizer (the test and the bridge are built
// alike) four times it, for shadow memory and redzones, plus the quarantine
// of freed blocks, which fills up to 256 MiB by default on x86-64 Linux under
// any workload that allocates and frees (a flood of refused requests does)
// and is not the bridge's. The sanitized bound still catches the gigabyte
// growth the bounds were written against.
#ifdef REFIR_TESTS_UNDER_ASAN
inline constexpr int64_t RssBoundKb(int64_t release_bound_kb) {
  return 4 * release_bound_kb + 256 * 1024;
}
#else
inline constexpr int64_t RssBoundKb(int64_t release_bound_kb) { return release_bound_kb; }
#endif

// The value of the sample line `name value` in the bridge's /metrics on
// `admin_port`, or -1 when the scrape fails or has no such line.
double MetricValue(int admin_port, const std::string& name);

// A kB figure ("VmHWM", "VmRSS") from /proc/<pid>/status, or -1.
int64_t ProcStatusKb(pid_t pid, const std::string& field);

}  // namespace refir::bridge::testing

#endif  // REFIR_TESTS_INTEGRATION_BRIDGE_PROBES_H_
