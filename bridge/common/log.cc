// The logger behind log.h and log_setup.h: lines are formatted here, on the
// calling thread (log_line.h), and handed to spdlog, which only writes them
// ("%v" pattern) to its sink, directly or from its async thread.
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
#include "spdlog/async.h"
#include "spdlog/async_logger.h"
#include "spdlog/logger.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace refir::bridge {
namespace {

// Lines waiting for the async thread before callers block.
constexpr size_t kAsyncQueueLines = 8192;

struct Backend {
  LogFormat format = LogFormat::kText;
  std::shared_ptr<spdlog::logger> logger;
  // Only for async loggers (which hold it weakly).
  std::shared_ptr<spdlog::details::thread_pool> pool;
  // An async backend whose pool FlushLogs has drained and stopped.
  bool retired = false;
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

std::shared_ptr<spdlog::logger> MakeLogger(
    std::shared_ptr<spdlog::sinks::sink> sink,
    const std::shared_ptr<spdlog::details::thread_pool>& pool) {
  std::shared_ptr<spdlog::logger> logger;
  if (pool != nullptr) {
    logger = std::make_shared<spdlog::async_logger>("refir", std::move(sink), pool,
                                                    spdlog::async_overflow_policy::block);
  } else {
    logger = std::make_shared<spdlog::logger>("refir", std::move(sink));
  }
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);  // levels are filtered before formatting
  logger->flush_on(spdlog::level::trace);
  return logger;
}

const Backend& DefaultBackend() {
  static const Backend* const backend = [] {
    absl::MutexLock lock(&g_setup_mu);
    auto made = std::make_unique<Backend>();
    made->logger = MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), nullptr);
    const Backend* raw = made.get();
    InstalledBackends().push_back(std::move(made));
    return raw;
  }();
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

void Install(const LogOptions& options, std::shared_ptr<spdlog::sinks::sink> sink) {
  auto backend = std::make_unique<Backend>();
  backend->format = options.format;
  if (options.async) {
    backend->pool = std::make_shared<spdlog::details::thread_pool>(kAsyncQueueLines, 1);
  }
  backend->logger = MakeLogger(std::move(sink), backend->pool);
  SetLogLevel(options.level);
  absl::MutexLock lock(&g_setup_mu);
  g_backend.store(backend.get(), std::memory_order_release);
  InstalledBackends().push_back(std::move(backend));
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
  if (lower == "auto") return isatty(STDERR_FILENO) ? LogFormat::kText : LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log format \"", name, "\"; use auto, json or text"));
}

void InitLogging(const LogOptions& options) {
  Install(options, std::make_shared<spdlog::sinks::stderr_sink_mt>());
}

void InitLogging(const LogOptions& options, std::shared_ptr<spdlog::sinks::sink> sink) {
  Install(options, std::move(sink));
}

void FlushLogs() {
  absl::MutexLock lock(&g_setup_mu);
  std::vector<std::unique_ptr<Backend>> direct_backends;
  for (const std::unique_ptr<Backend>& backend : InstalledBackends()) {
    if (backend->retired) continue;
    if (backend->pool == nullptr) {
      backend->logger->flush();
      continue;
    }
    // The pool's destructor writes out everything queued, then joins its
    // thread. spdlog refuses (and reports on stderr) later lines through
    // this backend, so Log switches to a direct writer first.
    auto direct = std::make_unique<Backend>();
    direct->format = backend->format;
    direct->logger = MakeLogger(backend->logger->sinks().front(), nullptr);
    if (g_backend.load(std::memory_order_acquire) == backend.get()) {
      g_backend.store(direct.get(), std::memory_order_release);
    }
    backend->pool.reset();
    backend->retired = true;
    direct->logger->flush();
    direct_backends.push_back(std::move(direct));
  }
  for (std::unique_ptr<Backend>& direct : direct_backends) {
    InstalledBackends().push_back(std::move(direct));
  }
}

}  // namespace refir::bridge
