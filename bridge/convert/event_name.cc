#include "bridge/convert/event_name.h"

#include <cstddef>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace refir::bridge {
namespace {

bool IsSeparator(char c) {
  return absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == ':' ||
         c == '/' || c == '.';
}

bool IsUpper(char c) { return absl::ascii_isupper(static_cast<unsigned char>(c)); }
bool IsLower(char c) { return absl::ascii_islower(static_cast<unsigned char>(c)); }
bool IsDigit(char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }

// True when a new word starts at name[i] (a non-separator that follows a
// non-separator).
bool StartsWord(absl::string_view name, size_t i) {
  const char c = name[i];
  if (!IsUpper(c)) return false;
  const char before = name[i - 1];
  if (IsLower(before) || IsDigit(before)) return true;  // userAdded, step2Done
  // The last capital of an acronym that a lower-case word follows:
  // HTTPRequest -> HTTP, Request.
  return IsUpper(before) && i + 1 < name.size() && IsLower(name[i + 1]);
}

}  // namespace

std::string NormaliseEventName(absl::string_view name) {
  std::string out;
  out.reserve(name.size() + 8);
  bool pending_dot = false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (IsSeparator(c)) {
      pending_dot = !out.empty();
      continue;
    }
    if (i > 0 && !IsSeparator(name[i - 1]) && StartsWord(name, i)) pending_dot = true;
    if (pending_dot) out.push_back('.');
    pending_dot = false;
    out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  if (out.empty()) return "";
  if (absl::StartsWith(out, "refir.")) return out;
  return absl::StrCat("refir.", out);
}

}  // namespace refir::bridge
