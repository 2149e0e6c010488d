// The logger end to end: log.h calls through spdlog into a test sink.
#include "bridge/common/log.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "bridge/common/log_setup.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/common/capturing_log_sink.h"

namespace refir::bridge {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void Use(LogOptions options) {
    sink_ = std::make_shared<testing::CapturingLogSink>();
    InitLogging(options, sink_);
  }
  std::vector<std::string> Lines() {
    FlushLogs();
    return absl::StrSplit(sink_->text(), '\n', absl::SkipEmpty());
  }
  void TearDown() override {
    // Later tests (and other code in this binary) log to stderr again.
    InitLogging(LogOptions{});
  }

  std::shared_ptr<testing::CapturingLogSink> sink_;
};

TEST_F(LogTest, JsonLinesCarryLevelMessageAndFields) {
  Use({LogFormat::kJson, LogLevel::kInfo});
  LogInfo("webhook", {{"source", "refir"}, {"status", 200}, {"id", "a\"b"}});
  LogWarning("slow");
  LogError("broken", {{"reason", "disk\nfull"}});
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 3u) << sink_->text();
  nlohmann::json first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["msg"], "webhook");
  EXPECT_EQ(first["source"], "refir");
  EXPECT_EQ(first["status"], 200);
  EXPECT_EQ(first["id"], "a\"b");
  EXPECT_TRUE(first["ts"].get<std::string>().back() == 'Z') << lines[0];
  EXPECT_EQ(nlohmann::json::parse(lines[1])["level"], "warning");
  nlohmann::json third = nlohmann::json::parse(lines[2]);
  EXPECT_EQ(third["level"], "error");
  EXPECT_EQ(third["reason"], "disk\nfull");
}

TEST_F(LogTest, LevelFiltersLowerMessages) {
  Use({LogFormat::kJson, LogLevel::kWarning});
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  LogDebug("d");
  LogInfo("i");
  LogWarning("w");
  SetLogLevel(LogLevel::kDebug);
  LogDebug("d2");
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u) << sink_->text();
  EXPECT_EQ(nlohmann::json::parse(lines[0])["msg"], "w");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["level"], "debug");
}

TEST_F(LogTest, TextFormat) {
  Use({LogFormat::kText, LogLevel::kInfo});
  LogInfo("ready", {{"port", 8080}});
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(absl::EndsWith(lines[0], "Z INFO ready port=8080")) << lines[0];
}

TEST(LogSetupTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("INFO"), LogLevel::kInfo);
  EXPECT_EQ(*ParseLogLevel("warning"), LogLevel::kWarning);
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarning);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("verbose").ok());
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_TRUE(ParseLogFormat("auto").ok());
  absl::StatusOr<LogFormat> bad = ParseLogFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("xml"), std::string::npos);
}

}  // namespace
}  // namespace refir::bridge
