// MakeWebhookVerifier: dispatch by kind; kind none accepts everything.
#include "bridge/verify/webhook_verifier.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/verify/verify_test_util.h"

namespace refir::bridge::testing {
namespace {

TEST(WebhookVerifierTest, NoneAcceptsAnything) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(VerifierConfig{});
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(verifier->Verify(VerificationInput{}).ok());
  FakeRequest request;
  request.headers = {{"webhook-signature", "v1,garbage"}};
  EXPECT_TRUE(verifier->Verify(request.input()).ok());
}

TEST(WebhookVerifierTest, EveryOtherKindNeedsASecret) {
  for (VerificationKind kind :
       {VerificationKind::kToken, VerificationKind::kHmac, VerificationKind::kStandardWebhooks}) {
    VerifierConfig config;
    config.kind = kind;
    config.token_header = "authorization";
    EXPECT_THAT(MakeWebhookVerifier(config).status(), IsInvalidArgument("at least one secret"))
        << static_cast<int>(kind);
  }
}

TEST(WebhookVerifierTest, VerifiersAreSharedAcrossThreadsSafely) {
  // Verify is const and keeps no per-request state; run one verifier from
  // several threads (meaningful under the sanitizer build).
  VerifierConfig config;
  config.kind = VerificationKind::kHmac;
  config.secrets = {"It's a Secret to Everybody"};
  config.signature_prefix = "sha256=";
  std::unique_ptr<WebhookVerifier> verifier = MustMake(config);
  ASSERT_NE(verifier, nullptr);
  FakeRequest good;
  good.body = "Hello, World!";
  good.headers = {
      {"x-signature", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}};
  FakeRequest bad = good;
  bad.body = "Hello, World?";
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  std::atomic<int> rejected{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (verifier->Verify(good.input()).ok()) ++accepted;
        if (!verifier->Verify(bad.input()).ok()) ++rejected;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), 800);
  EXPECT_EQ(rejected.load(), 800);
}

}  // namespace
}  // namespace refir::bridge::testing
