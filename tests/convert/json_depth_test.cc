#include "bridge/convert/json_depth.h"

#include <string>

#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

TEST(JsonDepthTest, CountsNestedArraysAndObjects) {
  EXPECT_FALSE(JsonDepthExceeds("1", 0));
  EXPECT_TRUE(JsonDepthExceeds("{}", 0));
  EXPECT_FALSE(JsonDepthExceeds("{}", 1));
  EXPECT_FALSE(JsonDepthExceeds(R"({"a":[{"b":1}]})", 3));
  EXPECT_TRUE(JsonDepthExceeds(R"({"a":[{"b":1}]})", 2));
  // Siblings do not add up.
  EXPECT_FALSE(JsonDepthExceeds(R"({"a":[1],"b":[2],"c":{"d":3}})", 2));
}

TEST(JsonDepthTest, IgnoresBracketsInStrings) {
  EXPECT_FALSE(JsonDepthExceeds(R"({"a":"[[[[{{{{"})", 1));
  EXPECT_FALSE(JsonDepthExceeds(R"({"a":"\"[[[[\\"})", 1));
  // An escaped backslash ends before the quote: the string closes there.
  EXPECT_TRUE(JsonDepthExceeds(R"({"a":"\\",  "b":[[1]]})", 2));
}

TEST(JsonDepthTest, DeepInputIsScannedWithoutRecursion) {
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  EXPECT_TRUE(JsonDepthExceeds(deep, 64));
  EXPECT_FALSE(JsonDepthExceeds(deep, 1000000));
}

}  // namespace
}  // namespace refir::bridge
