// The CPU time this process has used so far (user + system, getrusage), for
// the bench tools that measure the CPU of a loop in their own process.
#ifndef REFIR_BENCH_PROCESS_CPU_H_
#define REFIR_BENCH_PROCESS_CPU_H_

#include <sys/resource.h>

namespace refir::bridge::bench {

inline double ProcessCpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 + usage.ru_utime.tv_usec +
         usage.ru_stime.tv_usec;
}

}  // namespace refir::bridge::bench

#endif  // REFIR_BENCH_PROCESS_CPU_H_
