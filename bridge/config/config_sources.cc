#include "bridge/config/config_sources.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bridge/common/log.h"
#include "bridge/common/read_small_file.h"

// Defined here rather than in main.cc: reading the file is this file's job.
ABSL_FLAG(std::string, config, "",
          "Config file of `name = value` lines (see docs/configuration.md); also "
          "REFIR_BRIDGE_CONFIG");

namespace refir::bridge {
namespace {

constexpr absl::string_view kEnvironmentPrefix = "REFIR_BRIDGE_";
constexpr absl::string_view kConfigFlag = "config";

// The bridge's own flags (those defined in files under bridge/), by name.
// abseil's and other libraries' flags are left to the command line.
absl::flat_hash_map<std::string, absl::CommandLineFlag*> BridgeFlags() {
  absl::flat_hash_map<std::string, absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::StrContains(flag->Filename(), "bridge/")) flags.emplace(std::string(name), flag);
  }
  return flags;
}

absl::Status SetFlag(const absl::flat_hash_map<std::string, absl::CommandLineFlag*>& flags,
                     absl::string_view name, absl::string_view value, absl::string_view origin) {
  auto it = flags.find(name);
  if (it == flags.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": \"", name, "\" is not a setting of refir-bridge (see --help)"));
  }
  std::string error;
  if (!it->second->ParseFrom(value, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": bad value \"", value, "\" for ", name, ": ", error));
  }
  return absl::OkStatus();
}

// The flag names in argv (before "--"), as typed: `--name=value`, `--name`,
// `-name`, and `--noname` for booleans (as "noname").
struct ArgFlag {
  std::string name;
  bool has_value = false;
  std::string value;
};
std::vector<ArgFlag> FlagsInArgs(int argc, char** argv) {
  std::vector<ArgFlag> found;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) continue;
    ArgFlag flag;
    const size_t equals = arg.find('=');
    flag.name = std::string(arg.substr(0, equals));
    if (equals != absl::string_view::npos) {
      flag.has_value = true;
      flag.value = std::string(arg.substr(equals + 1));
    } else if (const absl::CommandLineFlag* defined = absl::FindCommandLineFlag(flag.name);
               defined != nullptr && !defined->IsOfType<bool>() && i + 1 < argc) {
      // `--name value`, as abseil's parser reads it.
      flag.has_value = true;
      flag.value = argv[++i];
    }
    found.push_back(std::move(flag));
  }
  return found;
}

// abseil's parser handles these itself; they are not registered flags.
bool IsUsageFlag(absl::string_view name) {
  constexpr absl::string_view kUsageFlags[] = {"help",        "helpfull",       "helpshort",
                                               "helppackage", "helpon",         "helpmatch",
                                               "version",     "only_check_args"};
  return std::find(std::begin(kUsageFlags), std::end(kUsageFlags), name) != std::end(kUsageFlags);
}

// A config file is a page of settings; anything larger is a mistake.
constexpr size_t kMaxConfigFileBytes = 1 << 20;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path, kMaxConfigFileBytes);
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("cannot read config file \"", path,
                                                           "\": ", text.status().message()));
  }
  return text;
}

}  // namespace

std::string EnvironmentVariableFor(absl::string_view flag_name) {
  return absl::StrCat(kEnvironmentPrefix, absl::AsciiStrToUpper(flag_name));
}

std::string ConfigPathFromArgs(int argc, char** argv) {
  std::string path;
  for (const ArgFlag& arg : FlagsInArgs(argc, argv)) {
    if (arg.name == kConfigFlag && arg.has_value) path = arg.value;
  }
  return path;
}

absl::StatusOr<std::vector<ConfigSetting>> ParseConfigText(absl::string_view text,
                                                           absl::string_view origin) {
  std::vector<ConfigSetting> settings;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    absl::ConsumePrefix(&line, "--");
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ":", line_number, ": expected `name = value`, got \"", line, "\""));
    }
    absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, equals));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(equals + 1));
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ":", line_number, ": missing setting name before '='"));
    }
    // A value may be quoted to keep leading or trailing spaces.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    settings.push_back(ConfigSetting{std::string(name), std::string(value),
                                     absl::StrCat(origin, ":", line_number)});
  }
  return settings;
}

absl::Status ConfigOrigins::Attribute(const absl::Status& status) const {
  const absl::string_view message = status.message();
  const size_t dashes = message.find("--");
  if (dashes == absl::string_view::npos) return status;
  size_t end = dashes + 2;
  while (end < message.size() && (absl::ascii_isalnum(message[end]) || message[end] == '_')) {
    ++end;
  }
  auto it = origins_.find(message.substr(dashes + 2, end - dashes - 2));
  if (it == origins_.end()) return status;
  return absl::Status(status.code(), absl::StrCat(it->second, ": ", message));
}

absl::Status CheckCommandLineFlags(int argc, char** argv) {
  const absl::flat_hash_map<std::string, absl::CommandLineFlag*> bridge_flags = BridgeFlags();
  const std::vector<ArgFlag> args = FlagsInArgs(argc, argv);
  const bool undefined_ok = std::any_of(args.begin(), args.end(),
                                        [](const ArgFlag& arg) { return arg.name == "undefok"; });
  for (const ArgFlag& arg : args) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(arg.name);
    if (flag == nullptr && absl::StartsWith(arg.name, "no") && !arg.has_value) {
      flag = absl::FindCommandLineFlag(absl::string_view(arg.name).substr(2));
      if (flag != nullptr && !flag->IsOfType<bool>()) flag = nullptr;
    }
    if (flag == nullptr) {
      if (undefined_ok || IsUsageFlag(arg.name)) continue;
      return absl::InvalidArgumentError(
          absl::StrCat("--", arg.name, " is not a flag of refir-bridge (see --help)"));
    }
    if (!arg.has_value || !bridge_flags.contains(arg.name)) continue;
    if (absl::Status set = SetFlag(bridge_flags, arg.name, arg.value, absl::StrCat("--", arg.name));
        !set.ok()) {
      return set;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ConfigOrigins> ApplyConfigFileAndEnvironment(int argc, char** argv,
                                                            char** environment) {
  ConfigOrigins origins;
  const absl::flat_hash_map<std::string, absl::CommandLineFlag*> flags = BridgeFlags();

  std::string config_path = ConfigPathFromArgs(argc, argv);
  std::vector<std::pair<std::string, std::string>> environment_settings;
  for (char** entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    absl::string_view variable = *entry;
    if (!absl::ConsumePrefix(&variable, kEnvironmentPrefix)) continue;
    const size_t equals = variable.find('=');
    if (equals == absl::string_view::npos) continue;
    environment_settings.emplace_back(absl::AsciiStrToLower(variable.substr(0, equals)),
                                      std::string(variable.substr(equals + 1)));
    if (environment_settings.back().first == kConfigFlag && config_path.empty()) {
      config_path = environment_settings.back().second;
    }
  }

  if (!config_path.empty()) {
    absl::StatusOr<std::string> text = ReadFile(config_path);
    if (!text.ok()) return text.status();
    absl::StatusOr<std::vector<ConfigSetting>> settings = ParseConfigText(*text, config_path);
    if (!settings.ok()) return settings.status();
    for (const ConfigSetting& setting : *settings) {
      if (setting.name == kConfigFlag) {
        return absl::InvalidArgumentError(
            absl::StrCat(setting.origin, ": a config file cannot name another config file"));
      }
      if (absl::Status set = SetFlag(flags, setting.name, setting.value, setting.origin);
          !set.ok()) {
        return set;
      }
      origins.Set(setting.name, setting.origin);
    }
  }
  for (const auto& [name, value] : environment_settings) {
    if (!flags.contains(name)) {
      // Not fatal: Kubernetes injects REFIR_BRIDGE_SERVICE_HOST and friends
      // for a Service named refir-bridge.
      LogWarning(absl::StrCat("ignoring ", EnvironmentVariableFor(name),
                              ": not a setting of refir-bridge"));
      continue;
    }
    if (absl::Status set = SetFlag(flags, name, value, EnvironmentVariableFor(name)); !set.ok()) {
      return set;
    }
    origins.Erase(name);
  }
  // The command line comes last (absl::ParseCommandLine): what it sets is
  // not the file's.
  for (const ArgFlag& arg : FlagsInArgs(argc, argv)) {
    origins.Erase(arg.name);
    if (absl::StartsWith(arg.name, "no")) origins.Erase(arg.name.substr(2));
  }
  return origins;
}

}  // namespace refir::bridge
