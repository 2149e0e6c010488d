// Minimal leveled logging to stderr, one line per message with a UTC
// timestamp. A stand-in until structured logging arrives; never pass secrets
// or request bodies.
#ifndef REFIR_BRIDGE_COMMON_LOG_H_
#define REFIR_BRIDGE_COMMON_LOG_H_

#include "absl/strings/string_view.h"

namespace refir::bridge {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Messages below `level` are dropped. Default kInfo. Thread-safe.
void SetLogLevel(LogLevel level);

void Log(LogLevel level, absl::string_view message);
inline void LogInfo(absl::string_view message) { Log(LogLevel::kInfo, message); }
inline void LogWarning(absl::string_view message) { Log(LogLevel::kWarning, message); }
inline void LogError(absl::string_view message) { Log(LogLevel::kError, message); }

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_COMMON_LOG_H_
