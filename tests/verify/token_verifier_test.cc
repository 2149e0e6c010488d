// kToken: a shared secret in a header or a query parameter.
#include <memory>

#include "bridge/verify/webhook_verifier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/verify/verify_test_util.h"

namespace refir::bridge::testing {
namespace {

VerifierConfig HeaderConfig(std::string header) {
  VerifierConfig config;
  config.kind = VerificationKind::kToken;
  config.secrets = {"s3cr3t-token"};
  config.token_header = std::move(header);
  return config;
}

TEST(TokenVerifierTest, AcceptsTheTokenInItsHeaderCaseInsensitively) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(HeaderConfig("X-Refir-Token"));
  ASSERT_NE(verifier, nullptr);
  FakeRequest request;
  request.headers = {{"x-refir-token", "s3cr3t-token"}};
  EXPECT_TRUE(verifier->Verify(request.input()).ok());
}

TEST(TokenVerifierTest, RejectsAWrongToken) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(HeaderConfig("x-refir-token"));
  ASSERT_NE(verifier, nullptr);
  FakeRequest request;
  for (const char* wrong : {"s3cr3t-tokeN", "s3cr3t-token ", "s3cr3t", "s3cr3t-token-and-more"}) {
    request.headers = {{"x-refir-token", wrong}};
    const absl::Status status = verifier->Verify(request.input());
    EXPECT_THAT(status, IsUnauthenticated("matches no configured secret")) << wrong;
    EXPECT_EQ(status.message().find("s3cr3t"), absl::string_view::npos) << status;
  }
}

TEST(TokenVerifierTest, RejectsAMissingOrEmptyHeader) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(HeaderConfig("x-refir-token"));
  ASSERT_NE(verifier, nullptr);
  FakeRequest request;
  request.headers = {{"x-other", "s3cr3t-token"}};
  EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("missing header x-refir-token"));
  request.headers = {{"x-refir-token", ""}};
  EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("empty token"));
}

TEST(TokenVerifierTest, NullHeadersAreMissingHeaders) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(HeaderConfig("x-refir-token"));
  ASSERT_NE(verifier, nullptr);
  VerificationInput input;
  EXPECT_THAT(verifier->Verify(input), IsUnauthenticated("missing header"));
}

TEST(TokenVerifierTest, AuthorizationAcceptsBearerOrBareToken) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(HeaderConfig("Authorization"));
  ASSERT_NE(verifier, nullptr);
  FakeRequest request;
  for (const char* good : {"Bearer s3cr3t-token", "bearer s3cr3t-token", "s3cr3t-token"}) {
    request.headers = {{"authorization", good}};
    EXPECT_TRUE(verifier->Verify(request.input()).ok()) << good;
  }
  for (const char* bad : {"Bearer wrong", "Basic s3cr3t-token", "Bearer "}) {
    request.headers = {{"authorization", bad}};
    EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("header Authorization"))
        << bad;
  }
}

TEST(TokenVerifierTest, BearerIsOnlyStrippedFromAuthorization) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(HeaderConfig("x-refir-token"));
  ASSERT_NE(verifier, nullptr);
  FakeRequest request;
  request.headers = {{"x-refir-token", "Bearer s3cr3t-token"}};
  EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("matches no configured"));
}

TEST(TokenVerifierTest, QueryParameterIsMatchedExactly) {
  VerifierConfig config;
  config.kind = VerificationKind::kToken;
  config.secrets = {"s3cr3t-token"};
  config.token_query_parameter = "token";
  std::unique_ptr<WebhookVerifier> verifier = MustMake(config);
  ASSERT_NE(verifier, nullptr);
  FakeRequest request;
  request.query = {{"other", "x"}, {"token", "s3cr3t-token"}};
  EXPECT_TRUE(verifier->Verify(request.input()).ok());
  request.query = {{"Token", "s3cr3t-token"}};
  EXPECT_THAT(verifier->Verify(request.input()),
              IsUnauthenticated("missing query parameter token"));
  // A header of that name does not count.
  request.query.clear();
  request.headers = {{"token", "s3cr3t-token"}};
  EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("missing query parameter"));
}

TEST(TokenVerifierTest, RotationAcceptsEverySecret) {
  VerifierConfig config = HeaderConfig("x-refir-token");
  config.secrets = {"old-token", "new-token"};
  std::unique_ptr<WebhookVerifier> verifier = MustMake(config);
  ASSERT_NE(verifier, nullptr);
  FakeRequest request;
  request.headers = {{"x-refir-token", "old-token"}};
  EXPECT_TRUE(verifier->Verify(request.input()).ok());
  request.headers = {{"x-refir-token", "new-token"}};
  EXPECT_TRUE(verifier->Verify(request.input()).ok());
  request.headers = {{"x-refir-token", "other-token"}};
  EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("matches no configured"));
}

TEST(TokenVerifierTest, ConfigErrors) {
  VerifierConfig config = HeaderConfig("x-refir-token");
  config.token_query_parameter = "token";
  EXPECT_THAT(MakeWebhookVerifier(config).status(), IsInvalidArgument("exactly one of"));
  config.token_header.clear();
  config.token_query_parameter.clear();
  EXPECT_THAT(MakeWebhookVerifier(config).status(), IsInvalidArgument("exactly one of"));
  config = HeaderConfig("x-refir-token");
  config.secrets.clear();
  EXPECT_THAT(MakeWebhookVerifier(config).status(), IsInvalidArgument("at least one secret"));
  config.secrets = {"ok", ""};
  EXPECT_THAT(MakeWebhookVerifier(config).status(), IsInvalidArgument("secret #2 is empty"));
}

}  // namespace
}  // namespace refir::bridge::testing
