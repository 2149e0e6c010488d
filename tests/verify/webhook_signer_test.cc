#include "bridge/verify/webhook_signer.h"

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using ::testing::HasSubstr;

constexpr char kBody[] = R"({"event":"user_added","lead":{"id":1}})";

// Signs kBody under `config`, then verifies `body` with what was signed.
absl::Status SignAndVerify(const VerifierConfig& config, const std::string& body = kBody) {
  const absl::Time now = absl::FromUnixSeconds(1760000000);
  absl::StatusOr<SignedWebhook> signed_webhook = SignWebhook(config, kBody, "msg_123", now);
  if (!signed_webhook.ok()) return signed_webhook.status();
  absl::StatusOr<std::unique_ptr<WebhookVerifier>> verifier = MakeWebhookVerifier(config);
  if (!verifier.ok()) return verifier.status();
  VerificationInput input;
  input.body = body;
  input.headers = &signed_webhook->headers;
  input.query_parameters = &signed_webhook->query_parameters;
  input.now = now;
  return (*verifier)->Verify(input);
}

TEST(WebhookSignerTest, EveryKindSignsWhatItsVerifierAccepts) {
  VerifierConfig none;
  EXPECT_TRUE(SignAndVerify(none).ok());

  VerifierConfig bearer;
  bearer.kind = VerificationKind::kToken;
  bearer.secrets = {"token-1", "token-0"};
  bearer.token_header = "Authorization";
  EXPECT_TRUE(SignAndVerify(bearer).ok());
  VerifierConfig header_token = bearer;
  header_token.token_header = "x-refir-token";
  EXPECT_TRUE(SignAndVerify(header_token).ok());
  VerifierConfig query_token = bearer;
  query_token.token_header.clear();
  query_token.token_query_parameter = "token";
  EXPECT_TRUE(SignAndVerify(query_token).ok());

  for (HmacAlgorithm algorithm : {HmacAlgorithm::kSha256, HmacAlgorithm::kSha512}) {
    for (SignatureEncoding encoding : {SignatureEncoding::kHex, SignatureEncoding::kBase64}) {
      VerifierConfig hmac;
      hmac.kind = VerificationKind::kHmac;
      hmac.secrets = {"hmac-secret"};
      hmac.signature_header = "X-Hub-Signature-256";
      hmac.signature_prefix = "sha256=";
      hmac.algorithm = algorithm;
      hmac.encoding = encoding;
      EXPECT_TRUE(SignAndVerify(hmac).ok());
      EXPECT_FALSE(SignAndVerify(hmac, "{}").ok()) << "another body fails";
    }
  }

  VerifierConfig standard;
  standard.kind = VerificationKind::kStandardWebhooks;
  standard.secrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
  EXPECT_TRUE(SignAndVerify(standard).ok());
  EXPECT_FALSE(SignAndVerify(standard, "{}").ok());
}

TEST(WebhookSignerTest, StandardWebhooksHeaders) {
  VerifierConfig standard;
  standard.kind = VerificationKind::kStandardWebhooks;
  standard.secrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
  absl::StatusOr<SignedWebhook> signed_webhook =
      SignWebhook(standard, kBody, "msg_abc", absl::FromUnixSeconds(1700000000));
  ASSERT_TRUE(signed_webhook.ok()) << signed_webhook.status();
  ASSERT_EQ(signed_webhook->headers.size(), 3u);
  EXPECT_EQ(signed_webhook->headers[0].second, "msg_abc");
  EXPECT_EQ(signed_webhook->headers[1].second, "1700000000");
  EXPECT_THAT(signed_webhook->headers[2].second, ::testing::StartsWith("v1,"));
}

TEST(WebhookSignerTest, MissingOrMalformedSecretsAreRefused) {
  VerifierConfig hmac;
  hmac.kind = VerificationKind::kHmac;
  EXPECT_THAT(SignWebhook(hmac, kBody, "m", absl::Now()).status().message(),
              HasSubstr("no secret"));
  VerifierConfig standard;
  standard.kind = VerificationKind::kStandardWebhooks;
  standard.secrets = {"whsec_not base64!"};
  EXPECT_THAT(SignWebhook(standard, kBody, "m", absl::Now()).status().message(),
              HasSubstr("whsec_<base64>"));
}

}  // namespace
}  // namespace refir::bridge
