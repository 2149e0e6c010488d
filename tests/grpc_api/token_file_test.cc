#include "bridge/grpc_api/token_file.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(TokenFileTest, ParsesLinesCommentsAndBlankLines) {
  absl::StatusOr<std::vector<TokenGrant>> grants = ParseTokenFile(
      "# refir-bridge tokens\n"
      "\n"
      "billing   billing-token-0123456789  billing,billing-replay\r\n"
      "  ops\tops-token-0123456789\t*  \n"
      "   # indented comment\n");
  ASSERT_TRUE(grants.ok()) << grants.status();
  ASSERT_EQ(grants->size(), 2u);
  EXPECT_EQ((*grants)[0].name, "billing");
  EXPECT_EQ((*grants)[0].token, "billing-token-0123456789");
  EXPECT_THAT((*grants)[0].groups, ElementsAre("billing", "billing-replay"));
  EXPECT_EQ((*grants)[1].name, "ops");
  EXPECT_THAT((*grants)[1].groups, ElementsAre("*"));
}

TEST(TokenFileTest, ErrorsNameTheLineAndNeverTheToken) {
  struct Case {
    std::string contents;
    std::string error;
  };
  const std::string good = "a a-token-0123456789abc g\n";
  const std::vector<Case> cases = {
      {"", "the file has no tokens"},
      {"# only a comment\n\n", "the file has no tokens"},
      {good + "b b-token-0123456789abc\n", "line 2: expected 3 fields"},
      {good + "b b-token-0123456789abc g extra\n", "line 2: expected 3 fields"},
      {good + "b/c b-token-0123456789abc g\n", "line 2: token name \"b/c\" may only contain"},
      {good + "b b-token-012 g\n", "line 2: token \"b\": the token must be at least 16"},
      {good + "b b-token-0123456789abc# g\n", "line 2: token \"b\": the token may only contain"},
      {good + "b b-token-0123456789abc g,,h\n", "line 2: token \"b\": consumer group name must be"},
      {good + "b b-token-0123456789abc *,g\n", "line 2: token \"b\": \"*\" (every group)"},
      {good + "a b-token-0123456789abc g\n", "line 2: token name \"a\" is already used on line 1"},
      {"\n" + good + "b a-token-0123456789abc h\n",
       "line 3: token \"b\" has the same token as line 2"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<TokenGrant>> grants = ParseTokenFile(c.contents);
    EXPECT_EQ(grants.status().code(), absl::StatusCode::kInvalidArgument) << c.error;
    EXPECT_THAT(grants.status().message(), HasSubstr(c.error));
    EXPECT_THAT(grants.status().message(), Not(HasSubstr("token-0123")));
  }
}

TEST(TokenFileTest, LoadNamesTheFlagAndPath) {
  absl::StatusOr<std::unique_ptr<TokenAuthorizer>> missing =
      LoadTokenFile(::testing::TempDir() + "/no-such-tokens-file");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("--grpc_tokens_file \"" + ::testing::TempDir() + "/no-such-tokens-file\""));

  absl::StatusOr<std::unique_ptr<TokenAuthorizer>> directory = LoadTokenFile(::testing::TempDir());
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(directory.status().message(), HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace refir::bridge
