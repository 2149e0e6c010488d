#include "bridge/convert/webhook_converter.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/common/error_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

WebhookRequest MakeRequest(std::string body,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
  WebhookRequest request;
  request.source = "refir";
  request.body = std::move(body);
  request.content_type = "application/json";
  request.headers = std::move(headers);
  request.remote_addr = "127.0.0.1:5555";
  request.received_at = absl::FromUnixNanos(1700000000123456789);
  return request;
}

TEST(WebhookConverterTest, FillsEventFields) {
  WebhookConverter converter;
  absl::StatusOr<v1::Event> event = converter.Convert(
      MakeRequest(R"({"event":"user_added","lead":{"id":1}})", {{"Webhook-Id", "msg_2abc"}}));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->id(), "msg_2abc");
  EXPECT_EQ(event->sequence(), 0u);
  EXPECT_EQ(event->source(), "refir");
  EXPECT_EQ(event->type(), "refir.user.added");
  EXPECT_EQ(event->received_at().seconds(), 1700000000);
  EXPECT_EQ(event->received_at().nanos(), 123456789);
  EXPECT_EQ(event->refir().event_type(), "user_added");
  EXPECT_EQ(event->refir().lead().id(), "1");
  EXPECT_EQ(event->content_type(), "application/json");
  EXPECT_EQ(event->remote_addr(), "127.0.0.1:5555");
}

TEST(WebhookConverterTest, ConvertUnparsedKeepsTheBodyWithoutParsingIt) {
  WebhookConverter converter;
  WebhookRequest request = MakeRequest(std::string("\x00\xff not json", 11),
                                       {{"Webhook-Id", "msg_raw"}, {"Authorization", "secret"}});
  request.source = "raw";
  request.content_type = "application/octet-stream";
  absl::StatusOr<v1::Event> event = converter.ConvertUnparsed(request);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->id(), "msg_raw");
  EXPECT_EQ(event->type(), "raw.unparsed");
  EXPECT_EQ(event->source(), "raw");
  EXPECT_EQ(event->body(), request.body);
  EXPECT_EQ(event->content_type(), "application/octet-stream");
  EXPECT_FALSE(event->has_refir());
  EXPECT_EQ(event->headers().count("authorization"), 0u);
  EXPECT_EQ(event->headers().at("webhook-id"), "msg_raw");
  // The id header is validated as for any event.
  request.headers = {{"webhook-id", "two words"}};
  EXPECT_EQ(ReasonOf(converter.ConvertUnparsed(request).status()), "invalid_header");
  EXPECT_EQ(UnparsedEventType("github"), "github.unparsed");
}

TEST(WebhookConverterTest, TimestampBeforeEpochHasNonNegativeNanos) {
  WebhookRequest request = MakeRequest("{}");
  request.received_at = absl::UnixEpoch() - absl::Milliseconds(1500);
  absl::StatusOr<v1::Event> event = WebhookConverter().Convert(request);
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->received_at().seconds(), -2);
  EXPECT_EQ(event->received_at().nanos(), 500000000);
}

TEST(WebhookConverterTest, InfiniteReceivedAtIsRejected) {
  WebhookRequest request = MakeRequest("{}");
  request.received_at = absl::InfiniteFuture();
  EXPECT_EQ(WebhookConverter().Convert(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WebhookConverterTest, WebhookIdHeaderMatchedCaseInsensitively) {
  absl::StatusOr<v1::Event> event =
      WebhookConverter().Convert(MakeRequest("{}", {{"WEBHOOK-ID", "abc-123"}}));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->id(), "abc-123");
}

TEST(WebhookConverterTest, GeneratesUuidV7WithoutWebhookId) {
  WebhookConverter converter;
  WebhookRequest request = MakeRequest("{}", {{"X-Request-Id", "r1"}});
  absl::StatusOr<v1::Event> a = converter.Convert(request);
  absl::StatusOr<v1::Event> b = converter.Convert(request);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(a->id(),
              MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  // The first 48 bits are received_at in Unix milliseconds (0x18bcfe5687b).
  EXPECT_EQ(a->id().substr(0, 8) + a->id().substr(9, 4), "018bcfe5687b");
  EXPECT_NE(a->id(), b->id());
}

TEST(WebhookConverterTest, InvalidWebhookIdRejected) {
  ConverterOptions options;
  options.max_id_length = 8;
  WebhookConverter converter(options);
  for (const std::string& bad :
       {std::string(""), std::string("has space"), std::string("123456789"),
        std::string("tab\there"), std::string("caf\xc3\xa9"), std::string("nul\0x", 5)}) {
    absl::StatusOr<v1::Event> event = converter.Convert(MakeRequest("{}", {{"webhook-id", bad}}));
    ASSERT_FALSE(event.ok()) << "accepted " << bad;
    EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ReasonOf(event.status()), "invalid_header");
    EXPECT_THAT(std::string(event.status().message()), HasSubstr("webhook-id"));
  }
  EXPECT_TRUE(converter.Convert(MakeRequest("{}", {{"webhook-id", "12345678"}})).ok());
}

TEST(WebhookConverterTest, ConflictingRepeatedWebhookIdRejected) {
  WebhookConverter converter;
  absl::StatusOr<v1::Event> conflict =
      converter.Convert(MakeRequest("{}", {{"webhook-id", "a"}, {"Webhook-Id", "b"}}));
  EXPECT_EQ(ReasonOf(conflict.status()), "invalid_header");
  absl::StatusOr<v1::Event> same =
      converter.Convert(MakeRequest("{}", {{"webhook-id", "a"}, {"Webhook-Id", "a"}}));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->id(), "a");
}

TEST(WebhookConverterTest, SvixIdIsTheEventIdAndKeptInHeaders) {
  absl::StatusOr<v1::Event> event = WebhookConverter().Convert(MakeRequest(
      "{}", {{"Svix-Id", "msg_2x"}, {"svix-timestamp", "1700000000"}, {"svix-signature", "v1,x"}}));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->id(), "msg_2x");
  EXPECT_EQ(event->headers().at("svix-id"), "msg_2x");
  EXPECT_EQ(event->headers().at("svix-timestamp"), "1700000000");
  EXPECT_EQ(event->headers().count("svix-signature"), 0u);
}

TEST(WebhookConverterTest, SvixIdIsValidatedLikeWebhookId) {
  absl::StatusOr<v1::Event> event =
      WebhookConverter().Convert(MakeRequest("{}", {{"svix-id", "has space"}}));
  ASSERT_FALSE(event.ok());
  EXPECT_EQ(ReasonOf(event.status()), "invalid_header");
  EXPECT_THAT(std::string(event.status().message()), HasSubstr("svix-id"));
}

TEST(WebhookConverterTest, WebhookIdAndSvixIdMustAgree) {
  WebhookConverter converter;
  absl::StatusOr<v1::Event> same =
      converter.Convert(MakeRequest("{}", {{"webhook-id", "m1"}, {"svix-id", "m1"}}));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->id(), "m1");
  absl::StatusOr<v1::Event> differ =
      converter.Convert(MakeRequest("{}", {{"webhook-id", "m1"}, {"svix-id", "m2"}}));
  ASSERT_FALSE(differ.ok());
  EXPECT_EQ(ReasonOf(differ.status()), "invalid_header");
  EXPECT_THAT(std::string(differ.status().message()), HasSubstr("svix-id"));
}

void ExpectInvalidJson(const std::string& body, const std::string& message_part = "") {
  absl::StatusOr<v1::Event> event = WebhookConverter().Convert(MakeRequest(body));
  ASSERT_FALSE(event.ok()) << "accepted: " << body.substr(0, 40);
  EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(event.status()), "invalid_json");
  EXPECT_FALSE(event.status().message().empty());
  EXPECT_THAT(std::string(event.status().message()), HasSubstr(message_part));
}

TEST(WebhookConverterTest, TruncatedJsonCarriesParserExplanation) {
  ExpectInvalidJson(R"({"lead": {"id")", "unexpected end of input");
  ExpectInvalidJson(R"({"a":1)", "line 1, column 7");
}

TEST(WebhookConverterTest, ParserPrefixIsStripped) {
  absl::StatusOr<v1::Event> event = WebhookConverter().Convert(MakeRequest("{"));
  ASSERT_FALSE(event.ok());
  EXPECT_THAT(std::string(event.status().message()), ::testing::Not(HasSubstr("[json.")));
  EXPECT_THAT(std::string(event.status().message()), HasSubstr("syntax error"));
}

TEST(WebhookConverterTest, TrailingGarbageIsInvalidJson) {
  ExpectInvalidJson(R"({"a":1} x)", "syntax error");
  ExpectInvalidJson(R"({"a":1}{"b":2})");
}

TEST(WebhookConverterTest, NonObjectIsInvalidJson) {
  ExpectInvalidJson("[1,2]", "body must be a JSON object, got array");
  ExpectInvalidJson(R"("text")", "got string");
  ExpectInvalidJson("42", "got number");
  ExpectInvalidJson("null", "got null");
  ExpectInvalidJson("true", "got boolean");
}

TEST(WebhookConverterTest, EmptyBodyIsInvalidJson) {
  ExpectInvalidJson("", "empty");
  ExpectInvalidJson("  \n", "unexpected end of input");
}

TEST(WebhookConverterTest, InvalidUtf8AndCommentsAreInvalidJson) {
  ExpectInvalidJson("{\"a\":\"\xff\"}");
  ExpectInvalidJson("{\"a\":\"\xed\xa0\x80\"}");  // UTF-8 encoded surrogate
  ExpectInvalidJson("{/* c */\"a\":1}");
}

TEST(WebhookConverterTest, DeeplyNestedBodyDoesNotCrash) {
  ExpectInvalidJson(std::string(100000, '[') + std::string(100000, ']'), "got array");
  const std::string deep_object =
      "{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_TRUE(WebhookConverter().Convert(MakeRequest(deep_object)).ok());
}

TEST(WebhookConverterTest, BodyKeptByteExact) {
  const std::string body =
      "\xef\xbb\xbf {\n\t\"message\" : \"caf\\u00e9 \xe2\x9c\x93\",\r\n  \"n\": 1.50 ,"
      " \"s\":\"\\ud83d\\ude00\" }  \n";
  absl::StatusOr<v1::Event> event = WebhookConverter().Convert(MakeRequest(body));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->body(), body);
  EXPECT_EQ(event->refir().message(), "caf\xc3\xa9 \xe2\x9c\x93");
}

TEST(WebhookConverterTest, HeaderAllowlistExcludesSecrets) {
  absl::StatusOr<v1::Event> event =
      WebhookConverter().Convert(MakeRequest("{}", {{"Authorization", "Bearer s3cret"},
                                                    {"Cookie", "session=1"},
                                                    {"X-Signature", "sha256=abc"},
                                                    {"Webhook-Signature", "v1,abc"},
                                                    {"User-Agent", "Refir/1.0"},
                                                    {"Content-Type", "application/json"},
                                                    {"X-Request-Id", "req-1"}}));
  ASSERT_TRUE(event.ok()) << event.status();
  const auto& headers = event->headers();
  EXPECT_EQ(headers.count("authorization"), 0u);
  EXPECT_EQ(headers.count("cookie"), 0u);
  EXPECT_EQ(headers.count("x-signature"), 0u);
  EXPECT_EQ(headers.count("webhook-signature"), 0u);
  EXPECT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers.at("user-agent"), "Refir/1.0");
  EXPECT_EQ(headers.at("content-type"), "application/json");
  EXPECT_EQ(headers.at("x-request-id"), "req-1");
}

TEST(WebhookConverterTest, RepeatedHeaderJoinedInOrder) {
  absl::StatusOr<v1::Event> event =
      WebhookConverter().Convert(MakeRequest("{}", {{"X-Forwarded-For", "10.0.0.1"},
                                                    {"x-forwarded-for", "10.0.0.2"},
                                                    {"X-FORWARDED-FOR", "10.0.0.3"}}));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->headers().at("x-forwarded-for"), "10.0.0.1, 10.0.0.2, 10.0.0.3");
}

TEST(WebhookConverterTest, CustomAllowlistIsCaseInsensitive) {
  ConverterOptions options;
  options.header_allowlist = {"X-Tenant"};
  absl::StatusOr<v1::Event> event = WebhookConverter(options).Convert(
      MakeRequest("{}", {{"x-tenant", "t1"}, {"User-Agent", "ua"}}));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->headers().size(), 1u);
  EXPECT_EQ(event->headers().at("x-tenant"), "t1");
}

TEST(WebhookConverterTest, InvalidUtf8HeaderValueIsReplaced) {
  absl::StatusOr<v1::Event> event =
      WebhookConverter().Convert(MakeRequest("{}", {{"User-Agent", "ua\xff/\xc3\xa9"}}));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->headers().at("user-agent"), "ua\xef\xbf\xbd/\xc3\xa9");
  // The event round-trips through the wire format.
  v1::Event parsed;
  ASSERT_TRUE(parsed.ParseFromString(event->SerializeAsString()));
  EXPECT_EQ(parsed.headers().at("user-agent"), event->headers().at("user-agent"));
}

TEST(WebhookConverterTest, TypeInferredFromBody) {
  WebhookConverter converter;
  absl::StatusOr<v1::Event> referral =
      converter.Convert(MakeRequest(R"({"lead":{"id":"l"},"referrer":{"email":"r@example.com"}})"));
  ASSERT_TRUE(referral.ok()) << referral.status();
  EXPECT_EQ(referral->type(), "refir.referral.created");

  absl::StatusOr<v1::Event> added = converter.Convert(MakeRequest(R"({"user":{"id":"l"}})"));
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->type(), "refir.user.added");

  absl::StatusOr<v1::Event> unknown = converter.Convert(MakeRequest(R"({"hello":"world"})"));
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->type(), "unknown");
}

TEST(WebhookConverterTest, GenericMappingLeavesRefirEmptyAndReadsTypeField) {
  ConverterOptions options;
  options.mapping = PayloadMapping::kGeneric;
  options.type_field = "action";
  WebhookConverter converter(options);
  absl::StatusOr<v1::Event> event =
      converter.Convert(MakeRequest(R"({"action":"push","lead":{"id":1},"message":"m"})"));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->type(), "push");
  EXPECT_FALSE(event->has_refir());
  EXPECT_EQ(event->body(), R"({"action":"push","lead":{"id":1},"message":"m"})");
}

TEST(WebhookConverterTest, GenericMappingReadsJsonPointerElseUnknown) {
  ConverterOptions options;
  options.mapping = PayloadMapping::kGeneric;
  options.type_field = "/meta/type";
  WebhookConverter converter(options);
  absl::StatusOr<v1::Event> nested =
      converter.Convert(MakeRequest(R"({"meta":{"type":"order.paid"}})"));
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->type(), "order.paid");
  for (const char* body : {R"({"meta":{}})", R"({"meta":{"type":7}})", R"({"meta":{"type":""}})",
                           R"({"meta":"x"})", "{}"}) {
    absl::StatusOr<v1::Event> event = converter.Convert(MakeRequest(body));
    ASSERT_TRUE(event.ok()) << body;
    EXPECT_EQ(event->type(), "unknown") << body;
  }
  ConverterOptions no_field_options;
  no_field_options.mapping = PayloadMapping::kGeneric;
  WebhookConverter no_field(no_field_options);
  absl::StatusOr<v1::Event> event = no_field.Convert(MakeRequest(R"({"event":"user_added"})"));
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->type(), "unknown");
}

TEST(WebhookConverterTest, TheRefirMappingOrdersByTheLeadsIdAsSent) {
  absl::StatusOr<v1::Event> event = WebhookConverter().Convert(
      MakeRequest(R"({"event":"user_added","lead":{"id":18446744073709551617}})"));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->ordering_key(), "18446744073709551617");
  event =
      WebhookConverter().Convert(MakeRequest(R"({"event":"user_added","newUser":{"id":"u-1"}})"));
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->ordering_key(), "u-1") << "an alias of lead";
  event = WebhookConverter().Convert(MakeRequest(R"({"event":"user_added"})"));
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->ordering_key(), "") << "no lead id: not ordered";
}

TEST(WebhookConverterTest, OrderingKeyFromAPointerOrNone) {
  ConverterOptions options;
  options.mapping = PayloadMapping::kGeneric;
  EXPECT_EQ(
      WebhookConverter(options).Convert(MakeRequest(R"({"lead":{"id":"x"}})"))->ordering_key(), "")
      << "generic mapping: no default key";
  options.ordering_key = "/order/id";
  const WebhookConverter by_order(options);
  EXPECT_EQ(by_order.Convert(MakeRequest(R"({"order":{"id":"o-7"}})"))->ordering_key(), "o-7");
  EXPECT_EQ(by_order.Convert(MakeRequest(R"({"order":{"id":1.50}})"))->ordering_key(), "1.50");
  EXPECT_EQ(by_order.Convert(MakeRequest(R"({"order":{"id":{"a":1}}})"))->ordering_key(), "")
      << "not a string or number";
  EXPECT_EQ(by_order.Convert(MakeRequest(R"({"order":[]})"))->ordering_key(), "");
  options.mapping = PayloadMapping::kRefir;
  options.ordering_key = "";
  EXPECT_EQ(WebhookConverter(options)
                .Convert(MakeRequest(R"({"event":"user_added","lead":{"id":"x"}})"))
                ->ordering_key(),
            "")
      << "none";
}

TEST(WebhookConverterTest, ALongOrderingKeyIsCutOnACharacterBoundary) {
  ConverterOptions options;
  options.ordering_key = "/k";
  // 255 ASCII bytes, then a 3-byte character that would cross byte 256.
  const std::string key = std::string(255, 'a') + "\xe2\x82\xac" + "tail";
  absl::StatusOr<v1::Event> event =
      WebhookConverter(options).Convert(MakeRequest(absl::StrCat(R"({"k":")", key, R"("})")));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->ordering_key(), std::string(255, 'a'));
  EXPECT_LE(event->ordering_key().size(), kMaxOrderingKeyBytes);
}

}  // namespace
}  // namespace refir::bridge
