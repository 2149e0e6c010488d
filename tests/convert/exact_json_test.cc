#include "bridge/convert/exact_json.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// The text of the number at `pointer` in `text` parsed by ParseJsonExact.
std::string NumberAt(const std::string& text, const std::string& pointer) {
  absl::StatusOr<json> parsed = ParseJsonExact(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return "<error>";
  const json& value = parsed->at(json::json_pointer(pointer));
  EXPECT_TRUE(IsJsonNumber(value)) << text;
  return JsonScalarText(value).value_or("<not a scalar>");
}

TEST(ParseJsonExactTest, NumbersKeepTheirText) {
  for (const char* number : {"0",
                             "-0",
                             "1",
                             "-1",
                             "1.0",
                             "1e0",
                             "1E+0",
                             "1.50",
                             "0.1",
                             "-12.5e-3",
                             "18446744073709551615",
                             "18446744073709551616",
                             "18446744073709551617",
                             "18446744073709551629",
                             "-9223372036854775809",
                             "123456789012345678901234567890",
                             "1e400",
                             "-1e400",
                             "1e-400",
                             "0.30000000000000000000000000001"}) {
    EXPECT_EQ(NumberAt(std::string(R"({"id": )") + number + "}", "/id"), number);
    EXPECT_EQ(NumberAt(std::string("[") + number + "]", "/0"), number);
  }
}

TEST(ParseJsonExactTest, NumbersAreMatchedToTheirPlaceInOrder) {
  const std::string text =
      R"({"a": [1, 2.0, {"b": 3e1, "c": "4, 5 -6"}], "d\"7": -8, "e": [true, null, 9]})";
  EXPECT_EQ(NumberAt(text, "/a/0"), "1");
  EXPECT_EQ(NumberAt(text, "/a/1"), "2.0");
  EXPECT_EQ(NumberAt(text, "/a/2/b"), "3e1");
  EXPECT_EQ(NumberAt(text, "/d\"7"), "-8");
  EXPECT_EQ(NumberAt(text, "/e/2"), "9");
  absl::StatusOr<json> parsed = ParseJsonExact(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->at("a").at(2).at("c"), "4, 5 -6");
  EXPECT_EQ(parsed->at("e").at(0), true);
  EXPECT_TRUE(parsed->at("e").at(1).is_null());
}

TEST(ParseJsonExactTest, ARepeatedKeyKeepsTheLastValue) {
  EXPECT_EQ(NumberAt(R"({"id": 1, "id": 18446744073709551617})", "/id"), "18446744073709551617");
}

TEST(ParseJsonExactTest, ScalarRootsAndTypeNames) {
  absl::StatusOr<json> number = ParseJsonExact(" 42 ");
  ASSERT_TRUE(number.ok());
  EXPECT_TRUE(IsJsonNumber(*number));
  EXPECT_STREQ(JsonTypeName(*number), "number");
  EXPECT_EQ(JsonScalarText(*number), "42");
  absl::StatusOr<json> text = ParseJsonExact(R"("x")");
  ASSERT_TRUE(text.ok());
  EXPECT_STREQ(JsonTypeName(*text), "string");
  EXPECT_EQ(JsonScalarText(*text), "x");
  EXPECT_EQ(JsonScalarText(json(true)), std::nullopt);
  EXPECT_EQ(JsonScalarText(json::array()), std::nullopt);
}

TEST(ParseJsonExactTest, InvalidTextIsRefusedWithTheParsersExplanation) {
  for (const char* text : {"", "{", "{\"a\": 01}", "{\"a\": 1.}", "{\"a\": -}", "{\"a\": 1e}",
                           "{\"a\": 1 2}", "[1,]", "{\"a\": .5}", "{\"a\": +1}", "[1e400 1]",
                           "[--1]", "{\"a\": \"\xff\"}", "[1] x", "[1.5e5x]"}) {
    absl::StatusOr<json> parsed = ParseJsonExact(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(parsed.status().message(), HasSubstr("parse error")) << text;
    EXPECT_THAT(parsed.status().message(), ::testing::Not(HasSubstr("[json.exception")));
  }
}

// nlohmann's lexer ends the input at a NUL byte: without the check,
// `{"x":1}<NUL>[1,2` parsed as {"x":1} and the number scan disagreed (500).
TEST(ParseJsonExactTest, ANulByteAnywhereIsInvalid) {
  using std::string_literals::operator""s;
  for (const std::string& text : {"{\"x\":1}\0[1,2"s, "\0"s, "{\"a\":\"b\0c\"}"s, "[1]\0"s}) {
    absl::StatusOr<json> parsed = ParseJsonExact(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr("NUL byte at offset"));
  }
}

TEST(ParseJsonExactTest, ErrorPositionsAreThoseOfTheOriginalText) {
  // The doubles are replaced internally by "0" padded to the same length.
  absl::StatusOr<json> parsed = ParseJsonExact("[1.25e10, 3.5, x]");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("column 16"));
}

TEST(ParseJsonExactTest, DeepNestingDoesNotRecurse) {
  const std::string deep = std::string(100000, '[') + "1" + std::string(100000, ']');
  absl::StatusOr<json> parsed = ParseJsonExact(deep);
  ASSERT_TRUE(parsed.ok());
}

}  // namespace
}  // namespace refir::bridge
