// The logger behind log.h and log_setup.h: lines are formatted here, on the
// calling thread (log_line.h), and handed to an spdlog logger that only
// passes them to its sink: a StderrLineSink (log_sink.h), or a test's.
#include "bridge/common/log.h"

#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bridge/common/log_line.h"
#include "bridge/common/log_setup.h"
#include "bridge/common/log_sink.h"
#include "spdlog/logger.h"

namespace refir::bridge {
namespace {

struct Backend {
  LogFormat format = LogFormat::kText;
  std::shared_ptr<spdlog::logger> logger;
};

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

absl::Mutex g_setup_mu;
// Every backend ever installed, kept to the end of the process: another
// thread may still be writing through a pointer it loaded before a switch.
std::vector<std::unique_ptr<Backend>>& InstalledBackends()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_setup_mu) {
  static std::vector<std::unique_ptr<Backend>> backends;
  return backends;
}
// The backend Log writes to; null until InitLogging (then DefaultBackend).
std::atomic<const Backend*> g_backend{nullptr};

const Backend* Install(LogFormat format, std::shared_ptr<spdlog::sinks::sink> sink) {
  auto backend = std::make_unique<Backend>();
  backend->format = format;
  backend->logger = std::make_shared<spdlog::logger>("refir", std::move(sink));
  backend->logger->set_pattern("%v");
  backend->logger->set_level(spdlog::level::trace);  // levels are filtered before formatting
  // The sink decides when to write (log_sink.h): spdlog never forces it.
  backend->logger->flush_on(spdlog::level::off);
  const Backend* installed = backend.get();
  absl::MutexLock lock(&g_setup_mu);
  InstalledBackends().push_back(std::move(backend));
  return installed;
}

// --log_format=auto: text for a person at a terminal, else JSON.
LogFormat AutoLogFormat() { return isatty(STDERR_FILENO) ? LogFormat::kText : LogFormat::kJson; }

// Lines before InitLogging (a bad flag, a bad config file) follow the
// default --log_format=auto rule, so a JSON pipeline reading a non-terminal
// stderr never gets a text line.
const Backend& DefaultBackend() {
  static const Backend* const backend =
      Install(AutoLogFormat(), std::make_shared<StderrLineSink>(STDERR_FILENO));
  return *backend;
}

spdlog::level::level_enum SpdlogLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarning:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void SetLogLevel(LogLevel level) {
  g_min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed);
}

void Log(LogLevel level, absl::string_view message, absl::Span<const LogField> fields) {
  if (!LogEnabled(level)) return;
  const Backend* backend = g_backend.load(std::memory_order_acquire);
  if (backend == nullptr) backend = &DefaultBackend();
  const std::string line = FormatLogLine(backend->format, absl::Now(), level, message, fields);
  backend->logger->log(SpdlogLevel(level), spdlog::string_view_t(line.data(), line.size()));
}

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warning" || lower == "warn") return LogLevel::kWarning;
  if (lower == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", name, "\"; use debug, info, warning or error"));
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "json") return LogFormat::kJson;
  if (lower == "text") return LogFormat::kText;
  if (lower == "auto") return AutoLogFormat();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log format \"", name, "\"; use auto, json or text"));
}

void InitLogging(const LogOptions& options) {
  InitLogging(options, std::make_shared<StderrLineSink>(STDERR_FILENO));
}

void InitLogging(const LogOptions& options, std::shared_ptr<spdlog::sinks::sink> sink) {
  SetLogLevel(options.level);
  g_backend.store(Install(options.format, std::move(sink)), std::memory_order_release);
}

void FlushLogs() {
  absl::MutexLock lock(&g_setup_mu);
  for (const std::unique_ptr<Backend>& backend : InstalledBackends()) backend->logger->flush();
}

}  // namespace refir::bridge
