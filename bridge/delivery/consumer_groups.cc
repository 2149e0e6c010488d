#include "bridge/delivery/consumer_groups.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace refir::bridge {

absl::Status ValidateGroupName(const std::string& name) {
  if (name.empty() || name.size() > 128) {
    return absl::InvalidArgumentError(
        absl::StrCat("consumer group name must be 1 to 128 characters, got ", name.size()));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "consumer group name \"", name, "\" may only contain letters, digits, '.', '_', '-'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace refir::bridge
