// CapturingLogSink: an spdlog sink for tests that keeps every line logged to
// it (InitLogging(options, sink)). It owns its text, as it must: the logger
// keeps each installed sink alive to the end of the process.
#ifndef REFIR_BRIDGE_TESTS_COMMON_CAPTURING_LOG_SINK_H_
#define REFIR_BRIDGE_TESTS_COMMON_CAPTURING_LOG_SINK_H_

#include <mutex>
#include <string>

#include "spdlog/details/log_msg.h"
#include "spdlog/sinks/base_sink.h"

namespace refir::bridge::testing {

class CapturingLogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Every line so far, each ending in '\n'.
  std::string text() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 private:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    text_.append(formatted.data(), formatted.size());
  }
  void flush_() override {}

  std::string text_;
};

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_COMMON_CAPTURING_LOG_SINK_H_
