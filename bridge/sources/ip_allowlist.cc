#include "bridge/sources/ip_allowlist.h"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace refir::bridge {
namespace {

// Parses a textual address; IPv4-mapped IPv6 becomes IPv4.
std::optional<CidrRange> ParseAddress(absl::string_view text) {
  const std::string s(text);
  CidrRange out;
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    std::memcpy(out.bytes.data(), &v4, 4);
    out.prefix_length = 32;
    return out;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(&v6, kMappedPrefix, sizeof(kMappedPrefix)) == 0) {
    std::memcpy(out.bytes.data(), reinterpret_cast<const uint8_t*>(&v6) + 12, 4);
    out.prefix_length = 32;
    return out;
  }
  out.ipv6 = true;
  std::memcpy(out.bytes.data(), &v6, 16);
  out.prefix_length = 128;
  return out;
}

// True when the first `bits` bits of `a` and `b` are equal.
bool PrefixEquals(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  int i = 0;
  for (; bits >= 8; bits -= 8, ++i) {
    if (a[i] != b[i]) return false;
  }
  if (bits == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - bits));
  return (a[i] & mask) == (b[i] & mask);
}

}  // namespace

absl::StatusOr<CidrRange> ParseCidr(absl::string_view text) {
  const size_t slash = text.find('/');
  const absl::string_view address = text.substr(0, slash);
  std::optional<CidrRange> range = ParseAddress(address);
  if (!range.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not an IPv4 or IPv6 address or CIDR"));
  }
  if (slash == absl::string_view::npos) return *range;
  const int max_prefix = range->ipv6 ? 128 : 32;
  int prefix = 0;
  if (!absl::SimpleAtoi(text.substr(slash + 1), &prefix) || prefix < 0 || prefix > max_prefix) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\": the prefix length must be 0 to ", max_prefix));
  }
  CidrRange network = *range;
  network.prefix_length = prefix;
  // Host bits must be zero: compare against the address masked to `prefix`.
  std::array<uint8_t, 16> masked{};
  for (int bit = 0; bit < prefix; ++bit) {
    const int byte = bit / 8;
    const auto flag = static_cast<uint8_t>(0x80 >> (bit % 8));
    masked[byte] |= static_cast<uint8_t>(range->bytes[byte] & flag);
  }
  if (masked != range->bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" has host bits set beyond the /", prefix, " prefix"));
  }
  return network;
}

absl::StatusOr<IpAllowlist> IpAllowlist::Parse(const std::vector<std::string>& cidrs) {
  IpAllowlist list;
  for (const std::string& text : cidrs) {
    absl::StatusOr<CidrRange> range = ParseCidr(text);
    if (!range.ok()) return range.status();
    list.ranges_.push_back(*range);
  }
  return list;
}

bool IpAllowlist::Allows(absl::string_view ip) const {
  if (ranges_.empty()) return true;
  std::optional<CidrRange> address = ParseAddress(ip);
  if (!address.has_value()) return false;
  for (const CidrRange& range : ranges_) {
    if (range.ipv6 != address->ipv6) continue;
    if (PrefixEquals(range.bytes, address->bytes, range.prefix_length)) return true;
  }
  return false;
}

}  // namespace refir::bridge
