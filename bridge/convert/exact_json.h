// JSON parsing that keeps the text of every number exactly as it was sent,
// so that whatever the bridge derives from a number (dedup keys, typed ids)
// is the sender's digits, never a double's rounding of them.
#ifndef REFIR_BRIDGE_CONVERT_EXACT_JSON_H_
#define REFIR_BRIDGE_CONVERT_EXACT_JSON_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {

// Subtype of the binary nodes that stand for numbers in a ParseJsonExact
// DOM. JSON text never yields binary values, so such a node is always one.
inline constexpr std::uint64_t kJsonNumberTextSubtype = 0x4e;  // 'N'

// Parses `text` as strictly as nlohmann::json::parse (RFC 8259; UTF-8 is
// checked inside strings; non-recursive; a later repeat of a key replaces
// the earlier value), except that every number becomes a binary node of
// subtype kJsonNumberTextSubtype holding the number token's bytes as sent
// ("18446744073709551617", "1.0", "1e0", "-0"). Numbers of any size and
// precision are accepted, including those beyond a double's range that
// nlohmann refuses. Read the nodes with IsJsonNumber / JsonScalarText.
// INVALID_ARGUMENT carrying the parser's explanation when `text` is not
// JSON (an empty text, or one holding a NUL byte, included).
absl::StatusOr<nlohmann::json> ParseJsonExact(absl::string_view text);

// True for a number: a ParseJsonExact number node or a plain nlohmann one.
bool IsJsonNumber(const nlohmann::json& value);

// The text of a scalar: a string as it is (unescaped), a ParseJsonExact
// number as sent, a plain nlohmann integer in exact decimal and a plain
// float as nlohmann prints it. nullopt for booleans, null, arrays, objects.
std::optional<std::string> JsonScalarText(const nlohmann::json& value);

// nlohmann's type name ("object", "array", "string", ...), with "number"
// for ParseJsonExact's number nodes.
const char* JsonTypeName(const nlohmann::json& value);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_CONVERT_EXACT_JSON_H_
