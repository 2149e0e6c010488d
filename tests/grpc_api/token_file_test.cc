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
      {good + "b/c b-token-0123456789abc g\n", "line 2: the name (first field) must be 1 to 64"},
      {good + "b b-token-012 g\n",
       "line 2: the token (second field): the token must be at least 16"},
      {good + "b b-token-0123456789abc# g\n",
       "line 2: the token (second field): the token may only contain"},
      {good + "b b-token-0123456789abc g,,h\n",
       "line 2: the groups (third field): group 2 is not a consumer group name"},
      {good + "b b-token-0123456789abc *,g\n", "line 2: the groups (third field): \"*\""},
      {good + "b b-token-0123456789abc g,g\n",
       "line 2: the groups (third field): group 2 is listed twice"},
      {good + "a b-token-0123456789abc g\n",
       "line 2: the name (first field) is already used on line 1"},
      {"\n" + good + "b a-token-0123456789abc h\n",
       "line 3: the token (second field) is the same as on line 2"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<TokenGrant>> grants = ParseTokenFile(c.contents);
    EXPECT_EQ(grants.status().code(), absl::StatusCode::kInvalidArgument) << c.error;
    EXPECT_THAT(grants.status().message(), HasSubstr(c.error));
    EXPECT_THAT(grants.status().message(), Not(HasSubstr("token-0123")));
  }
}

// Columns in the wrong order: whichever field holds the token, the error
// names the line and the field by position and never quotes the token.
TEST(TokenFileTest, SwappedColumnsNeverEchoTheToken) {
  for (const std::string& token :
       {std::string("3q2+7wZm9vYmFyYmF6cXV4/x=="), std::string("Zm9vYmFyYmF6cXV4cXV1eA"),
        std::string("plain-token-0123456789")}) {
    for (const std::string& line :
         {token + " billing billing", token + " billing-consumer-name billing",
          "billing billing " + token, "billing,ops billing " + token,
          "billing " + token + ",x " + token + "z", token + " " + token + " *"}) {
      absl::StatusOr<std::vector<TokenGrant>> grants = ParseTokenFile(line + "\n");
      if (grants.ok()) continue;  // e.g. an alphanumeric token that is also a valid name
      const std::string message(grants.status().message());
      EXPECT_THAT(message, HasSubstr("line 1: ")) << line;
      EXPECT_THAT(message, Not(HasSubstr(token.substr(0, 10)))) << message;
    }
  }
  absl::StatusOr<std::vector<TokenGrant>> swapped =
      ParseTokenFile("3q2+7wZm9vYmFyYmF6cXV4/x== billing billing\n");
  ASSERT_FALSE(swapped.ok());
  EXPECT_THAT(swapped.status().message(), HasSubstr("wrong order"));
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
