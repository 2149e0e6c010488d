// Leveled, structured logging for the whole bridge, one line per message on
// stderr (see log_setup.h for the output format, the level and tests' sinks).
// A message may carry fields:
//
//   LogInfo("consumer group created", {{"group", name}, {"cursor", 17}});
//
// JSON output puts them beside "ts", "level" and "msg"; text output appends
// them as key=value. Never pass secrets (tokens, signatures, auth headers);
// request bodies only where an operator opted in (--log_webhook_bodies).
#ifndef REFIR_BRIDGE_COMMON_LOG_H_
#define REFIR_BRIDGE_COMMON_LOG_H_

#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace refir::bridge {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// One key and its value: a string (quoted and escaped on output) or a number
// or boolean (written bare). Holds views of string keys and values, so it
// must not outlive the call it is passed to.
class LogField {
 public:
  LogField(absl::string_view key, absl::string_view value)
      : key_(key), text_(value), quoted_(true) {}
  LogField(absl::string_view key, const char* value)
      : LogField(key, absl::string_view(value == nullptr ? "" : value)) {}
  LogField(absl::string_view key, const std::string& value)
      : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, bool value)
      : key_(key), text_(value ? "true" : "false"), quoted_(false) {}
  template <typename Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool> &&
                                               !std::is_same_v<Int, char>,
                                           int> = 0>
  LogField(absl::string_view key, Int value)
      : key_(key), number_(absl::StrCat(value)), quoted_(false), owns_text_(true) {}
  // Finite values are written bare; NaN and infinities as strings.
  LogField(absl::string_view key, double value);

  absl::string_view key() const { return key_; }
  absl::string_view value() const { return owns_text_ ? absl::string_view(number_) : text_; }
  // True when JSON output quotes the value (strings).
  bool quoted() const { return quoted_; }

 private:
  absl::string_view key_;
  absl::string_view text_;
  std::string number_;
  bool quoted_ = true;
  bool owns_text_ = false;
};

// Messages below `level` are dropped. Default kInfo. Thread-safe.
void SetLogLevel(LogLevel level);
// Whether a message at `level` would be written: check it before building
// costly fields.
bool LogEnabled(LogLevel level);

// Writes one line. Fields keep their order; keys should not be "ts",
// "level" or "msg".
void Log(LogLevel level, absl::string_view message, absl::Span<const LogField> fields = {});

inline void LogDebug(absl::string_view message, absl::Span<const LogField> fields = {}) {
  Log(LogLevel::kDebug, message, fields);
}
inline void LogInfo(absl::string_view message, absl::Span<const LogField> fields = {}) {
  Log(LogLevel::kInfo, message, fields);
}
inline void LogWarning(absl::string_view message, absl::Span<const LogField> fields = {}) {
  Log(LogLevel::kWarning, message, fields);
}
inline void LogError(absl::string_view message, absl::Span<const LogField> fields = {}) {
  Log(LogLevel::kError, message, fields);
}

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_COMMON_LOG_H_
