#include "bridge/cli/command_line.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace refir::bridge::cli {
namespace {

const FlagSpec* Find(absl::Span<const FlagSpec> known, absl::string_view name) {
  for (const FlagSpec& spec : known) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

std::string CommandLine::Value(absl::string_view name, absl::string_view fallback) const {
  auto it = flags.find(name);
  return std::string(it == flags.end() ? fallback : absl::string_view(it->second));
}

absl::StatusOr<CommandLine> ParseCommandLine(absl::Span<const std::string> words,
                                             absl::Span<const FlagSpec> known) {
  CommandLine line;
  bool flags_ended = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (flags_ended || word.size() < 2 || word[0] != '-') {
      line.args.push_back(word);
      continue;
    }
    if (word == "--") {
      flags_ended = true;
      continue;
    }
    if (word == "--help" || word == "-h") {
      line.help = true;
      continue;
    }
    absl::string_view text = word;
    text.remove_prefix(absl::StartsWith(text, "--") ? 2 : 1);
    const size_t equals = text.find('=');
    const absl::string_view name = text.substr(0, equals);
    const FlagSpec* spec = Find(known, name);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (spec->value_name.empty()) {
      if (equals != absl::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      }
      line.flags[name] = "true";
    } else if (equals != absl::string_view::npos) {
      line.flags[name] = std::string(text.substr(equals + 1));
    } else if (i + 1 < words.size()) {
      line.flags[name] = words[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs a value (", spec->value_name, ")"));
    }
  }
  return line;
}

absl::StatusOr<absl::Duration> PositiveDurationFlag(const CommandLine& line, absl::string_view name,
                                                    absl::Duration fallback) {
  if (!line.Has(name)) return fallback;
  absl::Duration duration;
  if (!absl::ParseDuration(line.Value(name), &duration) || duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, "=", line.Value(name), ": not a positive duration (like 5s)"));
  }
  return duration;
}

absl::StatusOr<uint64_t> PositiveCountFlag(const CommandLine& line, absl::string_view name,
                                           uint64_t fallback, uint64_t max) {
  if (!line.Has(name)) return fallback;
  uint64_t count = 0;
  if (!absl::SimpleAtoi(line.Value(name), &count) || count < 1 || count > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, "=", line.Value(name), ": not a whole number from 1 to ", max));
  }
  return count;
}

std::string FlagsHelp(absl::Span<const FlagSpec> flags) {
  std::vector<std::string> left;
  size_t width = 0;
  for (const FlagSpec& spec : flags) {
    left.push_back(spec.value_name.empty() ? absl::StrCat("--", spec.name)
                                           : absl::StrCat("--", spec.name, "=", spec.value_name));
    width = std::max(width, left.back().size());
  }
  std::string help;
  for (size_t i = 0; i < flags.size(); ++i) {
    absl::StrAppend(&help, "  ", left[i], std::string(width - left[i].size() + 2, ' '),
                    flags[i].help, "\n");
  }
  return help;
}

}  // namespace refir::bridge::cli
