#include "bridge/config/config_sources.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// A flag of this test (not one of the bridge's: its file is not under
// bridge/), for CheckCommandLineFlags.
ABSL_FLAG(int, config_test_count, 0, "a flag for the tests below");
ABSL_FLAG(bool, config_test_switch, false, "a boolean flag for the tests below");

namespace refir::bridge {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(EnvironmentVariableForTest, PrefixesAndUpperCases) {
  EXPECT_EQ(EnvironmentVariableFor("http_port"), "REFIR_BRIDGE_HTTP_PORT");
  EXPECT_EQ(EnvironmentVariableFor("config"), "REFIR_BRIDGE_CONFIG");
}

std::string PathFrom(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ConfigPathFromArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(ConfigPathFromArgsTest, FindsEveryFlagSpelling) {
  EXPECT_EQ(PathFrom({"bridge"}), "");
  EXPECT_EQ(PathFrom({"bridge", "--config=/etc/a.conf"}), "/etc/a.conf");
  EXPECT_EQ(PathFrom({"bridge", "--config", "/etc/b.conf"}), "/etc/b.conf");
  EXPECT_EQ(PathFrom({"bridge", "-config=/etc/c.conf", "--http_port=1"}), "/etc/c.conf");
  // The last one wins, as with any flag.
  EXPECT_EQ(PathFrom({"bridge", "--config=/a", "--config=/b"}), "/b");
  // Not the config flag, and nothing after "--".
  EXPECT_EQ(PathFrom({"bridge", "--configuration=/x"}), "");
  EXPECT_EQ(PathFrom({"bridge", "--", "--config=/x"}), "");
  // A trailing --config without a value is left to the flag parser.
  EXPECT_EQ(PathFrom({"bridge", "--config"}), "");
}

MATCHER_P3(Setting, name, value, origin, "") {
  return arg.name == name && arg.value == value && arg.origin == origin;
}

TEST(ParseConfigTextTest, ReadsNameValueLines) {
  absl::StatusOr<std::vector<ConfigSetting>> settings = ParseConfigText(
      "# the bridge\n"
      "\n"
      "http_port = 9000\n"
      "  --grpc_port=9001  \n"
      "webhook_path=/hooks/refir\n"
      "source = \" padded \"\n"
      "ports_file =\n",
      "bridge.conf");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_THAT(*settings, ElementsAre(Setting("http_port", "9000", "bridge.conf:3"),
                                     Setting("grpc_port", "9001", "bridge.conf:4"),
                                     Setting("webhook_path", "/hooks/refir", "bridge.conf:5"),
                                     Setting("source", " padded ", "bridge.conf:6"),
                                     Setting("ports_file", "", "bridge.conf:7")));
}

TEST(ParseConfigTextTest, NamesFileAndLineOfABadLine) {
  absl::StatusOr<std::vector<ConfigSetting>> settings =
      ParseConfigText("http_port = 1\n\nhttp_port 2\n", "/etc/refir.conf");
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(settings.status().message(), HasSubstr("/etc/refir.conf:3"));
  EXPECT_THAT(settings.status().message(), HasSubstr("http_port 2"));

  settings = ParseConfigText("= 5\n", "c.conf");
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr("c.conf:1: missing setting name"));
}

TEST(ConfigOriginsTest, PrefixesTheLineOfTheFirstFlagTheMessageNames) {
  ConfigOrigins origins;
  origins.Set("http_port", "bridge.conf:3");
  origins.Set("max_body_bytes", "bridge.conf:7");
  const absl::Status range =
      absl::InvalidArgumentError("--http_port must be between 0 and 65535, got 70000");
  EXPECT_EQ(origins.Attribute(range),
            absl::InvalidArgumentError(
                "bridge.conf:3: --http_port must be between 0 and 65535, got 70000"));
  // The first flag named decides: --http_max_inflight_body_bytes is not the
  // file's, so no line, though --max_body_bytes (named second) is.
  const absl::Status budget = absl::InvalidArgumentError(
      "--http_max_inflight_body_bytes must be at least --max_body_bytes");
  EXPECT_EQ(origins.Attribute(budget), budget);
  // A flag whose name only starts like one the file set is another flag.
  const absl::Status longer = absl::InvalidArgumentError("--http_port_range is bad");
  EXPECT_EQ(origins.Attribute(longer), longer);
  const absl::Status unnamed = absl::InvalidArgumentError("the journal is locked");
  EXPECT_EQ(origins.Attribute(unnamed), unnamed);
  origins.Erase("http_port");
  EXPECT_EQ(origins.Attribute(range), range);
}

absl::Status CheckArgs(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return CheckCommandLineFlags(static_cast<int>(argv.size()), argv.data());
}

TEST(CheckCommandLineFlagsTest, RefusesFlagsNoLibraryDefines) {
  EXPECT_TRUE(CheckArgs({"bridge"}).ok());
  EXPECT_TRUE(CheckArgs({"bridge", "--config_test_count=3", "-config_test_switch"}).ok());
  EXPECT_TRUE(CheckArgs({"bridge", "--config_test_count", "3", "--noconfig_test_switch"}).ok());
  // abseil's own flags are flags too.
  EXPECT_TRUE(CheckArgs({"bridge", "--help"}).ok());
  // Nothing after "--" is a flag.
  EXPECT_TRUE(CheckArgs({"bridge", "--", "--no_such_flag"}).ok());

  const absl::Status unknown = CheckArgs({"bridge", "--config_test_count=1", "--no_such_flag=2"});
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.message(), HasSubstr("--no_such_flag is not a flag of refir-bridge"));
  // "no" makes a boolean false; before another kind of flag it is a typo.
  EXPECT_FALSE(CheckArgs({"bridge", "--noconfig_test_count"}).ok());
  // --undefok leaves unknown flags to abseil's parser.
  EXPECT_TRUE(CheckArgs({"bridge", "--undefok=no_such_flag", "--no_such_flag"}).ok());
}

}  // namespace
}  // namespace refir::bridge
