// StderrLineSink: the spdlog sink the bridge's log writes to. Each message's
// payload is already a whole line (log_line.h); the sink adds '\n'.
//
// Writing costs a write(2) per call, a few microseconds on a VM: one per
// access line halved webhook throughput. So callers only append to a buffer
// and a flusher thread writes it out in one call at least every
// `max_delay`, at once for warnings and errors, and early when 64 KiB have
// gathered. The buffer is bounded: callers wait when 1 MiB is waiting.
#ifndef REFIR_BRIDGE_COMMON_LOG_SINK_H_
#define REFIR_BRIDGE_COMMON_LOG_SINK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "spdlog/sinks/sink.h"

namespace refir::bridge {

class StderrLineSink final : public spdlog::sinks::sink {
 public:
  explicit StderrLineSink(int fd, absl::Duration max_delay = absl::Milliseconds(20));
  // Writes out what is buffered and stops the flusher.
  ~StderrLineSink() override;

  StderrLineSink(const StderrLineSink&) = delete;
  StderrLineSink& operator=(const StderrLineSink&) = delete;

  void log(const spdlog::details::log_msg& msg) override;
  // Returns once every line logged before the call is written.
  void flush() override;
  // Lines arrive formatted: patterns and formatters are ignored.
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

 private:
  void FlusherLoop();
  void Write(const std::string& lines) const;

  const int fd_;
  const absl::Duration max_delay_;

  // Condition variables rather than absl::Condition: a Condition waiter
  // makes every caller's Unlock evaluate it, and wakes it far too often.
  absl::Mutex mu_;
  absl::CondVar work_cv_;     // the flusher waits here
  absl::CondVar written_cv_;  // callers of flush() and of a full log() wait here
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  // Bytes ever appended to the buffer / written out.
  uint64_t appended_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  // The flusher waits for a first line (rather than for its delay to end).
  bool flusher_idle_ ABSL_GUARDED_BY(mu_) = false;
  bool write_now_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread flusher_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_COMMON_LOG_SINK_H_
