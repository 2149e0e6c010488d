#include "bridge/convert/json_depth.h"

#include "bridge/convert/json_string_tracker.h"

namespace refir::bridge {

bool JsonDepthExceeds(absl::string_view json, size_t max_depth) {
  size_t depth = 0;
  JsonStringTracker strings;
  for (char c : json) {
    if (strings.InString(c)) continue;
    switch (c) {
      case '[':
      case '{':
        if (++depth > max_depth) return true;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return false;
}

}  // namespace refir::bridge
