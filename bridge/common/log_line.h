// The two line formats of the log (see log.h): one JSON object per line,
//   {"ts":"2026-11-28T01:55:54.123Z","level":"info","msg":"...","key":"value"}
// or human text,
//   2026-11-28T01:55:54.123Z INFO ... key=value key2="with space"
// Pure functions, shared by the logger and its tests.
#ifndef REFIR_BRIDGE_COMMON_LOG_LINE_H_
#define REFIR_BRIDGE_COMMON_LOG_LINE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bridge/common/log.h"

namespace refir::bridge {

enum class LogFormat { kText, kJson };

// "debug", "info", "warning", "error": the JSON "level" values.
absl::string_view LogLevelName(LogLevel level);

// One line, without the trailing newline. Never contains a raw newline.
std::string FormatLogLine(LogFormat format, absl::Time time, LogLevel level,
                          absl::string_view message, absl::Span<const LogField> fields);

// Appends `text` as a JSON string literal (quotes included): '"', '\\' and
// control characters escaped, bytes that are not valid UTF-8 replaced by
// U+FFFD, so the line always parses.
void AppendJsonString(absl::string_view text, std::string* out);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_COMMON_LOG_LINE_H_
