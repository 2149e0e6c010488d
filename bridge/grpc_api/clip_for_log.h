// ClipForLog: a client-supplied string shortened for a log line, so that no
// client can put more than a few dozen bytes of its own text in one.
#ifndef REFIR_BRIDGE_GRPC_API_CLIP_FOR_LOG_H_
#define REFIR_BRIDGE_GRPC_API_CLIP_FOR_LOG_H_

#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace refir::bridge {

// Longest client-supplied string written to a log line as is.
inline constexpr size_t kMaxLoggedClientBytes = 64;

// `text` when at most `max` bytes; else its first `max` bytes followed by
// "...(N bytes)" with N its full length.
inline std::string ClipForLog(absl::string_view text, size_t max = kMaxLoggedClientBytes) {
  if (text.size() <= max) return std::string(text);
  return absl::StrCat(text.substr(0, max), "...(", text.size(), " bytes)");
}

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_CLIP_FOR_LOG_H_
