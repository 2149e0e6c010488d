#include "bridge/sources/ip_allowlist.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using ::testing::HasSubstr;

IpAllowlist Allow(const std::vector<std::string>& cidrs) {
  absl::StatusOr<IpAllowlist> list = IpAllowlist::Parse(cidrs);
  EXPECT_TRUE(list.ok()) << list.status();
  return list.ok() ? *list : IpAllowlist();
}

TEST(IpAllowlistTest, EmptyAllowsEverything) {
  IpAllowlist list;
  EXPECT_TRUE(list.AllowsAllForTesting());
  EXPECT_TRUE(list.Allows("203.0.113.9"));
  EXPECT_TRUE(list.Allows("not an address"));
}

TEST(IpAllowlistTest, MatchesIpv4Prefixes) {
  IpAllowlist list = Allow({"10.0.0.0/8", "192.168.1.0/25", "203.0.113.7"});
  EXPECT_TRUE(list.Allows("10.0.0.0"));
  EXPECT_TRUE(list.Allows("10.255.255.255"));
  EXPECT_FALSE(list.Allows("11.0.0.0"));
  EXPECT_FALSE(list.Allows("9.255.255.255"));
  EXPECT_TRUE(list.Allows("192.168.1.127"));
  EXPECT_FALSE(list.Allows("192.168.1.128"));
  EXPECT_TRUE(list.Allows("203.0.113.7"));
  EXPECT_FALSE(list.Allows("203.0.113.8"));
  EXPECT_FALSE(list.Allows("127.0.0.1"));
  EXPECT_FALSE(list.Allows(""));
  EXPECT_FALSE(list.Allows("10.0.0.1:80"));
}

TEST(IpAllowlistTest, MatchesIpv6AndMappedIpv4) {
  IpAllowlist list = Allow({"2001:db8::/32", "::1", "10.0.0.0/8"});
  EXPECT_TRUE(list.Allows("2001:db8::1"));
  EXPECT_TRUE(list.Allows("2001:db8:ffff:ffff::"));
  EXPECT_FALSE(list.Allows("2001:db9::1"));
  EXPECT_TRUE(list.Allows("::1"));
  EXPECT_FALSE(list.Allows("::2"));
  // IPv4-mapped IPv6 peers (dual-stack listeners) match IPv4 ranges.
  EXPECT_TRUE(list.Allows("::ffff:10.1.2.3"));
  EXPECT_FALSE(list.Allows("::ffff:11.1.2.3"));
  // An IPv4 range never matches a plain IPv6 address and vice versa.
  EXPECT_FALSE(Allow({"0.0.0.0/0"}).Allows("::1"));
  EXPECT_FALSE(Allow({"::/0"}).Allows("127.0.0.1"));
  EXPECT_TRUE(Allow({"0.0.0.0/0"}).Allows("127.0.0.1"));
}

TEST(IpAllowlistTest, OddPrefixLengths) {
  IpAllowlist list = Allow({"172.16.0.0/12", "2001:db8:8000::/33"});
  EXPECT_TRUE(list.Allows("172.31.255.255"));
  EXPECT_FALSE(list.Allows("172.32.0.0"));
  EXPECT_TRUE(list.Allows("2001:db8:8000::1"));
  EXPECT_FALSE(list.Allows("2001:db8:7fff::1"));
}

TEST(ParseCidrTest, RejectsBadInput) {
  EXPECT_THAT(ParseCidr("10.0.0/8").status().message(), HasSubstr("not an IPv4 or IPv6"));
  EXPECT_THAT(ParseCidr("10.0.0.0/33").status().message(),
              HasSubstr("prefix length must be 0 to 32"));
  EXPECT_THAT(ParseCidr("::/129").status().message(), HasSubstr("0 to 128"));
  EXPECT_THAT(ParseCidr("10.0.0.0/x").status().message(), HasSubstr("prefix length"));
  EXPECT_THAT(ParseCidr("10.1.0.0/8").status().message(), HasSubstr("host bits set"));
  EXPECT_THAT(ParseCidr("").status().message(), HasSubstr("not an IPv4"));
  EXPECT_TRUE(ParseCidr("0.0.0.0/0").ok());
}

}  // namespace
}  // namespace refir::bridge
