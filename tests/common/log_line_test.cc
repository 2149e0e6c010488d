#include "bridge/common/log_line.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {
namespace {

const absl::Time kTime = absl::FromUnixMillis(1795830954123);  // 2026-11-28T01:55:54.123Z

std::string Json(absl::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

TEST(LogLineTest, JsonHasTimestampLevelMessageAndFieldsInOrder) {
  const std::string line = FormatLogLine(LogFormat::kJson, kTime, LogLevel::kInfo, "webhook",
                                         {{"source", "refir"},
                                          {"status", 200},
                                          {"sequence", uint64_t{18446744073709551615u}},
                                          {"latency_ms", 1.25},
                                          {"duplicate", false}});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-11-28T01:55:54.123Z\",\"level\":\"info\",\"msg\":\"webhook\","
            "\"source\":\"refir\",\"status\":200,\"sequence\":18446744073709551615,"
            "\"latency_ms\":1.25,\"duplicate\":false}");
  nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["sequence"].get<uint64_t>(), 18446744073709551615u);
}

TEST(LogLineTest, JsonLevelNames) {
  EXPECT_EQ(LogLevelName(LogLevel::kDebug), "debug");
  EXPECT_EQ(LogLevelName(LogLevel::kInfo), "info");
  EXPECT_EQ(LogLevelName(LogLevel::kWarning), "warning");
  EXPECT_EQ(LogLevelName(LogLevel::kError), "error");
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError}) {
    nlohmann::json parsed =
        nlohmann::json::parse(FormatLogLine(LogFormat::kJson, kTime, level, "m", {}));
    EXPECT_EQ(parsed["level"], std::string(LogLevelName(level)));
  }
}

TEST(LogLineTest, JsonEscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Json("line1\nline2\r\t"), "\"line1\\nline2\\r\\t\"");
  EXPECT_EQ(Json(std::string("nul\0x\x1f", 6)), "\"nul\\u0000x\\u001f\"");
  EXPECT_EQ(Json("\b\f"), "\"\\b\\f\"");
  EXPECT_EQ(Json(""), "\"\"");
}

TEST(LogLineTest, JsonKeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(Json("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  // A lone continuation byte, a truncated sequence, an overlong '/', a
  // UTF-16 surrogate: each bad byte becomes U+FFFD.
  EXPECT_EQ(Json("a\x80z"), "\"a\xEF\xBF\xBDz\"");
  EXPECT_EQ(Json("a\xE2\x82"), "\"a\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  // Whatever the bytes, the line parses.
  const std::string line = FormatLogLine(LogFormat::kJson, kTime, LogLevel::kError, "\xFF\xFE",
                                         {{"body", "{\"x\":\"\xC3\"}\n"}});
  nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["body"], "{\"x\":\"\xEF\xBF\xBD\"}\n");
}

TEST(LogLineTest, JsonEscapesFieldKeysAndNonFiniteNumbers) {
  const std::string line = FormatLogLine(LogFormat::kJson, kTime, LogLevel::kWarning, "m",
                                         {{"we\"ird", 1}, {"nan", std::nan("")}});
  nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["we\"ird"], 1);
  EXPECT_EQ(parsed["nan"], "NaN");
}

TEST(LogLineTest, TextIsOneLineWithKeyValues) {
  EXPECT_EQ(FormatLogLine(
                LogFormat::kText, kTime, LogLevel::kWarning, "two\nlines",
                {{"group", "g1"}, {"lag", 3}, {"peer", "a b"}, {"empty", ""}, {"quote", "x\"y"}}),
            "2026-11-28T01:55:54.123Z WARN two\\nlines group=g1 lag=3 peer=\"a b\" empty=\"\" "
            "quote=\"x\\\"y\"");
  EXPECT_EQ(FormatLogLine(LogFormat::kText, kTime, LogLevel::kInfo, "plain", {}),
            "2026-11-28T01:55:54.123Z INFO plain");
}

}  // namespace
}  // namespace refir::bridge
