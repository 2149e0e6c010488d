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
  for (const refir::bridge::ConfigSetting& setting : *settings) {
    if (setting.name.empty() || setting.name.find('=') != std::string::npos) std::abort();
    if (absl::StripAsciiWhitespace(setting.name) != setting.name) std::abort();
    if (setting.origin.rfind("fuzz.conf:", 0) != 0) std::abort();
  }
  return 0;
}
