#include "bridge/common/uuid7.h"

#include <array>
#include <cstdint>

#include "absl/random/random.h"

namespace refir::bridge {

std::string NewUuidV7(absl::Time now) {
  thread_local absl::BitGen bitgen;
  std::array<uint8_t, 16> bytes;
  const int64_t millis = absl::ToUnixMillis(now);
  const uint64_t ms = millis < 0 ? 0 : static_cast<uint64_t>(millis);
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  const uint64_t random_hi = absl::Uniform<uint64_t>(bitgen);
  const uint64_t random_lo = absl::Uniform<uint64_t>(bitgen);
  for (int i = 6; i < 8; ++i) bytes[i] = static_cast<uint8_t>(random_hi >> (8 * (i - 6)));
  for (int i = 8; i < 16; ++i) bytes[i] = static_cast<uint8_t>(random_lo >> (8 * (i - 8)));
  bytes[6] = static_cast<uint8_t>(0x70 | (bytes[6] & 0x0f));  // version 7
  bytes[8] = static_cast<uint8_t>(0x80 | (bytes[8] & 0x3f));  // variant 10

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0x0f]);
  }
  return out;
}

}  // namespace refir::bridge
