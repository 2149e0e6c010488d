// The rule that turns an event name as a sender spelled it ("userAdded",
// "USER_ADDED", "user-added", ...) into one Event.type
// ("refir.user.added"). Documented in docs/event-types.md.
#ifndef REFIR_BRIDGE_CONVERT_EVENT_NAME_H_
#define REFIR_BRIDGE_CONVERT_EVENT_NAME_H_

#include <string>

#include "absl/strings/string_view.h"

namespace refir::bridge {

// Splits `name` into words at separators (ASCII whitespace, '_', '-', ':',
// '/', '.') and at case boundaries (before an upper-case letter that follows
// a lower-case letter or a digit: "userAdded"; before the last upper-case
// letter of a run that a lower-case letter follows: "HTTPRequest" ->
// "HTTP", "Request"), lower-cases ASCII, joins the words with '.' and
// prefixes "refir." unless the result already starts with "refir.".
// Digits stay in their word ("step2Done" -> "refir.step2.done"). "" when
// `name` has no word.
std::string NormaliseEventName(absl::string_view name);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_CONVERT_EVENT_NAME_H_
