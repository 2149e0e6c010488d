// Configuration of the real binary: config file, REFIR_BRIDGE_* environment
// variables and flags with their precedence; bad values stop startup naming
// the setting; --help lists every flag with its default and
// docs/configuration.md documents each one.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/bridge_process.h"
#include "tests/integration/command_runner.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::HasSubstr;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// The "msg" of each JSON log line of `output`, one per line: stderr is not a
// terminal here, so even the lines before --log_format is read are JSON.
// A line that is not JSON is kept as it is.
std::string LogMessages(const std::string& output) {
  std::string messages;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.contains("msg") && parsed["msg"].is_string()) {
      line = parsed["msg"].get<std::string>();
    }
    absl::StrAppend(&messages, line, "\n");
  }
  return messages;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Where the webhook path ends up decides which path answers 200.
TEST(ConfigurationE2eTest, EnvironmentBeatsConfigFileAndFileBeatsDefaults) {
  const std::string dir = MakeTempDir();
  const std::string config = absl::StrCat(dir, "/bridge.conf");
  WriteFile(config,
            "# written by the test\n"
            "webhook_path = /from-file\n"
            "source = file-source\n");
  ASSERT_EQ(setenv("REFIR_BRIDGE_WEBHOOK_PATH", "/from-env", 1), 0);
  BridgeProcess bridge(absl::StrCat(dir, "/data"), {absl::StrCat("--config=", config)});
  absl::Status started = bridge.Start();
  unsetenv("REFIR_BRIDGE_WEBHOOK_PATH");
  ASSERT_TRUE(started.ok()) << started;

  HttpResult from_env = SendHttp(bridge.http_port(), "POST", "/from-env", R"({"n":1})");
  EXPECT_EQ(from_env.status, 200) << from_env.body;
  EXPECT_EQ(SendHttp(bridge.http_port(), "POST", "/from-file", R"({"n":2})").status, 404);
  EXPECT_EQ(SendHttp(bridge.http_port(), "POST", "/webhook", R"({"n":3})").status, 404);

  // The file's other setting still applies.
  std::unique_ptr<v1::EventStream::Stub> stub = MakeStub(bridge.grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].source(), "file-source");
  EXPECT_EQ(bridge.Stop().value_or(-1), 0);
}

TEST(ConfigurationE2eTest, CommandLineBeatsEnvironment) {
  const std::string dir = MakeTempDir();
  ASSERT_EQ(setenv("REFIR_BRIDGE_WEBHOOK_PATH", "/from-env", 1), 0);
  BridgeProcess bridge(dir, {"--webhook_path=/from-flag"});
  absl::Status started = bridge.Start();
  unsetenv("REFIR_BRIDGE_WEBHOOK_PATH");
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_EQ(SendHttp(bridge.http_port(), "POST", "/from-flag", R"({"n":1})").status, 200);
  EXPECT_EQ(SendHttp(bridge.http_port(), "POST", "/from-env", R"({"n":2})").status, 404);
  EXPECT_EQ(bridge.Stop().value_or(-1), 0);
}

TEST(ConfigurationE2eTest, ConfigFileNamedByEnvironment) {
  const std::string dir = MakeTempDir();
  const std::string config = absl::StrCat(dir, "/bridge.conf");
  WriteFile(config, "--webhook_path=/env-named-file\n");
  ASSERT_EQ(setenv("REFIR_BRIDGE_CONFIG", config.c_str(), 1), 0);
  BridgeProcess bridge(absl::StrCat(dir, "/data"));
  absl::Status started = bridge.Start();
  unsetenv("REFIR_BRIDGE_CONFIG");
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_EQ(SendHttp(bridge.http_port(), "POST", "/env-named-file", R"({"n":1})").status, 200);
  EXPECT_EQ(bridge.Stop().value_or(-1), 0);
}

// Each bad setting stops startup (exit 2) with a message naming it; the
// listeners never open, so the fixed ports below are never bound.
TEST(ConfigurationE2eTest, BadSettingsStopStartupNamingThem) {
  const std::string dir = MakeTempDir();
  const std::string binary = BridgeProcess::BinaryPath();
  ASSERT_FALSE(binary.empty());
  const std::string base = absl::StrCat(binary, " --data_dir=", dir, "/data");

  CommandResult bad_env = RunCommand(absl::StrCat("env REFIR_BRIDGE_GRPC_PORT=abc ", base));
  EXPECT_EQ(bad_env.exit_code, 2) << bad_env.output;
  EXPECT_THAT(LogMessages(bad_env.output), HasSubstr("REFIR_BRIDGE_GRPC_PORT"));
  EXPECT_THAT(LogMessages(bad_env.output), HasSubstr("abc"));

  const std::string unknown = absl::StrCat(dir, "/unknown.conf");
  WriteFile(unknown, "http_port = 1\nhttp_prot = 2\n");
  CommandResult bad_name = RunCommand(absl::StrCat(base, " --config=", unknown));
  EXPECT_EQ(bad_name.exit_code, 2) << bad_name.output;
  EXPECT_THAT(LogMessages(bad_name.output),
              HasSubstr(absl::StrCat(unknown, ":2: \"http_prot\" is not a setting")));

  const std::string malformed = absl::StrCat(dir, "/malformed.conf");
  WriteFile(malformed, "# fine\nhttp_port 1\n");
  CommandResult bad_line = RunCommand(absl::StrCat(base, " --config=", malformed));
  EXPECT_EQ(bad_line.exit_code, 2) << bad_line.output;
  EXPECT_THAT(LogMessages(bad_line.output), HasSubstr(absl::StrCat(malformed, ":2")));

  const std::string bad_value = absl::StrCat(dir, "/bad-value.conf");
  WriteFile(bad_value, "shutdown_grace = soon\n");
  CommandResult bad_duration = RunCommand(absl::StrCat(base, " --config=", bad_value));
  EXPECT_EQ(bad_duration.exit_code, 2) << bad_duration.output;
  EXPECT_THAT(LogMessages(bad_duration.output),
              HasSubstr(absl::StrCat(bad_value, ":1: bad value \"soon\" for shutdown_grace")));

  // A value that parses but fails the checks after parsing still names its
  // line, unless the environment or command line set the flag instead.
  const std::string out_of_range_file = absl::StrCat(dir, "/out-of-range.conf");
  WriteFile(out_of_range_file, "# ports\ngrpc_port = 0\nhttp_port = 70000\n");
  CommandResult file_range = RunCommand(absl::StrCat(base, " --config=", out_of_range_file));
  EXPECT_EQ(file_range.exit_code, 2) << file_range.output;
  EXPECT_THAT(LogMessages(file_range.output),
              HasSubstr(absl::StrCat(out_of_range_file, ":3: --http_port must be between")));
  CommandResult overridden =
      RunCommand(absl::StrCat(base, " --config=", out_of_range_file, " --http_port=70001"));
  EXPECT_EQ(overridden.exit_code, 2) << overridden.output;
  EXPECT_THAT(LogMessages(overridden.output),
              HasSubstr("bad flag: --http_port must be between 0 and 65535, "
                        "got 70001"));

  CommandResult missing = RunCommand(absl::StrCat(base, " --config=", dir, "/absent.conf"));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_THAT(LogMessages(missing.output), HasSubstr(absl::StrCat(dir, "/absent.conf")));

  CommandResult out_of_range = RunCommand(absl::StrCat(base, " --http_port=70000"));
  EXPECT_EQ(out_of_range.exit_code, 2) << out_of_range.output;
  EXPECT_THAT(LogMessages(out_of_range.output), HasSubstr("--http_port"));

  // The command line's own mistakes are the bridge's to report too, exit 2.
  CommandResult unknown_flag = RunCommand(absl::StrCat(base, " --htp_port=1"));
  EXPECT_EQ(unknown_flag.exit_code, 2) << unknown_flag.output;
  EXPECT_THAT(LogMessages(unknown_flag.output),
              HasSubstr("bad flag: --htp_port is not a flag of refir-bridge"));
  CommandResult bad_number = RunCommand(absl::StrCat(base, " --http_port=eighty"));
  EXPECT_EQ(bad_number.exit_code, 2) << bad_number.output;
  EXPECT_THAT(LogMessages(bad_number.output), HasSubstr("--http_port: bad value \"eighty\""));
}

// `refir-bridge serve [flags]` runs the bridge like `refir-bridge [flags]`;
// a first word that is no command stops it at once, naming the word.
TEST(ConfigurationE2eTest, ServeCommandRunsTheBridgeAndUnknownCommandsAreRefused) {
  const std::string dir = MakeTempDir();
  BridgeProcess bridge(absl::StrCat(dir, "/data"));
  bridge.set_command("serve");
  ASSERT_TRUE(bridge.Start().ok());
  EXPECT_EQ(PostWebhook(bridge.http_port(), R"({"n":1})").status, 200);
  EXPECT_EQ(bridge.Stop().value_or(-1), 0);

  const std::string binary = BridgeProcess::BinaryPath();
  CommandResult unknown = RunCommand(
      absl::StrCat(binary, " frobnicate --data_dir=", dir, "/other --http_port=0 --grpc_port=0"));
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_THAT(LogMessages(unknown.output), HasSubstr("unknown command \"frobnicate\""));
  // Refused before anything was created.
  EXPECT_NE(access(absl::StrCat(dir, "/other").c_str(), F_OK), 0);
}

// Kubernetes defines REFIR_BRIDGE_SERVICE_HOST etc. for a Service named
// refir-bridge: such variables are reported, not fatal.
TEST(ConfigurationE2eTest, UnknownEnvironmentVariableIsOnlyAWarning) {
  const std::string dir = MakeTempDir();
  ASSERT_EQ(setenv("REFIR_BRIDGE_SERVICE_HOST", "10.0.0.1", 1), 0);
  BridgeProcess bridge(dir);
  absl::Status started = bridge.Start();
  unsetenv("REFIR_BRIDGE_SERVICE_HOST");
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_EQ(PostWebhook(bridge.http_port(), R"({"n":1})").status, 200);
  EXPECT_EQ(bridge.Stop().value_or(-1), 0);
}

// --help lists every flag with its default; docs/configuration.md has a row
// for each, so the docs cannot fall behind the code.
TEST(ConfigurationE2eTest, HelpListsEveryFlagAndTheDocsDescribeEach) {
  CommandResult help = RunCommand(absl::StrCat(BridgeProcess::BinaryPath(), " --help"));
  // abseil's convention: --help prints the usage and exits 1.
  EXPECT_EQ(help.exit_code, 1) << help.output;
  EXPECT_THAT(help.output, HasSubstr("REFIR_BRIDGE_"));

  std::set<std::string> flags;
  const std::regex flag_line(R"(^    --([a-z0-9_]+) \()");
  std::istringstream lines(help.output);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch match;
    if (std::regex_search(line, match, flag_line)) flags.insert(match[1]);
  }
  // Every listed flag is followed (possibly a line later) by its default.
  size_t defaults = 0;
  for (size_t at = help.output.find("default:"); at != std::string::npos;
       at = help.output.find("default:", at + 1)) {
    ++defaults;
  }
  EXPECT_EQ(defaults, flags.size());
  for (const char* expected : {"data_dir", "http_port", "grpc_port", "admin_port", "config"}) {
    EXPECT_EQ(flags.count(expected), 1u) << "--help does not list --" << expected;
  }

  const std::string docs = ReadFile(absl::StrCat(REFIR_SOURCE_DIR, "/docs/configuration.md"));
  ASSERT_FALSE(docs.empty());
  for (const std::string& flag : flags) {
    EXPECT_THAT(docs, HasSubstr(absl::StrCat("`--", flag, "`")))
        << "docs/configuration.md does not document --" << flag;
  }
}

}  // namespace
}  // namespace refir::bridge::testing
