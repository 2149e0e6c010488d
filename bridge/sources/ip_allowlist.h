// IpAllowlist: a set of CIDR ranges (IPv4 and IPv6) a client IP is checked
// against. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 ranges.
#ifndef REFIR_BRIDGE_SOURCES_IP_ALLOWLIST_H_
#define REFIR_BRIDGE_SOURCES_IP_ALLOWLIST_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refir::bridge {

// One address range. IPv4 is kept as 4 bytes, IPv6 as 16.
struct CidrRange {
  bool ipv6 = false;
  std::array<uint8_t, 16> bytes{};
  int prefix_length = 0;
};

// "10.0.0.0/8", "2001:db8::/32", or a single address ("192.0.2.7" is /32,
// "::1" is /128). INVALID_ARGUMENT naming the problem otherwise. Host bits
// set beyond the prefix ("10.1.0.0/8") are refused: they are usually a typo.
absl::StatusOr<CidrRange> ParseCidr(absl::string_view text);

class IpAllowlist {
 public:
  // Empty: allows every address.
  IpAllowlist() = default;
  static absl::StatusOr<IpAllowlist> Parse(const std::vector<std::string>& cidrs);

  // True for the empty list (tests only).
  bool AllowsAllForTesting() const { return ranges_.empty(); }
  // True when `ip` (textual, no port, no brackets) is inside a range. An
  // address that does not parse is never allowed by a non-empty list.
  bool Allows(absl::string_view ip) const;

 private:
  std::vector<CidrRange> ranges_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_SOURCES_IP_ALLOWLIST_H_
