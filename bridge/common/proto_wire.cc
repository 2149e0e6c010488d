#include "bridge/common/proto_wire.h"

#include <limits>

namespace refir::bridge::wire {

namespace {

// Walks the top-level fields of `bytes`, calling on_length_delimited(field,
// payload) for each length-delimited one. False when `bytes` is malformed.
template <typename OnLengthDelimited>
bool WalkFields(absl::string_view bytes, OnLengthDelimited on_length_delimited) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return false;
  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                                               static_cast<int>(bytes.size()));
  const int end = static_cast<int>(bytes.size());
  while (input.CurrentPosition() < end) {
    const uint32_t tag = input.ReadTag();
    if ((tag >> 3) == 0) return false;  // malformed, or field number 0
    switch (tag & 7) {
      case 0: {
        uint64_t value;
        if (!input.ReadVarint64(&value)) return false;
        break;
      }
      case 1: {
        uint64_t value;
        if (!input.ReadLittleEndian64(&value)) return false;
        break;
      }
      case 2: {
        uint32_t length;
        if (!input.ReadVarint32(&length) ||
            length > static_cast<uint32_t>(std::numeric_limits<int>::max())) {
          return false;
        }
        const int start = input.CurrentPosition();
        if (!input.Skip(static_cast<int>(length))) return false;
        on_length_delimited(static_cast<int>(tag >> 3),
                            bytes.substr(static_cast<size_t>(start), length));
        break;
      }
      case 5: {
        uint32_t value;
        if (!input.ReadLittleEndian32(&value)) return false;
        break;
      }
      default:  // groups (3, 4) are not used by these messages; 6, 7 are invalid
        return false;
    }
  }
  return input.CurrentPosition() == end;
}

}  // namespace

bool IsWellFormedMessage(absl::string_view bytes) {
  return WalkFields(bytes, [](int, absl::string_view) {});
}

absl::string_view FindLengthDelimitedField(absl::string_view bytes, int field) {
  absl::string_view found;
  const bool ok = WalkFields(bytes, [&](int number, absl::string_view payload) {
    if (number == field) found = payload;
  });
  return ok ? found : absl::string_view();
}

}  // namespace refir::bridge::wire
