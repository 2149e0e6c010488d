// kHmac: an HMAC of the raw body in a header. Expected values computed with
// `printf 'Hello, World!' | openssl dgst -sha256 -hmac "It's a Secret to
// Everybody"` (the example of GitHub's "Validating webhook deliveries").
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "bridge/verify/webhook_verifier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/verify/verify_test_util.h"

namespace refir::bridge::testing {
namespace {

constexpr char kSecret[] = "It's a Secret to Everybody";
constexpr char kBody[] = "Hello, World!";
constexpr char kSha256Hex[] = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
constexpr char kSha256Base64[] = "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc=";
constexpr char kSha512Hex[] =
    "11ed355a617e98134e842012a7944ccf59c10256cb182357bd7e3a42013ff07c"
    "376f8c14cf5cc1923da20b51d64256b2fb8ebbf100aa67a61326f61fea8111bc";
constexpr char kSha512Base64[] =
    "Ee01WmF+mBNOhCASp5RMz1nBAlbLGCNXvX46QgE/8Hw3b4wUz1zBkj2iC1HWQlay+4678QCqZ6YTJvYf6oERvA==";

// GitHub: X-Hub-Signature-256: sha256=<lowercase hex>.
VerifierConfig GitHubConfig() {
  VerifierConfig config;
  config.kind = VerificationKind::kHmac;
  config.secrets = {kSecret};
  config.signature_header = "X-Hub-Signature-256";
  config.algorithm = HmacAlgorithm::kSha256;
  config.encoding = SignatureEncoding::kHex;
  config.signature_prefix = "sha256=";
  return config;
}

FakeRequest Signed(const std::string& header, const std::string& value) {
  FakeRequest request;
  request.body = kBody;
  request.headers = {{"content-type", "application/json"}, {header, value}};
  return request;
}

TEST(HmacVerifierTest, AcceptsGitHubStyleSignature) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(GitHubConfig());
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(
      verifier->Verify(Signed("x-hub-signature-256", std::string("sha256=") + kSha256Hex).input())
          .ok());
}

TEST(HmacVerifierTest, HexIsCaseInsensitiveAndSoIsThePrefix) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(GitHubConfig());
  ASSERT_NE(verifier, nullptr);
  const std::string upper = absl::AsciiStrToUpper(kSha256Hex);
  EXPECT_TRUE(verifier->Verify(Signed("X-Hub-Signature-256", "sha256=" + upper).input()).ok());
  EXPECT_TRUE(verifier->Verify(Signed("X-Hub-Signature-256", "SHA256=" + upper).input()).ok());
  // Surrounding whitespace is ignored.
  EXPECT_TRUE(
      verifier
          ->Verify(
              Signed("X-Hub-Signature-256", std::string(" sha256=") + kSha256Hex + "\t").input())
          .ok());
}

TEST(HmacVerifierTest, PrefixIsRequiredWhenConfigured) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(GitHubConfig());
  ASSERT_NE(verifier, nullptr);
  EXPECT_THAT(verifier->Verify(Signed("X-Hub-Signature-256", kSha256Hex).input()),
              IsUnauthenticated("does not start with \"sha256=\""));
  EXPECT_THAT(
      verifier->Verify(Signed("X-Hub-Signature-256", std::string("sha1=") + kSha256Hex).input()),
      IsUnauthenticated("does not start with"));
}

TEST(HmacVerifierTest, NoPrefixConfiguredMeansBareSignature) {
  VerifierConfig config = GitHubConfig();
  config.signature_prefix.clear();
  std::unique_ptr<WebhookVerifier> verifier = MustMake(config);
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(verifier->Verify(Signed("X-Hub-Signature-256", kSha256Hex).input()).ok());
  EXPECT_THAT(
      verifier->Verify(Signed("X-Hub-Signature-256", std::string("sha256=") + kSha256Hex).input()),
      IsUnauthenticated("is not a hex HMAC-SHA256"));
}

TEST(HmacVerifierTest, TamperedBodyIsRejected) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(GitHubConfig());
  ASSERT_NE(verifier, nullptr);
  FakeRequest request = Signed("X-Hub-Signature-256", std::string("sha256=") + kSha256Hex);
  request.body = "Hello, World?";
  const absl::Status status = verifier->Verify(request.input());
  EXPECT_THAT(status, IsUnauthenticated("matches the body under no configured secret"));
  // Neither the secret nor the signature the bridge expected is revealed.
  EXPECT_EQ(status.message().find("Secret"), absl::string_view::npos) << status;
  EXPECT_EQ(status.message().find("757107"), absl::string_view::npos) << status;
}

TEST(HmacVerifierTest, WrongSecretIsRejected) {
  VerifierConfig config = GitHubConfig();
  config.secrets = {"another secret"};
  std::unique_ptr<WebhookVerifier> verifier = MustMake(config);
  ASSERT_NE(verifier, nullptr);
  EXPECT_THAT(
      verifier->Verify(Signed("X-Hub-Signature-256", std::string("sha256=") + kSha256Hex).input()),
      IsUnauthenticated("no configured secret"));
}

TEST(HmacVerifierTest, RotationSecondSecretMatches) {
  VerifierConfig config = GitHubConfig();
  config.secrets = {"the next secret", kSecret};
  std::unique_ptr<WebhookVerifier> verifier = MustMake(config);
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(
      verifier->Verify(Signed("X-Hub-Signature-256", std::string("sha256=") + kSha256Hex).input())
          .ok());
}

TEST(HmacVerifierTest, MissingHeaderIsRejected) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(GitHubConfig());
  ASSERT_NE(verifier, nullptr);
  FakeRequest request = Signed("X-Hub-Signature", std::string("sha256=") + kSha256Hex);
  EXPECT_THAT(verifier->Verify(request.input()),
              IsUnauthenticated("missing header X-Hub-Signature-256"));
}

TEST(HmacVerifierTest, MalformedSignaturesAreRejected) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(GitHubConfig());
  ASSERT_NE(verifier, nullptr);
  const std::string hex = kSha256Hex;
  for (const std::string& bad : {
           hex.substr(0, 62),           // one byte short
           hex + "00",                  // one byte long
           hex.substr(0, 63) + "g",     // not hex
           hex.substr(0, 63),           // odd length
           std::string(""),             // nothing after the prefix
           std::string(kSha256Base64),  // right MAC, wrong encoding
           std::string(kSha512Hex),     // right secret, wrong algorithm
       }) {
    EXPECT_THAT(verifier->Verify(Signed("X-Hub-Signature-256", "sha256=" + bad).input()),
                IsUnauthenticated("is not a hex HMAC-SHA256 (32 bytes)"))
        << bad;
  }
}

TEST(HmacVerifierTest, Sha512Hex) {
  VerifierConfig config = GitHubConfig();
  config.algorithm = HmacAlgorithm::kSha512;
  config.signature_header = "x-signature";
  config.signature_prefix = "sha512=";
  std::unique_ptr<WebhookVerifier> verifier = MustMake(config);
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(
      verifier->Verify(Signed("x-signature", std::string("sha512=") + kSha512Hex).input()).ok());
  EXPECT_THAT(verifier->Verify(Signed("x-signature", std::string("sha512=") + kSha256Hex).input()),
              IsUnauthenticated("is not a hex HMAC-SHA512 (64 bytes)"));
}

TEST(HmacVerifierTest, Base64Sha256AndSha512) {
  VerifierConfig config;
  config.kind = VerificationKind::kHmac;
  config.secrets = {kSecret};
  config.signature_header = "x-webhook-signature";
  config.encoding = SignatureEncoding::kBase64;
  std::unique_ptr<WebhookVerifier> verifier = MustMake(config);
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(verifier->Verify(Signed("x-webhook-signature", kSha256Base64).input()).ok());
  EXPECT_THAT(verifier->Verify(Signed("x-webhook-signature", kSha256Hex).input()),
              IsUnauthenticated("is not a base64 HMAC-SHA256"));
  // One flipped character of the base64.
  std::string flipped = kSha256Base64;
  flipped[0] = 'e';
  EXPECT_THAT(verifier->Verify(Signed("x-webhook-signature", flipped).input()),
              IsUnauthenticated("no configured secret"));

  config.algorithm = HmacAlgorithm::kSha512;
  verifier = MustMake(config);
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(verifier->Verify(Signed("x-webhook-signature", kSha512Base64).input()).ok());
}

TEST(HmacVerifierTest, ConfigErrors) {
  VerifierConfig config = GitHubConfig();
  config.secrets.clear();
  EXPECT_THAT(MakeWebhookVerifier(config).status(), IsInvalidArgument("at least one secret"));
  config.secrets = {""};
  EXPECT_THAT(MakeWebhookVerifier(config).status(), IsInvalidArgument("secret #1 is empty"));
  config = GitHubConfig();
  config.signature_header.clear();
  EXPECT_THAT(MakeWebhookVerifier(config).status(), IsInvalidArgument("signature_header"));
}

}  // namespace
}  // namespace refir::bridge::testing
