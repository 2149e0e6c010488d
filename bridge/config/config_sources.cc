#include "bridge/config/config_sources.h"

#include "absl/container/flat_hash_map.h"
#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bridge/common/log.h"
#include "bridge/common/read_small_file.h"

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
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) continue;
    if (!absl::ConsumePrefix(&arg, kConfigFlag)) continue;
    if (absl::ConsumePrefix(&arg, "=")) {
      path = std::string(arg);
    } else if (arg.empty() && i + 1 < argc) {
      path = argv[++i];
    }
  }
  return path;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseConfigText(
    absl::string_view text, absl::string_view origin) {
  std::vector<std::pair<std::string, std::string>> settings;
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
    settings.emplace_back(std::string(name), std::string(value));
  }
  return settings;
}

absl::Status ApplyConfigFileAndEnvironment(int argc, char** argv, char** environment) {
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
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> settings =
        ParseConfigText(*text, config_path);
    if (!settings.ok()) return settings.status();
    for (const auto& [name, value] : *settings) {
      if (name == kConfigFlag) {
        return absl::InvalidArgumentError(
            absl::StrCat(config_path, ": a config file cannot name another config file"));
      }
      if (absl::Status set = SetFlag(flags, name, value, config_path); !set.ok()) return set;
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
  }
  return absl::OkStatus();
}

}  // namespace refir::bridge
