// Configuring the log of log.h: its line format, level, and where lines go.
// main.cc calls InitLogging once, before any other thread starts; until then
// (and in tests that never call it) lines go to stderr at kInfo, as text when
// stderr is a terminal and as JSON otherwise (the rule of "auto").
#ifndef REFIR_BRIDGE_COMMON_LOG_SETUP_H_
#define REFIR_BRIDGE_COMMON_LOG_SETUP_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/common/log.h"
#include "bridge/common/log_line.h"

namespace spdlog::sinks {
class sink;
}  // namespace spdlog::sinks

namespace refir::bridge {

struct LogOptions {
  LogFormat format = LogFormat::kText;
  LogLevel level = LogLevel::kInfo;
};

// "debug", "info", "warning" (or "warn"), "error".
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
// "json", "text", or "auto": text when stderr is a terminal, else JSON.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);

// Sends every later line to stderr in `options`' format. Lines are written
// in batches, within 20 ms (at once for warnings and errors): see
// log_sink.h.
void InitLogging(const LogOptions& options);
// The same, to `sink` instead (tests). The logger keeps `sink` alive to the
// end of the process, so it must own what it writes to (spdlog's
// ostream_sink only references its stream).
void InitLogging(const LogOptions& options, std::shared_ptr<spdlog::sinks::sink> sink);

// Returns once every line logged so far is written. Call before exiting.
void FlushLogs();

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_COMMON_LOG_SETUP_H_
