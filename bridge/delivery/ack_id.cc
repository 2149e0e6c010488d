#include "bridge/delivery/ack_id.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace refir::bridge {

std::string AckId::Encode() const {
  std::string out;
  AppendTo(&out);
  return out;
}

void AckId::AppendTo(std::string* out) const {
  absl::StrAppend(out, absl::Hex(epoch, absl::kZeroPad8), "-", sequence, "-", delivery);
}

std::optional<AckId> AckId::Decode(absl::string_view text) {
  if (text.size() > 64) return std::nullopt;
  std::vector<absl::string_view> parts = absl::StrSplit(text, '-');
  if (parts.size() != 3 || parts[0].size() != 8) return std::nullopt;
  AckId id;
  if (!absl::SimpleHexAtoi(parts[0], &id.epoch)) return std::nullopt;
  if (!absl::SimpleAtoi(parts[1], &id.sequence) || id.sequence == 0) return std::nullopt;
  if (!absl::SimpleAtoi(parts[2], &id.delivery) || id.delivery < 1) return std::nullopt;
  return id;
}

}  // namespace refir::bridge
