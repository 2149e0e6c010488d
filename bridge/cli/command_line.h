// The words of a client command (`refir-bridge groups get NAME
// --target=...`): positional arguments and flags, checked against the flags
// the command declares. Client commands parse their own words; the absl
// flags belong to `serve`, whose --help they would otherwise crowd.
#ifndef REFIR_BRIDGE_CLI_COMMAND_LINE_H_
#define REFIR_BRIDGE_CLI_COMMAND_LINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace refir::bridge::cli {

// One flag a command accepts.
struct FlagSpec {
  std::string name;        // without the dashes: "target"
  std::string value_name;  // "HOST:PORT"; empty for a switch (--all)
  std::string help;        // one line
};

struct CommandLine {
  std::vector<std::string> args;  // positional, in order
  absl::flat_hash_map<std::string, std::string> flags;
  bool help = false;  // --help or -h was given

  bool Has(absl::string_view name) const { return flags.contains(name); }
  // The flag's value, or `fallback` when it was not given.
  std::string Value(absl::string_view name, absl::string_view fallback = "") const;
};

// Parses `words` (after the command's own words). Flags are `--name=value`,
// `--name value` or, for a switch, `--name`; `--` ends the flags. An
// undeclared flag, a missing value or a value given to a switch is
// INVALID_ARGUMENT naming it.
absl::StatusOr<CommandLine> ParseCommandLine(absl::Span<const std::string> words,
                                             absl::Span<const FlagSpec> known);

// The flag `name` as a duration above zero ("5s", "250ms"), or `fallback`
// when it was not given; INVALID_ARGUMENT naming the flag otherwise.
absl::StatusOr<absl::Duration> PositiveDurationFlag(const CommandLine& line, absl::string_view name,
                                                    absl::Duration fallback);

// The flag `name` as a whole number from 1 to `max`, or `fallback` when it
// was not given; INVALID_ARGUMENT naming the flag otherwise.
absl::StatusOr<uint64_t> PositiveCountFlag(const CommandLine& line, absl::string_view name,
                                           uint64_t fallback, uint64_t max);

// The flags' help, one aligned line each.
std::string FlagsHelp(absl::Span<const FlagSpec> flags);

}  // namespace refir::bridge::cli

#endif  // REFIR_BRIDGE_CLI_COMMAND_LINE_H_
