#include "bridge/delivery/ack_id.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

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
  // Split at the two dashes without allocating (settles carry thousands).
  const size_t first = text.find('-');
  if (first != 8) return std::nullopt;
  const size_t second = text.find('-', first + 1);
  if (second == absl::string_view::npos) return std::nullopt;
  const absl::string_view epoch = text.substr(0, first);
  const absl::string_view sequence = text.substr(first + 1, second - first - 1);
  const absl::string_view delivery = text.substr(second + 1);
  if (delivery.find('-') != absl::string_view::npos) return std::nullopt;
  AckId id;
  if (!absl::SimpleHexAtoi(epoch, &id.epoch)) return std::nullopt;
  if (!absl::SimpleAtoi(sequence, &id.sequence) || id.sequence == 0) return std::nullopt;
  if (!absl::SimpleAtoi(delivery, &id.delivery) || id.delivery < 1) return std::nullopt;
  return id;
}

}  // namespace refir::bridge
