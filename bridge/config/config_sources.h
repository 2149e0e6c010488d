// Where settings come from besides the command line: a config file and
// REFIR_BRIDGE_* environment variables. Every flag defined under bridge/ can
// be set in all three places; the order of precedence, lowest first, is
//   default < config file < environment variable < command line.
// The config file is named by --config=<path> on the command line or by
// REFIR_BRIDGE_CONFIG; each non-empty line is `name = value` (or
// `--name=value`), `#` starts a comment line.
#ifndef REFIR_BRIDGE_CONFIG_CONFIG_SOURCES_H_
#define REFIR_BRIDGE_CONFIG_CONFIG_SOURCES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refir::bridge {

// The environment variable for flag `name`: REFIR_BRIDGE_ + upper-cased name.
std::string EnvironmentVariableFor(absl::string_view flag_name);

// The value of --config / --config=<path> in argv, or "" when absent.
std::string ConfigPathFromArgs(int argc, char** argv);

// Parses a config file's text into (name, value) pairs. INVALID_ARGUMENT
// naming `origin` and the line on a malformed line.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseConfigText(
    absl::string_view text, absl::string_view origin);

// Applies the config file (if one is named in argv or REFIR_BRIDGE_CONFIG)
// and then every REFIR_BRIDGE_* variable in `environment` (as `environ`
// lays it out) to the bridge's flags. Call before absl::ParseCommandLine,
// which then applies the command line on top. Errors name the file and line
// or the variable: an unknown setting in the file, a value the flag cannot
// parse, an unreadable file. An unknown REFIR_BRIDGE_* variable is logged and
// ignored (Kubernetes defines REFIR_BRIDGE_SERVICE_HOST and the like for a
// Service of that name).
absl::Status ApplyConfigFileAndEnvironment(int argc, char** argv, char** environment);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_CONFIG_CONFIG_SOURCES_H_
