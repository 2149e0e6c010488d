#include "bridge/cli/command_line.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<FlagSpec>& Flags() {
  static const std::vector<FlagSpec> flags = {{"target", "HOST:PORT", "where"},
                                              {"all", "", "every one"}};
  return flags;
}

absl::StatusOr<CommandLine> Parse(std::vector<std::string> words) {
  return ParseCommandLine(words, Flags());
}

TEST(CommandLineTest, FlagsInEveryFormAndPositionalArgumentsInOrder) {
  absl::StatusOr<CommandLine> line =
      Parse({"requeue", "--target=a:1", "g", "--all", "7", "--target", "b:2", "--", "--x"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_THAT(line->args, ElementsAre("requeue", "g", "7", "--x"));
  EXPECT_EQ(line->Value("target"), "b:2") << "the last one wins";
  EXPECT_TRUE(line->Has("all"));
  EXPECT_EQ(line->Value("missing", "fallback"), "fallback");
  EXPECT_FALSE(line->help);
  EXPECT_TRUE(Parse({"-h"})->help);
  EXPECT_TRUE(Parse({"x", "--help"})->help);
  EXPECT_EQ(Parse({"-target=c:3"})->Value("target"), "c:3");
  EXPECT_EQ(Parse({"--target="})->Value("target", "default"), "") << "empty is a value";
  EXPECT_THAT(Parse({"-"})->args, ElementsAre("-"));
}

TEST(CommandLineTest, BadFlagsAreNamed) {
  EXPECT_THAT(Parse({"--bogus=1"}).status().message(), HasSubstr("unknown flag --bogus"));
  EXPECT_THAT(Parse({"--target"}).status().message(),
              HasSubstr("--target needs a value (HOST:PORT)"));
  EXPECT_THAT(Parse({"--all=yes"}).status().message(), HasSubstr("--all takes no value"));
  EXPECT_EQ(Parse({"--bogus"}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CommandLineTest, PositiveDurationAndCountFlags) {
  static const std::vector<FlagSpec> flags = {{"timeout", "D", ""}, {"count", "N", ""}};
  auto line = [](std::vector<std::string> words) { return *ParseCommandLine(words, flags); };
  EXPECT_EQ(*PositiveDurationFlag(line({}), "timeout", absl::Seconds(10)), absl::Seconds(10));
  EXPECT_EQ(*PositiveDurationFlag(line({"--timeout=250ms"}), "timeout", absl::Seconds(10)),
            absl::Milliseconds(250));
  for (const char* bad : {"--timeout=0s", "--timeout=-1s", "--timeout=soon", "--timeout=5"}) {
    EXPECT_THAT(PositiveDurationFlag(line({bad}), "timeout", absl::Seconds(1)).status().message(),
                HasSubstr("not a positive duration"))
        << bad;
  }
  EXPECT_EQ(*PositiveCountFlag(line({}), "count", 1, 10), 1u);
  EXPECT_EQ(*PositiveCountFlag(line({"--count=10"}), "count", 1, 10), 10u);
  for (const char* bad : {"--count=0", "--count=11", "--count=-1", "--count=x"}) {
    EXPECT_THAT(PositiveCountFlag(line({bad}), "count", 1, 10).status().message(),
                HasSubstr("not a whole number from 1 to 10"))
        << bad;
  }
}

TEST(CommandLineTest, HelpAlignsTheFlags) {
  EXPECT_EQ(FlagsHelp(Flags()),
            "  --target=HOST:PORT  where\n"
            "  --all               every one\n");
}

}  // namespace
}  // namespace refir::bridge::cli
