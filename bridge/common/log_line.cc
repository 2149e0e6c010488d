#include "bridge/common/log_line.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace refir::bridge {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kReplacementCharacter[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Length of the valid UTF-8 sequence starting text[i] (2 to 4), or 0 if the
// bytes there are not one. text[i] is not ASCII.
size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  unsigned char low = 0x80;  // allowed range of the second byte
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // no overlong forms
    if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

void AppendControlEscape(unsigned char c, std::string* out) {
  switch (c) {
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    default:
      out->append("\\u00");
      out->push_back(kHexDigits[c >> 4]);
      out->push_back(kHexDigits[c & 0xF]);
  }
}

// Text output quotes a value that would otherwise not read back as one token.
bool NeedsQuotes(absl::string_view value) {
  if (value.empty()) return true;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '"' || c == '=' || c == 0x7F) return true;
  }
  return false;
}

// The message in text output: as is, control characters escaped so the
// line stays one line.
void AppendTextMessage(absl::string_view message, std::string* out) {
  for (char ch : message) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      AppendControlEscape(c, out);
    } else {
      out->push_back(ch);
    }
  }
}

absl::string_view TextLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

}  // namespace

LogField::LogField(absl::string_view key, double value) : key_(key), owns_text_(true) {
  if (std::isfinite(value)) {
    number_ = absl::StrCat(value);
    quoted_ = false;
  } else {
    number_ = std::isnan(value) ? "NaN" : (value > 0 ? "+Inf" : "-Inf");
    quoted_ = true;
  }
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  size_t run_start = 0;  // start of bytes not yet appended that need no escaping
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(text, i);
      if (length > 0) {
        i += length;
        continue;
      }
    }
    out->append(text.data() + run_start, i - run_start);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      AppendControlEscape(c, out);
    } else {
      out->append(kReplacementCharacter);
    }
    ++i;
    run_start = i;
  }
  out->append(text.data() + run_start, text.size() - run_start);
  out->push_back('"');
}

std::string FormatLogLine(LogFormat format, absl::Time time, LogLevel level,
                          absl::string_view message, absl::Span<const LogField> fields) {
  const std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  std::string line;
  line.reserve(64 + message.size() + fields.size() * 24);
  if (format == LogFormat::kJson) {
    absl::StrAppend(&line, "{\"ts\":\"", ts, "\",\"level\":\"", LogLevelName(level), "\",\"msg\":");
    AppendJsonString(message, &line);
    for (const LogField& field : fields) {
      line.push_back(',');
      AppendJsonString(field.key(), &line);
      line.push_back(':');
      if (field.quoted()) {
        AppendJsonString(field.value(), &line);
      } else {
        line.append(field.value().data(), field.value().size());
      }
    }
    line.push_back('}');
    return line;
  }
  absl::StrAppend(&line, ts, " ", TextLevelName(level), " ");
  AppendTextMessage(message, &line);
  for (const LogField& field : fields) {
    line.push_back(' ');
    AppendTextMessage(field.key(), &line);
    line.push_back('=');
    if (field.quoted() && NeedsQuotes(field.value())) {
      AppendJsonString(field.value(), &line);
    } else {
      AppendTextMessage(field.value(), &line);
    }
  }
  return line;
}

}  // namespace refir::bridge
