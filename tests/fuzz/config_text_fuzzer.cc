// Fuzzes the config file parser: never crashes, and every setting it returns
// has a non-empty name without '=' and no surrounding whitespace.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "bridge/config/config_sources.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto settings = refir::bridge::ParseConfigText(text, "fuzz.conf");
  if (!settings.ok()) {
    if (settings.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  for (const auto& [name, value] : *settings) {
    if (name.empty() || name.find('=') != std::string::npos) std::abort();
    if (absl::StripAsciiWhitespace(name) != name) std::abort();
  }
  return 0;
}
