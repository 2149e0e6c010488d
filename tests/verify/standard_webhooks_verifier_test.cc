// kStandardWebhooks (https://www.standardwebhooks.com).
#include <algorithm>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/verify/crypto.h"
#include "bridge/verify/webhook_verifier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/verify/verify_test_util.h"

namespace refir::bridge::testing {
namespace {

// The test vector of the Standard Webhooks reference libraries (e.g.
// libraries/go/webhook_test.go TestWebhookSign in
// github.com/standard-webhooks/standard-webhooks), also checked with
// `openssl dgst -sha256 -mac HMAC -macopt hexkey:<decoded secret> -binary`.
constexpr char kSpecSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kSpecId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kSpecTimestamp = 1614265330;
constexpr char kSpecBody[] = "{\"test\": 2432232314}";
constexpr char kSpecSignature[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

constexpr char kOtherSecret[] = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHM=";

VerifierConfig Config(std::vector<std::string> secrets = {kSpecSecret}) {
  VerifierConfig config;
  config.kind = VerificationKind::kStandardWebhooks;
  config.secrets = std::move(secrets);
  return config;
}

// "v1,<base64>" for `id`, `timestamp` and `body` under `whsec_secret`.
std::string Sign(absl::string_view whsec_secret, absl::string_view id, int64_t timestamp,
                 absl::string_view body) {
  std::string key;
  absl::string_view encoded = whsec_secret;
  encoded.remove_prefix(6);
  EXPECT_TRUE(absl::Base64Unescape(encoded, &key));
  absl::StatusOr<std::string> mac = verify_internal::Hmac(
      HmacAlgorithm::kSha256, key, absl::StrCat(id, ".", timestamp, ".", body));
  EXPECT_TRUE(mac.ok());
  return absl::StrCat("v1,", absl::Base64Escape(mac.value_or("")));
}

FakeRequest SpecRequest(std::string signature = kSpecSignature) {
  FakeRequest request;
  request.body = kSpecBody;
  request.now = absl::FromUnixSeconds(kSpecTimestamp);
  request.headers = {{"content-type", "application/json"},
                     {"webhook-id", kSpecId},
                     {"webhook-timestamp", absl::StrCat(kSpecTimestamp)},
                     {"webhook-signature", std::move(signature)}};
  return request;
}

void SetHeader(FakeRequest& request, const std::string& name, std::string value) {
  for (auto& [key, existing] : request.headers) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  request.headers.emplace_back(name, std::move(value));
}

void RemoveHeader(FakeRequest& request, const std::string& name) {
  auto& headers = request.headers;
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const auto& header) { return header.first == name; }),
                headers.end());
}

TEST(StandardWebhooksVerifierTest, SpecTestVectorVerifies) {
  // The test's own signer reproduces the published signature...
  EXPECT_EQ(Sign(kSpecSecret, kSpecId, kSpecTimestamp, kSpecBody), kSpecSignature);
  // ...and the verifier accepts it.
  std::unique_ptr<WebhookVerifier> verifier = MustMake(Config());
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(verifier->Verify(SpecRequest().input()).ok());
}

TEST(StandardWebhooksVerifierTest, BareBase64SecretWorksToo) {
  std::unique_ptr<WebhookVerifier> verifier =
      MustMake(Config({"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}));
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(verifier->Verify(SpecRequest().input()).ok());
}

TEST(StandardWebhooksVerifierTest, HeaderNamesAreCaseInsensitive) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(Config());
  ASSERT_NE(verifier, nullptr);
  FakeRequest request = SpecRequest();
  for (auto& [name, value] : request.headers) {
    if (name == "webhook-id") name = "Webhook-Id";
    if (name == "webhook-signature") name = "WEBHOOK-SIGNATURE";
  }
  EXPECT_TRUE(verifier->Verify(request.input()).ok());
}

TEST(StandardWebhooksVerifierTest, TamperedBodyIdOrTimestampIsRejected) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(Config());
  ASSERT_NE(verifier, nullptr);
  FakeRequest request = SpecRequest();
  request.body = "{\"test\": 2432232315}";
  absl::Status status = verifier->Verify(request.input());
  EXPECT_THAT(status, IsUnauthenticated("no webhook-signature entry matches"));
  EXPECT_THAT(status, IsUnauthenticated("1 v1 signature(s) checked"));
  // Never the secret or the signature the bridge computed.
  EXPECT_EQ(status.message().find("MfKQ9r8"), absl::string_view::npos) << status;
  EXPECT_EQ(status.message().find("whsec"), absl::string_view::npos) << status;

  request = SpecRequest();
  SetHeader(request, "webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJeK");
  EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("no webhook-signature entry"));

  request = SpecRequest();
  SetHeader(request, "webhook-timestamp", absl::StrCat(kSpecTimestamp + 1));
  EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("no webhook-signature entry"));
}

TEST(StandardWebhooksVerifierTest, WrongSecretIsRejected) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(Config({kOtherSecret}));
  ASSERT_NE(verifier, nullptr);
  EXPECT_THAT(verifier->Verify(SpecRequest().input()),
              IsUnauthenticated("no webhook-signature entry matches under any configured secret"));
}

TEST(StandardWebhooksVerifierTest, RotationSecondSecretMatches) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(Config({kOtherSecret, kSpecSecret}));
  ASSERT_NE(verifier, nullptr);
  EXPECT_TRUE(verifier->Verify(SpecRequest().input()).ok());
  // A sender signing with the new secret only is accepted as well.
  const std::string by_other = Sign(kOtherSecret, kSpecId, kSpecTimestamp, kSpecBody);
  EXPECT_TRUE(verifier->Verify(SpecRequest(by_other).input()).ok());
}

TEST(StandardWebhooksVerifierTest, SenderSideRotationOneOfSeveralSignaturesMatches) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(Config());
  ASSERT_NE(verifier, nullptr);
  const std::string by_other = Sign(kOtherSecret, kSpecId, kSpecTimestamp, kSpecBody);
  for (const std::string& header : {
           absl::StrCat(by_other, " ", kSpecSignature),
           absl::StrCat(kSpecSignature, " ", by_other),
           absl::StrCat("v1,bm9wZQ== v2,", std::string(kSpecSignature).substr(3), " ",
                        kSpecSignature, "  v1a,aGVsbG8="),
       }) {
    EXPECT_TRUE(verifier->Verify(SpecRequest(header).input()).ok()) << header;
  }
}

TEST(StandardWebhooksVerifierTest, MalformedSignaturesAreSkippedAndCounted) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(Config());
  ASSERT_NE(verifier, nullptr);
  const std::string valid_base64 = std::string(kSpecSignature).substr(3);
  struct Case {
    std::string header;
    std::string fragment;
  };
  for (const Case& c : {
           // The right signature under another version is not accepted.
           Case{"v2," + valid_base64, "0 v1 signature(s) checked, 0 malformed, 1 of another"},
           Case{"v1a," + valid_base64, "1 of another version"},
           Case{"V1," + valid_base64, "1 of another version"},
           Case{valid_base64, "1 of another version"},
           Case{"v1," + valid_base64.substr(0, 43), "1 malformed"},  // no padding
           Case{"v1,!!" + valid_base64.substr(2), "1 malformed"},
           Case{"v1,", "1 malformed"},
           Case{"v1,aGVsbG8=", "1 malformed"},  // base64 of 5 bytes
           Case{"v1=" + valid_base64, "1 of another version"},
           Case{"v1,bm9wZQ== v1," + valid_base64 + "x", "0 v1 signature(s) checked, 2 malformed"},
       }) {
    EXPECT_THAT(verifier->Verify(SpecRequest(c.header).input()), IsUnauthenticated(c.fragment))
        << c.header;
  }
  EXPECT_THAT(verifier->Verify(SpecRequest("   ").input()),
              IsUnauthenticated("0 v1 signature(s) checked, 0 malformed, 0 of another version"));
}

TEST(StandardWebhooksVerifierTest, MissingHeadersAreRejected) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(Config());
  ASSERT_NE(verifier, nullptr);
  for (const std::string name : {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
    FakeRequest request = SpecRequest();
    RemoveHeader(request, name);
    EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("missing header " + name));
    request = SpecRequest();
    SetHeader(request, name, "");
    EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("missing header " + name));
  }
}

TEST(StandardWebhooksVerifierTest, SvixHeadersAreAcceptedWhenWebhookHeadersAreAbsent) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(Config());
  ASSERT_NE(verifier, nullptr);
  FakeRequest request = SpecRequest();
  for (auto& [name, value] : request.headers) {
    if (absl::StartsWith(name, "webhook-")) name = "svix-" + name.substr(8);
  }
  EXPECT_TRUE(verifier->Verify(request.input()).ok());
  // svix- names follow the same rules.
  SetHeader(request, "svix-signature", "v1,bm9wZQ==");
  EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("no webhook-signature entry"));
}

TEST(StandardWebhooksVerifierTest, StaleAndFutureTimestampsAreRejected) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(Config());
  ASSERT_NE(verifier, nullptr);
  FakeRequest request = SpecRequest();
  const absl::Time signed_at = absl::FromUnixSeconds(kSpecTimestamp);
  // The default tolerance is 5 minutes, inclusive, in both directions.
  for (absl::Duration skew : {absl::Minutes(5), -absl::Minutes(5), absl::Seconds(1)}) {
    request.now = signed_at + skew;
    EXPECT_TRUE(verifier->Verify(request.input()).ok()) << skew;
  }
  request.now = signed_at + absl::Minutes(5) + absl::Seconds(1);
  EXPECT_THAT(verifier->Verify(request.input()),
              IsUnauthenticated("webhook-timestamp is 5m1s old, beyond the tolerance of 5m"));
  request.now = signed_at - absl::Minutes(5) - absl::Seconds(1);
  EXPECT_THAT(verifier->Verify(request.input()),
              IsUnauthenticated("webhook-timestamp is 5m1s in the future"));
  request.now = signed_at + absl::Hours(24 * 365);
  EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("old"));
}

TEST(StandardWebhooksVerifierTest, ToleranceIsConfigurable) {
  VerifierConfig config = Config();
  config.tolerance = absl::Seconds(30);
  std::unique_ptr<WebhookVerifier> verifier = MustMake(config);
  ASSERT_NE(verifier, nullptr);
  FakeRequest request = SpecRequest();
  request.now = absl::FromUnixSeconds(kSpecTimestamp + 30);
  EXPECT_TRUE(verifier->Verify(request.input()).ok());
  request.now = absl::FromUnixSeconds(kSpecTimestamp + 31);
  EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("tolerance of 30s"));
  request.now = absl::FromUnixSeconds(kSpecTimestamp - 31);
  EXPECT_THAT(verifier->Verify(request.input()), IsUnauthenticated("in the future"));
}

TEST(StandardWebhooksVerifierTest, NonNumericTimestampsAreRejected) {
  std::unique_ptr<WebhookVerifier> verifier = MustMake(Config());
  ASSERT_NE(verifier, nullptr);
  for (const char* bad : {"1614265330.5", "-1614265330", "+1614265330", " 1614265330", "abc",
                          "1614265330000000000000", "2021-02-25T15:02:10Z"}) {
    FakeRequest request = SpecRequest();
    SetHeader(request, "webhook-timestamp", bad);
    EXPECT_THAT(verifier->Verify(request.input()),
                IsUnauthenticated("webhook-timestamp is not a unix time in seconds"))
        << bad;
  }
}

TEST(StandardWebhooksVerifierTest, ConfigErrors) {
  EXPECT_THAT(MakeWebhookVerifier(Config({})).status(), IsInvalidArgument("at least one secret"));
  for (const char* bad : {"whsec_", "whsec_not base64!", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
                          "plain text secret"}) {
    const absl::Status status = MakeWebhookVerifier(Config({kSpecSecret, bad})).status();
    EXPECT_THAT(status, IsInvalidArgument("secret #2 is not whsec_<base64>")) << bad;
    const absl::string_view content = absl::string_view(bad).substr(6);
    if (!content.empty()) {
      EXPECT_EQ(status.message().find(content), absl::string_view::npos) << status;
    }
  }
  VerifierConfig config = Config();
  config.tolerance = -absl::Seconds(1);
  EXPECT_THAT(MakeWebhookVerifier(config).status(), IsInvalidArgument("tolerance -1s is negative"));
}

}  // namespace
}  // namespace refir::bridge::testing
