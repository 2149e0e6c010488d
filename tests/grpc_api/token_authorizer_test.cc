#include "bridge/grpc_api/token_authorizer.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAlpha[] = "alpha-token-0123456789";
constexpr char kAdmin[] = "admin-token-0123456789";

std::unique_ptr<TokenAuthorizer> MakeAuthorizer() {
  absl::StatusOr<std::unique_ptr<TokenAuthorizer>> authorizer = TokenAuthorizer::Create({
      {"alpha", kAlpha, {"group-a", "group-b"}},
      {"admin", kAdmin, {"*"}},
  });
  EXPECT_TRUE(authorizer.ok()) << authorizer.status();
  return authorizer.ok() ? *std::move(authorizer) : nullptr;
}

absl::StatusOr<Access> Authenticate(const TokenAuthorizer& authorizer,
                                    std::vector<absl::string_view> values) {
  return authorizer.Authenticate(values);
}

TEST(TokenAuthorizerTest, KnownTokenGetsItsGroups) {
  auto authorizer = MakeAuthorizer();
  ASSERT_NE(authorizer, nullptr);
  absl::StatusOr<Access> access = Authenticate(*authorizer, {"Bearer alpha-token-0123456789"});
  ASSERT_TRUE(access.ok()) << access.status();
  EXPECT_TRUE(access->restricted());
  EXPECT_EQ(access->name(), "alpha");
  EXPECT_TRUE(access->AllowsGroup("group-a"));
  EXPECT_TRUE(access->AllowsGroup("group-b"));
  EXPECT_FALSE(access->AllowsGroup("group-c"));
  EXPECT_TRUE(access->CheckGroup("group-a").ok());
  absl::Status denied = access->CheckGroup("group-c");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "token \"alpha\" may not use consumer group \"group-c\"");
}

TEST(TokenAuthorizerTest, StarAllowsEveryGroup) {
  auto authorizer = MakeAuthorizer();
  ASSERT_NE(authorizer, nullptr);
  absl::StatusOr<Access> access = Authenticate(*authorizer, {"Bearer admin-token-0123456789"});
  ASSERT_TRUE(access.ok()) << access.status();
  EXPECT_EQ(access->name(), "admin");
  EXPECT_TRUE(access->AllowsGroup("anything"));
  EXPECT_TRUE(access->CheckGroup("group-z").ok());
}

TEST(TokenAuthorizerTest, SchemeIsCaseInsensitiveAndSpacesAreTrimmed) {
  auto authorizer = MakeAuthorizer();
  ASSERT_NE(authorizer, nullptr);
  for (absl::string_view value : {"bearer alpha-token-0123456789", "BEARER alpha-token-0123456789",
                                  "Bearer   alpha-token-0123456789  "}) {
    SCOPED_TRACE(value);
    absl::StatusOr<Access> access = Authenticate(*authorizer, {value});
    ASSERT_TRUE(access.ok()) << access.status();
    EXPECT_EQ(access->name(), "alpha");
  }
}

TEST(TokenAuthorizerTest, RejectsMissingWrongAndMalformedTokens) {
  auto authorizer = MakeAuthorizer();
  ASSERT_NE(authorizer, nullptr);
  const std::vector<std::vector<absl::string_view>> cases = {
      {},
      {"Bearer wrong-token-0123456789"},
      {"Bearer alpha-token-012345678"},    // A prefix of a real token.
      {"Bearer alpha-token-01234567890"},  // A real token plus one character.
      {"Bearer "},
      {"Bearer"},
      {"Basic alpha-token-0123456789"},
      {"alpha-token-0123456789"},
      {"Bearer alpha-token-0123456789", "Bearer alpha-token-0123456789"},
  };
  for (const auto& values : cases) {
    SCOPED_TRACE(values.empty() ? "(none)" : std::string(values[0]));
    absl::StatusOr<Access> access = Authenticate(*authorizer, values);
    EXPECT_EQ(access.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(access.status().message(), Not(HasSubstr("alpha-token")));
  }
  EXPECT_THAT(Authenticate(*authorizer, {}).status().message(),
              HasSubstr("authorization: Bearer <token>"));
}

TEST(TokenAuthorizerTest, UnrestrictedAllowsEverything) {
  Access access = Access::Unrestricted();
  EXPECT_FALSE(access.restricted());
  EXPECT_EQ(access.name(), "");
  EXPECT_TRUE(access.AllowsGroup("any"));
  EXPECT_TRUE(access.CheckGroup("any").ok());
}

TEST(TokenAuthorizerTest, CreateRejectsBadGrants) {
  struct Case {
    std::vector<TokenGrant> grants;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{}, "no tokens are configured"},
      {{{"", kAlpha, {"a"}}}, "empty name"},
      {{{"a", kAlpha, {"a"}}, {"a", kAdmin, {"a"}}}, "token name \"a\" is used twice"},
      {{{"a", kAlpha, {"a"}}, {"b", kAlpha, {"a"}}}, "token \"b\": has the same token as \"a\""},
      {{{"a", "short", {"a"}}}, "at least 16 characters"},
      {{{"a", "has space in the token", {"a"}}}, "may only contain"},
      {{{"a", "=================", {"a"}}}, "at least 16 characters"},
      {{{"a", kAlpha, {}}}, "no groups"},
      {{{"a", kAlpha, {"*", "b"}}}, "cannot be listed with other groups"},
      {{{"a", kAlpha, {"b", "b"}}}, "listed twice"},
      {{{"a", kAlpha, {"bad group"}}}, "may only contain letters"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::unique_ptr<TokenAuthorizer>> authorizer = TokenAuthorizer::Create(c.grants);
    EXPECT_EQ(authorizer.status().code(), absl::StatusCode::kInvalidArgument) << c.error;
    EXPECT_THAT(authorizer.status().message(), HasSubstr(c.error));
    EXPECT_THAT(authorizer.status().message(), Not(HasSubstr("token-0123456789")));
  }
}

TEST(TokenAuthorizerTest, AcceptsPaddedBase64Tokens) {
  EXPECT_TRUE(ValidateToken("QWxhZGRpbjpvcGVuIHNlc2FtZQ==").ok());
  EXPECT_TRUE(ValidateToken("a-b.c_d~e+f/g0123456").ok());
  EXPECT_FALSE(ValidateToken("abc=def0123456789012").ok());  // '=' only at the end.
}

}  // namespace
}  // namespace refir::bridge
