// Unit tests of dedup key derivation (webhook-id/svix-id, JSON field, body SHA-256).
#include "bridge/http_edge/dedup_key.h"

#include <string>
#include <utility>

#include "bridge/common/error_reason.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

WebhookRequest Request(std::string body,
                       std::vector<std::pair<std::string, std::string>> headers = {},
                       std::string source = "refir") {
  WebhookRequest request;
  request.source = std::move(source);
  request.body = std::move(body);
  request.content_type = "application/json";
  request.headers = std::move(headers);
  return request;
}

SourceDedup By(SourceDedup::By by, std::string json_field = "") {
  SourceDedup config;
  config.by = by;
  config.json_field = std::move(json_field);
  config.window = absl::Minutes(3);
  return config;
}

TEST(DedupKeyTest, WebhookIdHeaderMatchedCaseInsensitively) {
  absl::StatusOr<DedupKey> key =
      DedupKeyFor(By(SourceDedup::By::kWebhookId), Request("{}", {{"Webhook-ID", "wh_1"}}));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "refir|webhook_id|wh_1");
  EXPECT_EQ(key->window, absl::Minutes(3));
}

TEST(DedupKeyTest, NoWebhookIdMeansNoDedup) {
  absl::StatusOr<DedupKey> key =
      DedupKeyFor(By(SourceDedup::By::kWebhookId), Request("{}", {{"X-Other", "wh_1"}}));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "");
}

TEST(DedupKeyTest, SvixIdIsTheSameKeyAsWebhookId) {
  const SourceDedup config = By(SourceDedup::By::kWebhookId);
  absl::StatusOr<DedupKey> svix = DedupKeyFor(config, Request("{}", {{"Svix-Id", "msg_1"}}));
  ASSERT_TRUE(svix.ok()) << svix.status();
  EXPECT_EQ(svix->key, "refir|webhook_id|msg_1");
  EXPECT_EQ(svix->key, DedupKeyFor(config, Request("{}", {{"webhook-id", "msg_1"}}))->key);
}

TEST(DedupKeyTest, WebhookIdWinsOverSvixId) {
  absl::StatusOr<DedupKey> key = DedupKeyFor(
      By(SourceDedup::By::kWebhookId), Request("{}", {{"svix-id", "s"}, {"webhook-id", "w"}}));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "refir|webhook_id|w");
}

TEST(DedupKeyTest, NoneNeverDedups) {
  absl::StatusOr<DedupKey> key =
      DedupKeyFor(By(SourceDedup::By::kNone), Request("{}", {{"webhook-id", "wh_1"}}));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "");
}

TEST(DedupKeyTest, SourceAndKindSeparateKeys) {
  const SourceDedup config = By(SourceDedup::By::kWebhookId);
  const std::string a = DedupKeyFor(config, Request("{}", {{"webhook-id", "x"}}, "a"))->key;
  const std::string b = DedupKeyFor(config, Request("{}", {{"webhook-id", "x"}}, "b"))->key;
  EXPECT_NE(a, b);
  const std::string by_field =
      DedupKeyFor(By(SourceDedup::By::kJsonField, "/id"), Request(R"({"id":"x"})", {}, "a"))->key;
  EXPECT_NE(a, by_field);
}

TEST(DedupKeyTest, BodySha256IsHexOfTheExactBytes) {
  const SourceDedup config = By(SourceDedup::By::kBodySha256);
  absl::StatusOr<DedupKey> key = DedupKeyFor(config, Request("abc"));
  ASSERT_TRUE(key.ok()) << key.status();
  // SHA-256("abc") from FIPS 180-2.
  EXPECT_EQ(key->key,
            "refir|body_sha256|ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(DedupKeyFor(config, Request("abc "))->key, key->key);
}

TEST(DedupKeyTest, JsonFieldStringOrNumber) {
  const SourceDedup config = By(SourceDedup::By::kJsonField, "/meta/event_id");
  EXPECT_EQ(DedupKeyFor(config, Request(R"({"meta":{"event_id":"e-1"}})"))->key,
            "refir|json_field|e-1");
  EXPECT_EQ(DedupKeyFor(config, Request(R"({"meta":{"event_id":42}})"))->key,
            "refir|json_field|42");
}

// Issue 17: beyond 2^64 nlohmann rounds to a double, and these two ids
// shared the key "1.8446744073709552e+19": the second was never stored.
TEST(DedupKeyTest, JsonFieldNumbersKeyOnTheirExactText) {
  const SourceDedup config = By(SourceDedup::By::kJsonField, "/id");
  auto key = [&](const std::string& number) {
    absl::StatusOr<DedupKey> k = DedupKeyFor(config, Request(R"({"id": )" + number + "}"));
    EXPECT_TRUE(k.ok()) << k.status();
    return k.ok() ? k->key : "<error>";
  };
  EXPECT_EQ(key("18446744073709551617"), "refir|json_field|18446744073709551617");
  EXPECT_EQ(key("18446744073709551629"), "refir|json_field|18446744073709551629");
  EXPECT_EQ(key("123456789012345678901234567890123"),
            "refir|json_field|123456789012345678901234567890123");
  EXPECT_EQ(key("1e400"), "refir|json_field|1e400");
  EXPECT_EQ(key("0.1000000000000000000001"), "refir|json_field|0.1000000000000000000001");
  // Distinct spellings are distinct keys (the rule is the text as sent).
  EXPECT_EQ(key("1"), "refir|json_field|1");
  EXPECT_EQ(key("1.0"), "refir|json_field|1.0");
  EXPECT_EQ(key("1e0"), "refir|json_field|1e0");
  EXPECT_EQ(key("-0"), "refir|json_field|-0");
}

TEST(DedupKeyTest, JsonFieldAbsentMeansNoDedup) {
  const SourceDedup config = By(SourceDedup::By::kJsonField, "/event_id");
  absl::StatusOr<DedupKey> key = DedupKeyFor(config, Request(R"({"other":"x"})"));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->key, "");
}

TEST(DedupKeyTest, JsonFieldOfAnotherTypeIsInvalidDedupField) {
  const SourceDedup config = By(SourceDedup::By::kJsonField, "/event_id");
  for (const char* body : {R"({"event_id":null})", R"({"event_id":{"a":1}})", R"({"event_id":[1]})",
                           R"({"event_id":true})"}) {
    absl::StatusOr<DedupKey> key = DedupKeyFor(config, Request(body));
    ASSERT_FALSE(key.ok()) << body;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_EQ(ReasonOf(key.status()), "invalid_dedup_field") << body;
  }
}

TEST(DedupKeyTest, JsonFieldOfUnparsableBodyIsInvalidJson) {
  absl::StatusOr<DedupKey> key =
      DedupKeyFor(By(SourceDedup::By::kJsonField, "/event_id"), Request("{"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(ReasonOf(key.status()), "invalid_json");
}

TEST(DedupKeyTest, ValidateConfig) {
  EXPECT_TRUE(By(SourceDedup::By::kWebhookId).Validate().ok());
  EXPECT_TRUE(By(SourceDedup::By::kJsonField, "/a/0/b").Validate().ok());
  EXPECT_FALSE(By(SourceDedup::By::kJsonField, "").Validate().ok());
  EXPECT_FALSE(By(SourceDedup::By::kJsonField, "event_id").Validate().ok());
  EXPECT_FALSE(By(SourceDedup::By::kJsonField, "/a~2").Validate().ok());
  SourceDedup zero = By(SourceDedup::By::kWebhookId);
  zero.window = absl::ZeroDuration();
  EXPECT_FALSE(zero.Validate().ok());
}

TEST(DedupKeyTest, ParseDedupByRoundTrips) {
  for (const char* name : {"none", "webhook_id", "json_field", "body_sha256"}) {
    absl::StatusOr<SourceDedup::By> by = ParseDedupBy(name);
    ASSERT_TRUE(by.ok()) << name;
    EXPECT_EQ(DedupByName(*by), name);
  }
  EXPECT_FALSE(ParseDedupBy("webhook-id").ok());
  EXPECT_FALSE(ParseDedupBy("").ok());
}

}  // namespace
}  // namespace refir::bridge
