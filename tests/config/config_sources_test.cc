#include "bridge/config/config_sources.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

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

TEST(ParseConfigTextTest, ReadsNameValueLines) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> settings = ParseConfigText(
      "# the bridge\n"
      "\n"
      "http_port = 9000\n"
      "  --grpc_port=9001  \n"
      "webhook_path=/hooks/refir\n"
      "source = \" padded \"\n"
      "ports_file =\n",
      "bridge.conf");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_THAT(*settings, ElementsAre(Pair("http_port", "9000"), Pair("grpc_port", "9001"),
                                     Pair("webhook_path", "/hooks/refir"),
                                     Pair("source", " padded "), Pair("ports_file", "")));
}

TEST(ParseConfigTextTest, NamesFileAndLineOfABadLine) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> settings =
      ParseConfigText("http_port = 1\n\nhttp_port 2\n", "/etc/refir.conf");
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(settings.status().message(), HasSubstr("/etc/refir.conf:3"));
  EXPECT_THAT(settings.status().message(), HasSubstr("http_port 2"));

  settings = ParseConfigText("= 5\n", "c.conf");
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr("c.conf:1: missing setting name"));
}

}  // namespace
}  // namespace refir::bridge
