// InspectorOptions::Validate (when --inspector may start) and
// LoadInspectorToken (what --inspector_token_file may hold).
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "bridge/inspector/inspector.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

std::string WriteFile(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::trunc) << contents;
  return path;
}

TEST(InspectorOptionsTest, OffNeedsNothing) {
  InspectorOptions options;
  EXPECT_TRUE(options.Validate(true, "0.0.0.0").ok());
  EXPECT_TRUE(options.Validate(false, "127.0.0.1").ok());
}

TEST(InspectorOptionsTest, OnLoopbackNeedsNoToken) {
  InspectorOptions options;
  options.enabled = true;
  for (const char* address : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"}) {
    EXPECT_TRUE(options.Validate(true, address).ok()) << address;
  }
}

TEST(InspectorOptionsTest, ElsewhereNeedsATokenFile) {
  InspectorOptions options;
  options.enabled = true;
  for (const char* address : {"0.0.0.0", "::", "10.0.0.5", "192.168.1.1"}) {
    absl::Status status = options.Validate(true, address);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << address;
    EXPECT_TRUE(absl::StrContains(status.message(), "--inspector_token_file")) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), address)) << status;
  }
  options.token_file = "/run/secrets/inspector";
  EXPECT_TRUE(options.Validate(true, "0.0.0.0").ok());
}

TEST(InspectorOptionsTest, NeedsTheAdminListener) {
  InspectorOptions options;
  options.enabled = true;
  absl::Status status = options.Validate(false, "127.0.0.1");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "--admin_port=-1")) << status;
}

TEST(InspectorOptionsTest, ATokenFileWithoutTheInspectorIsAMistake) {
  InspectorOptions options;
  options.token_file = "/run/secrets/inspector";
  absl::Status status = options.Validate(true, "127.0.0.1");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(status.message(), "--inspector")) << status;
}

TEST(LoadInspectorTokenTest, ReadsTheTokenWithoutItsNewline) {
  absl::StatusOr<std::string> token =
      LoadInspectorToken(WriteFile("inspector_token_ok", "s3cr3t-token-0123456789\n"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "s3cr3t-token-0123456789");
}

TEST(LoadInspectorTokenTest, RefusesBadTokensWithoutQuotingThem) {
  const struct {
    const char* name;
    const char* contents;
    const char* expected;
  } cases[] = {
      {"inspector_token_short", "short-Tok3n\n", "at least 16"},
      {"inspector_token_space", "Tok3n with spaces 0123456789\n", "visible ASCII"},
      {"inspector_token_lines", "Tok3n-line-one-0123\nline-two\n", "visible ASCII"},
      {"inspector_token_empty", "\n", "--inspector_token_file"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::string> token = LoadInspectorToken(WriteFile(c.name, c.contents));
    ASSERT_FALSE(token.ok()) << c.name;
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_TRUE(absl::StrContains(token.status().message(), c.expected)) << token.status();
    EXPECT_FALSE(absl::StrContains(token.status().message(), "Tok3n")) << token.status();
  }
  absl::StatusOr<std::string> missing = LoadInspectorToken("/nonexistent/inspector-token");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "--inspector_token_file"));
}

}  // namespace
}  // namespace refir::bridge
