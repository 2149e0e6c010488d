// Protobuf wire-format helpers for the places that write messages around
// bytes that are already serialized (the delivery path sends stored events
// without parsing them): field tags and varints, and a cheap check that a
// byte string is a well-formed sequence of fields.
#ifndef REFIR_BRIDGE_COMMON_PROTO_WIRE_H_
#define REFIR_BRIDGE_COMMON_PROTO_WIRE_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "google/protobuf/io/coded_stream.h"

namespace refir::bridge::wire {

// Bytes of a varint.
inline size_t VarintSize(uint64_t value) {
  return google::protobuf::io::CodedOutputStream::VarintSize64(value);
}

// Bytes of a length-delimited field (tag < 16, so one tag byte) whose
// payload is `size` bytes long.
inline size_t LengthDelimitedSize(size_t size) { return 1 + VarintSize(size) + size; }

// Bytes of a varint field (tag < 16). int32 fields are sign-extended to 64
// bits, as protobuf does.
inline size_t VarintFieldSize(uint64_t value) { return 1 + VarintSize(value); }

// Writes a varint at `out`; returns the end.
inline uint8_t* WriteVarint(uint64_t value, uint8_t* out) {
  return google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(value, out);
}

// Writes the tag and length of a length-delimited field (number < 16).
inline uint8_t* WriteLengthDelimitedHeader(int field, size_t size, uint8_t* out) {
  *out++ = static_cast<uint8_t>((field << 3) | 2);
  return WriteVarint(size, out);
}

// Writes a varint field (number < 16).
inline uint8_t* WriteVarintField(int field, uint64_t value, uint8_t* out) {
  *out++ = static_cast<uint8_t>(field << 3);
  return WriteVarint(value, out);
}

// True when `bytes` is a sequence of well-formed top-level fields (valid
// tags, varints and lengths that end exactly at the end; no groups). Nested
// messages and UTF-8 are not checked: this catches truncated or corrupted
// records without the cost of parsing them.
bool IsWellFormedMessage(absl::string_view bytes);

// The payload of top-level length-delimited field `field` of the serialized
// message `bytes` (the last occurrence, as a parser would keep it), or ""
// when it is absent or `bytes` is malformed. A view into `bytes`. Lets the
// delivery path read one string of a stored event without parsing it.
absl::string_view FindLengthDelimitedField(absl::string_view bytes, int field);

}  // namespace refir::bridge::wire

#endif  // REFIR_BRIDGE_COMMON_PROTO_WIRE_H_
