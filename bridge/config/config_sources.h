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

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace refir::bridge {

// The environment variable for flag `name`: REFIR_BRIDGE_ + upper-cased name.
std::string EnvironmentVariableFor(absl::string_view flag_name);

// The value of --config / --config=<path> in argv, or "" when absent.
std::string ConfigPathFromArgs(int argc, char** argv);

// One `name = value` line of a config file.
struct ConfigSetting {
  std::string name;
  std::string value;
  // "<file>:<line>", the prefix of every error about this setting.
  std::string origin;
};

// Parses a config file's text into its settings. INVALID_ARGUMENT naming
// `origin` and the line on a malformed line.
absl::StatusOr<std::vector<ConfigSetting>> ParseConfigText(absl::string_view text,
                                                           absl::string_view origin);

// The config file lines behind the flags' final values: for each flag the
// file set and neither the environment nor the command line overrode, its
// "<file>:<line>". A value's check after parsing (BridgeOptions::Validate)
// names the flag; Attribute() then names the line as well.
class ConfigOrigins {
 public:
  void Set(const std::string& flag, std::string origin) { origins_[flag] = std::move(origin); }
  void Erase(const std::string& flag) { origins_.erase(flag); }
  // `status` with "<file>:<line>: " before its message when the first flag
  // the message names (`--name`) was set by the file; otherwise `status`.
  absl::Status Attribute(const absl::Status& status) const;

 private:
  absl::flat_hash_map<std::string, std::string> origins_;
};

// INVALID_ARGUMENT, naming the argument, when argv (before "--") holds a flag
// no library defines or a value one of the bridge's flags cannot parse; so
// these are reported in the bridge's log format (abseil's parser prints
// plain text and exits 1). Sets the flags whose values it checks;
// absl::ParseCommandLine sets them again. With --undefok, unknown flags are
// left to abseil's parser.
absl::Status CheckCommandLineFlags(int argc, char** argv);

// Applies the config file (if one is named in argv or REFIR_BRIDGE_CONFIG)
// and then every REFIR_BRIDGE_* variable in `environment` (as `environ`
// lays it out) to the bridge's flags. Call before absl::ParseCommandLine,
// which then applies the command line on top. Errors name the file and line
// or the variable: an unknown setting in the file, a value the flag cannot
// parse, an unreadable file. An unknown REFIR_BRIDGE_* variable is logged and
// ignored (Kubernetes defines REFIR_BRIDGE_SERVICE_HOST and the like for a
// Service of that name). Returns where the file's surviving settings came
// from.
absl::StatusOr<ConfigOrigins> ApplyConfigFileAndEnvironment(int argc, char** argv,
                                                            char** environment);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_CONFIG_CONFIG_SOURCES_H_
