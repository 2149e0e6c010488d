// Fuzzes the --sources_file parser: never crashes, fails only with
// INVALID_ARGUMENT, and what it accepts has unique names and paths starting
// with "/".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "bridge/sources/source_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Secrets resolve to a fixed value: no file or environment access.
  auto sources = refir::bridge::ParseSourcesJson(
      text, refir::bridge::SourceConfig(),
      [](const refir::bridge::SecretSource&) -> absl::StatusOr<std::string> {
        return std::string("secret");
      });
  if (!sources.ok()) {
    if (sources.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  std::set<std::string> names;
  std::set<std::string> paths;
  for (const auto& source : *sources) {
    if (source.path.empty() || source.path[0] != '/') std::abort();
    if (!names.insert(source.name).second || !paths.insert(source.path).second) std::abort();
    if (source.limits.max_body_bytes < 1 || source.limits.max_json_depth < 1) std::abort();
  }
  return 0;
}
