#include "bridge/verify/crypto.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace refir::bridge::verify_internal {
namespace {

std::string HexHmac(HmacAlgorithm algorithm, absl::string_view key, absl::string_view data) {
  absl::StatusOr<std::string> mac = Hmac(algorithm, key, data);
  EXPECT_TRUE(mac.ok()) << mac.status();
  return mac.ok() ? absl::BytesToHexString(*mac) : "";
}

// RFC 4231 section 4.3, test case 2 (also `printf 'what do ya want for
// nothing?' | openssl dgst -sha256 -hmac Jefe`).
TEST(HmacTest, Rfc4231TestCase2) {
  EXPECT_EQ(HexHmac(HmacAlgorithm::kSha256, "Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HexHmac(HmacAlgorithm::kSha512, "Jefe", "what do ya want for nothing?"),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

// RFC 4231 section 4.7, test case 6: a key longer than the block size.
TEST(HmacTest, Rfc4231TestCase6LongKey) {
  const std::string key(131, '\xaa');
  const std::string data = "Test Using Larger Than Block-Size Key - Hash Key First";
  EXPECT_EQ(HexHmac(HmacAlgorithm::kSha256, key, data),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(HexHmac(HmacAlgorithm::kSha512, key, data),
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
            "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598");
}

// The example in GitHub's "Validating webhook deliveries".
TEST(HmacTest, GitHubDocumentationExample) {
  EXPECT_EQ(HexHmac(HmacAlgorithm::kSha256, "It's a Secret to Everybody", "Hello, World!"),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST(HmacTest, EmptyBody) {
  // openssl dgst -sha256 -hmac key </dev/null
  EXPECT_EQ(HexHmac(HmacAlgorithm::kSha256, "key", ""),
            "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0");
}

TEST(HmacTest, Sizes) {
  EXPECT_EQ(HmacSize(HmacAlgorithm::kSha256), 32u);
  EXPECT_EQ(HmacSize(HmacAlgorithm::kSha512), 64u);
}

TEST(Sha256Test, KnownDigest) {
  absl::StatusOr<std::string> digest = Sha256("abc");
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(absl::BytesToHexString(*digest),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(DecodeHexTest, AcceptsEitherCase) {
  EXPECT_EQ(DecodeHex("00ff7FaB"), std::string("\x00\xff\x7f\xab", 4));
  EXPECT_EQ(DecodeHex(""), std::string());
}

TEST(DecodeHexTest, RejectsOddLengthAndNonHex) {
  EXPECT_FALSE(DecodeHex("abc").has_value());
  EXPECT_FALSE(DecodeHex("zz").has_value());
  EXPECT_FALSE(DecodeHex("0x00").has_value());
  EXPECT_FALSE(DecodeHex("ab cd").has_value());
}

TEST(DecodeBase64Test, AcceptsPaddedStandardBase64) {
  EXPECT_EQ(DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(DecodeBase64("aGk="), "hi");
  EXPECT_EQ(DecodeBase64("aGV5"), "hey");
  EXPECT_EQ(DecodeBase64("+/+/"), "\xfb\xff\xbf");
}

TEST(DecodeBase64Test, RejectsAnythingElse) {
  EXPECT_FALSE(DecodeBase64("").has_value());
  EXPECT_FALSE(DecodeBase64("aGVsbG8").has_value());    // missing padding
  EXPECT_FALSE(DecodeBase64("aGVs bG8=").has_value());  // whitespace
  EXPECT_FALSE(DecodeBase64("-_-_").has_value());       // URL-safe alphabet
  EXPECT_FALSE(DecodeBase64("aGVsbG8!").has_value());
  EXPECT_FALSE(DecodeBase64("a===").has_value());
  EXPECT_FALSE(DecodeBase64("aGk=aGk=").has_value());  // padding in the middle
  EXPECT_FALSE(DecodeBase64("aGl=").has_value());      // non-canonical last character
}

}  // namespace
}  // namespace refir::bridge::verify_internal
