// What a test can read off a running bridge from outside: one sample of its
// /metrics and the memory figures of its process in /proc.
#ifndef REFIR_TESTS_INTEGRATION_BRIDGE_PROBES_H_
#define REFIR_TESTS_INTEGRATION_BRIDGE_PROBES_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace refir::bridge::testing {

// What bounds on the bridge's RSS are multiplied by. Under AddressSanitizer
// (the test and the bridge are built alike) shadow memory, redzones and the
// quarantine of freed blocks add ~100 MiB that are not the bridge's; the
// release build asserts the real bound, the sanitized one still catches the
// gigabyte growth the bounds were written against.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr int64_t kRssBoundScale = 4;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr int64_t kRssBoundScale = 4;
#else
inline constexpr int64_t kRssBoundScale = 1;
#endif
#else
inline constexpr int64_t kRssBoundScale = 1;
#endif

// The value of the sample line `name value` in the bridge's /metrics on
// `admin_port`, or -1 when the scrape fails or has no such line.
double MetricValue(int admin_port, const std::string& name);

// A kB figure ("VmHWM", "VmRSS") from /proc/<pid>/status, or -1.
int64_t ProcStatusKb(pid_t pid, const std::string& field);

}  // namespace refir::bridge::testing

#endif  // REFIR_TESTS_INTEGRATION_BRIDGE_PROBES_H_
