#include "bridge/common/log_sink.h"

#include <unistd.h>

#include <cerrno>

#include "absl/time/clock.h"

namespace refir::bridge {
namespace {

// Buffered bytes that wake the flusher early.
constexpr size_t kWakeBytes = 64 * 1024;
// Buffered bytes at which callers wait for the flusher.
constexpr size_t kMaxBytes = 1024 * 1024;

}  // namespace

StderrLineSink::StderrLineSink(int fd, absl::Duration max_delay) : fd_(fd), max_delay_(max_delay) {
  {
    absl::MutexLock lock(&mu_);
    buffer_.reserve(kWakeBytes + 4096);
  }
  flusher_ = std::thread([this] { FlusherLoop(); });
}

StderrLineSink::~StderrLineSink() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    work_cv_.Signal();
  }
  flusher_.join();
}

void StderrLineSink::log(const spdlog::details::log_msg& msg) {
  absl::MutexLock lock(&mu_);
  while (!stopping_ && buffer_.size() >= kMaxBytes) written_cv_.Wait(&mu_);
  buffer_.append(msg.payload.data(), msg.payload.size());
  buffer_.push_back('\n');
  appended_ += msg.payload.size() + 1;
  const bool urgent = msg.level >= spdlog::level::warn || buffer_.size() >= kWakeBytes;
  if (flusher_idle_) {
    flusher_idle_ = false;
    write_now_ = write_now_ || urgent;
    work_cv_.Signal();
  } else if (urgent && !write_now_) {
    write_now_ = true;
    work_cv_.Signal();
  }
}

void StderrLineSink::flush() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = appended_;
  if (written_ >= target) return;
  write_now_ = true;
  work_cv_.Signal();
  while (!stopping_ && written_ < target) written_cv_.Wait(&mu_);
}

void StderrLineSink::FlusherLoop() {
  std::string lines;
  absl::MutexLock lock(&mu_);
  for (;;) {
    while (buffer_.empty() && !write_now_ && !stopping_) {
      flusher_idle_ = true;
      work_cv_.Wait(&mu_);
    }
    flusher_idle_ = false;
    // A line is waiting: give others up to max_delay_ to join it.
    const absl::Time deadline = absl::Now() + max_delay_;
    while (!write_now_ && !stopping_) {
      if (work_cv_.WaitWithDeadline(&mu_, deadline)) break;  // timed out
    }
    write_now_ = false;
    if (buffer_.empty()) {
      if (stopping_) return;
      continue;
    }
    lines.swap(buffer_);  // the buffers trade places, and capacities
    const uint64_t taken = appended_;
    mu_.Unlock();
    Write(lines);
    lines.clear();
    mu_.Lock();
    written_ = taken;
    written_cv_.SignalAll();
  }
}

void StderrLineSink::Write(const std::string& lines) const {
  size_t done = 0;
  while (done < lines.size()) {
    const ssize_t n = ::write(fd_, lines.data() + done, lines.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report a failing stderr: drop the lines
    done += static_cast<size_t>(n);
  }
}

}  // namespace refir::bridge
