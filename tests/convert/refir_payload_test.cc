#include "bridge/convert/refir_payload.h"

#include <string>

#include "absl/status/statusor.h"
#include "bridge/convert/exact_json.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {
namespace {

using nlohmann::json;

// As the converter parses bodies: numbers keep their text.
v1::RefirPayload Extract(const std::string& text) {
  absl::StatusOr<json> parsed = ParseJsonExact(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return ExtractRefirPayload(parsed.ok() ? *parsed : json::object());
}

TEST(ExtractRefirPayloadTest, SnakeCaseBody) {
  v1::RefirPayload p = Extract(R"({
    "event": "referral_created",
    "new_user": {"user_id": "u-2", "email": "lead@example.com", "full_name": "Lee Lead",
                 "referral_code": "LEE2", "referral_url": "https://r.example/LEE2"},
    "referring_user": {"user_id": "u-1", "email": "ref@example.com",
                       "first_name": "Ria", "last_name": "Ref", "code": "RIA1",
                       "link": "https://r.example/RIA1"},
    "message": "Ria referred Lee",
    "campaign_id": "c-9", "campaign_name": "Spring"
  })");
  EXPECT_EQ(p.event_type(), "referral_created");
  EXPECT_EQ(p.lead().id(), "u-2");
  EXPECT_EQ(p.lead().email(), "lead@example.com");
  EXPECT_EQ(p.lead().name(), "Lee Lead");
  EXPECT_EQ(p.lead().referral_code(), "LEE2");
  EXPECT_EQ(p.lead().referral_link(), "https://r.example/LEE2");
  ASSERT_TRUE(p.has_referrer());
  EXPECT_EQ(p.referrer().id(), "u-1");
  EXPECT_EQ(p.referrer().email(), "ref@example.com");
  EXPECT_EQ(p.referrer().name(), "Ria Ref");
  EXPECT_EQ(p.referrer().referral_code(), "RIA1");
  EXPECT_EQ(p.referrer().referral_link(), "https://r.example/RIA1");
  EXPECT_EQ(p.message(), "Ria referred Lee");
  EXPECT_EQ(p.campaign().id(), "c-9");
  EXPECT_EQ(p.campaign().name(), "Spring");
}

TEST(ExtractRefirPayloadTest, CamelCaseBody) {
  v1::RefirPayload p = Extract(R"({
    "eventType": "userAdded",
    "newUser": {"userId": "u-2", "firstName": "Lee", "lastName": "Lead",
                "referralCode": "LEE2", "referralLink": "https://r.example/LEE2"},
    "referredBy": {"userId": "u-1", "fullName": "Ria Ref", "referralUrl": "https://r.example/x"},
    "campaignId": "c-9", "campaignName": "Spring"
  })");
  EXPECT_EQ(p.event_type(), "userAdded");
  EXPECT_EQ(p.lead().id(), "u-2");
  EXPECT_EQ(p.lead().name(), "Lee Lead");
  EXPECT_EQ(p.lead().referral_code(), "LEE2");
  EXPECT_EQ(p.lead().referral_link(), "https://r.example/LEE2");
  EXPECT_EQ(p.referrer().id(), "u-1");
  EXPECT_EQ(p.referrer().name(), "Ria Ref");
  EXPECT_EQ(p.referrer().referral_link(), "https://r.example/x");
  EXPECT_EQ(p.campaign().id(), "c-9");
  EXPECT_EQ(p.campaign().name(), "Spring");
}

TEST(ExtractRefirPayloadTest, LeadAndUserAndReferrerKeys) {
  EXPECT_EQ(Extract(R"({"lead": {"id": "a"}})").lead().id(), "a");
  EXPECT_EQ(Extract(R"({"user": {"id": "b"}})").lead().id(), "b");
  EXPECT_EQ(Extract(R"({"referrer": {"id": "c"}})").referrer().id(), "c");
  EXPECT_EQ(Extract(R"({"referringUser": {"id": "d"}})").referrer().id(), "d");
  EXPECT_EQ(Extract(R"({"referred_by": {"id": "e"}})").referrer().id(), "e");
}

TEST(ExtractRefirPayloadTest, IdsAsNumbersKeepEveryDigit) {
  v1::RefirPayload p = Extract(
      R"({"lead": {"id": 18446744073709551615}, "referrer": {"user_id": -9223372036854775808},
          "campaign": {"id": 42}})");
  EXPECT_EQ(p.lead().id(), "18446744073709551615");
  EXPECT_EQ(p.referrer().id(), "-9223372036854775808");
  EXPECT_EQ(p.campaign().id(), "42");

  EXPECT_EQ(Extract(R"({"lead": {"id": 9223372036854775807}})").lead().id(), "9223372036854775807");
  EXPECT_EQ(Extract(R"({"lead": {"id": 0}})").lead().id(), "0");
  EXPECT_EQ(Extract(R"({"lead": {"id": "0042"}})").lead().id(), "0042");
}

TEST(ExtractRefirPayloadTest, NumberIdsKeepTheirTextAsSent) {
  EXPECT_EQ(Extract(R"({"lead": {"id": 12.5}})").lead().id(), "12.5");
  EXPECT_EQ(Extract(R"({"lead": {"id": 1e3}})").lead().id(), "1e3");
  EXPECT_EQ(Extract(R"({"lead": {"id": 1.0}})").lead().id(), "1.0");
  EXPECT_EQ(Extract(R"({"lead": {"id": -0}})").lead().id(), "-0");
  // Beyond 64 bits (issue 17: these came out as 1.8446744073709552e+19).
  EXPECT_EQ(Extract(R"({"lead": {"id": 18446744073709551617}})").lead().id(),
            "18446744073709551617");
  EXPECT_EQ(Extract(R"({"referrer": 18446744073709551629})").referrer().id(),
            "18446744073709551629");
  EXPECT_EQ(Extract(R"({"campaign_id": 123456789012345678901234567890})").campaign().id(),
            "123456789012345678901234567890");
  // Beyond a double's range, which nlohmann alone refuses.
  EXPECT_EQ(Extract(R"({"lead": {"id": 1e400}})").lead().id(), "1e400");
}

TEST(ExtractRefirPayloadTest, PlainNlohmannNumbersStillRender) {
  EXPECT_EQ(
      ExtractRefirPayload(json::parse(R"({"lead": {"id": 18446744073709551615}})")).lead().id(),
      "18446744073709551615");
  EXPECT_EQ(ExtractRefirPayload(json::parse(R"({"lead": {"id": 12.5}})")).lead().id(), "12.5");
}

TEST(ExtractRefirPayloadTest, ScalarParticipantIsIdOrEmail) {
  v1::RefirPayload p = Extract(R"({"lead": "lee@example.com", "referrer": 77})");
  EXPECT_EQ(p.lead().email(), "lee@example.com");
  EXPECT_EQ(p.lead().id(), "");
  EXPECT_EQ(p.referrer().id(), "77");
  EXPECT_EQ(Extract(R"({"user": "u-5"})").lead().id(), "u-5");
}

TEST(ExtractRefirPayloadTest, NameFromFirstOrLastAloneIsTrimmed) {
  EXPECT_EQ(Extract(R"({"lead": {"first_name": "Lee"}})").lead().name(), "Lee");
  EXPECT_EQ(Extract(R"({"lead": {"lastName": "Lead"}})").lead().name(), "Lead");
  EXPECT_EQ(Extract(R"({"lead": {"name": "Full", "first_name": "X"}})").lead().name(), "Full");
}

TEST(ExtractRefirPayloadTest, UnusableTypesLeaveFieldsEmpty) {
  v1::RefirPayload p = Extract(
      R"({"event": 5, "type": "user_added", "message": ["a"],
          "lead": {"id": true, "user_id": "u-1", "email": null, "name": {"x": 1}},
          "referrer": false})");
  EXPECT_EQ(p.event_type(), "user_added");  // first key holding a string
  EXPECT_EQ(p.message(), "");
  EXPECT_EQ(p.lead().id(), "u-1");
  EXPECT_EQ(p.lead().email(), "");
  EXPECT_EQ(p.lead().name(), "");
  EXPECT_FALSE(p.has_referrer());
}

TEST(ExtractRefirPayloadTest, UnknownFieldsIgnored) {
  v1::RefirPayload with_extra =
      Extract(R"({"lead": {"id": "a", "shoe_size": 44}, "extra": {"nested": [1, 2]}, "x": null})");
  v1::RefirPayload plain = Extract(R"({"lead": {"id": "a"}})");
  EXPECT_EQ(with_extra.SerializeAsString(), plain.SerializeAsString());
  EXPECT_EQ(with_extra.lead().id(), "a");
}

TEST(ExtractRefirPayloadTest, NoReferrerMeansUnset) {
  EXPECT_FALSE(Extract(R"({"lead": {"id": "a"}})").has_referrer());
  EXPECT_FALSE(Extract(R"({"referrer": {}})").has_referrer());
}

TEST(ExtractRefirPayloadTest, CampaignShapes) {
  v1::RefirPayload obj = Extract(R"({"campaign": {"id": 7, "name": "Spring"}})");
  EXPECT_EQ(obj.campaign().id(), "7");
  EXPECT_EQ(obj.campaign().name(), "Spring");
  EXPECT_EQ(Extract(R"({"campaign": "c-1"})").campaign().id(), "c-1");
  EXPECT_EQ(Extract(R"({"campaign": 9})").campaign().id(), "9");
  // Top-level keys fill what the object lacks.
  v1::RefirPayload mixed = Extract(R"({"campaign": {"name": "N"}, "campaignId": "c-2"})");
  EXPECT_EQ(mixed.campaign().id(), "c-2");
  EXPECT_EQ(mixed.campaign().name(), "N");
  EXPECT_FALSE(Extract(R"({"message": "hi"})").has_campaign());
}

TEST(ExtractRefirPayloadTest, NonObjectGivesEmptyPayload) {
  EXPECT_EQ(ExtractRefirPayload(json::array({1, 2})).ByteSizeLong(), 0u);
  EXPECT_EQ(ExtractRefirPayload(json("lead")).ByteSizeLong(), 0u);
}

v1::RefirPayload WithType(const std::string& type) {
  v1::RefirPayload p;
  p.set_event_type(type);
  return p;
}

TEST(ResolveEventTypeTest, ExplicitNamesAreNormalised) {
  EXPECT_EQ(ResolveEventType(WithType("referral_created")), "refir.referral.created");
  EXPECT_EQ(ResolveEventType(WithType("  Referral-Created  ")), "refir.referral.created");
  EXPECT_EQ(ResolveEventType(WithType("user added")), "refir.user.added");
  EXPECT_EQ(ResolveEventType(WithType("user::added")), "refir.user.added");
  EXPECT_EQ(ResolveEventType(WithType("user/added")), "refir.user.added");
  EXPECT_EQ(ResolveEventType(WithType("__user__added__")), "refir.user.added");
  EXPECT_EQ(ResolveEventType(WithType(".user._added.")), "refir.user.added");
  EXPECT_EQ(ResolveEventType(WithType("userAdded")), "refir.user.added");
  EXPECT_EQ(ResolveEventType(WithType("refir.userAdded")), "refir.user.added");
  EXPECT_EQ(ResolveEventType(WithType("REFIR.User.Added")), "refir.user.added");
  EXPECT_EQ(ResolveEventType(WithType("refir_referral_created")), "refir.referral.created");
  EXPECT_EQ(ResolveEventType(WithType("refirx")), "refir.refirx");
}

TEST(ResolveEventTypeTest, ExplicitNameWinsOverInference) {
  v1::RefirPayload p = WithType("custom");
  p.mutable_referrer()->set_id("r");
  EXPECT_EQ(ResolveEventType(p), "refir.custom");
}

TEST(ResolveEventTypeTest, EmptyAfterNormalisingFallsThroughToInference) {
  v1::RefirPayload p = WithType(" _-:/ ");
  EXPECT_EQ(ResolveEventType(p), "unknown");
  p.mutable_lead()->set_email("a@b");
  EXPECT_EQ(ResolveEventType(p), "refir.user.added");
}

TEST(ResolveEventTypeTest, Inference) {
  v1::RefirPayload p;
  EXPECT_EQ(ResolveEventType(p), "unknown");
  p.mutable_lead()->set_id("l");
  EXPECT_EQ(ResolveEventType(p), "refir.user.added");
  p.mutable_referrer()->set_name("R");
  EXPECT_EQ(ResolveEventType(p), "refir.referral.created");

  v1::RefirPayload referrer_only;
  referrer_only.mutable_referrer()->set_referral_code("C");
  EXPECT_EQ(ResolveEventType(referrer_only), "refir.referral.created");

  v1::RefirPayload empty_referrer;
  empty_referrer.mutable_referrer();  // present but every field empty
  EXPECT_EQ(ResolveEventType(empty_referrer), "unknown");
}

}  // namespace
}  // namespace refir::bridge
