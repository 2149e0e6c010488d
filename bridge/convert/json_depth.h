// A linear, non-recursive scan of a JSON text for its deepest nesting of
// arrays and objects, run before the body is parsed so deeply nested input
// is refused cheaply and never reaches a recursive consumer.
#ifndef REFIR_BRIDGE_CONVERT_JSON_DEPTH_H_
#define REFIR_BRIDGE_CONVERT_JSON_DEPTH_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace refir::bridge {

// True when `json` opens more than `max_depth` arrays/objects at once
// ("[[1]]" has depth 2; a scalar has depth 0). Brackets inside strings
// (escapes included) do not count. Stops at the first level beyond
// `max_depth`; does not validate the JSON otherwise.
bool JsonDepthExceeds(absl::string_view json, size_t max_depth);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_CONVERT_JSON_DEPTH_H_
