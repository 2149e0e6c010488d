#include "bridge/common/log_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "spdlog/details/log_msg.h"

namespace refir::bridge {
namespace {

class LogSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(::testing::TempDir(), "/log_sink_test_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    close(fd_);
    unlink(path_.c_str());
  }
  std::string Contents() const {
    std::ifstream in(path_);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }
  // Polls the file until it holds `lines` lines or 5 s pass.
  std::vector<std::string> WaitForLines(size_t lines) const {
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    std::vector<std::string> got;
    do {
      got = absl::StrSplit(Contents(), '\n', absl::SkipEmpty());
      if (got.size() >= lines) break;
      absl::SleepFor(absl::Milliseconds(2));
    } while (absl::Now() < deadline);
    return got;
  }
  static void Log(StderrLineSink& sink, spdlog::level::level_enum level, const std::string& text) {
    sink.log(spdlog::details::log_msg("t", level, spdlog::string_view_t(text)));
  }

  std::string path_;
  int fd_ = -1;
};

TEST_F(LogSinkTest, FlushWritesEveryLineInOrder) {
  StderrLineSink sink(fd_, absl::Hours(1));  // only flush() writes
  for (int i = 0; i < 1000; ++i) Log(sink, spdlog::level::info, absl::StrCat("line ", i));
  sink.flush();
  const std::vector<std::string> lines = absl::StrSplit(Contents(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(lines[static_cast<size_t>(i)], absl::StrCat("line ", i));
}

TEST_F(LogSinkTest, InfoLinesGoOutWithinTheDelay) {
  StderrLineSink sink(fd_, absl::Milliseconds(20));
  Log(sink, spdlog::level::info, "first");
  EXPECT_EQ(WaitForLines(1), std::vector<std::string>{"first"});
}

TEST_F(LogSinkTest, WarningsGoOutAtOnce) {
  StderrLineSink sink(fd_, absl::Hours(1));
  Log(sink, spdlog::level::info, "before");
  Log(sink, spdlog::level::warn, "problem");
  EXPECT_EQ(WaitForLines(2), (std::vector<std::string>{"before", "problem"}));
}

TEST_F(LogSinkTest, DestructorWritesWhatIsBuffered) {
  {
    StderrLineSink sink(fd_, absl::Hours(1));
    Log(sink, spdlog::level::info, "last words");
  }
  EXPECT_EQ(Contents(), "last words\n");
}

TEST_F(LogSinkTest, ConcurrentLinesStayWhole) {
  StderrLineSink sink(fd_, absl::Milliseconds(1));
  std::vector<std::thread> threads;
  const std::string payload(300, 'x');
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) Log(sink, spdlog::level::info, absl::StrCat(t, payload));
    });
  }
  for (std::thread& thread : threads) thread.join();
  sink.flush();
  const std::vector<std::string> lines = absl::StrSplit(Contents(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 20000u);  // 6 MB went through a 1 MiB buffer
  for (const std::string& line : lines) ASSERT_EQ(line.size(), 301u);
}

}  // namespace
}  // namespace refir::bridge
