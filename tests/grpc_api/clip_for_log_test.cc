// Unit tests of ClipForLog (client strings in log lines).
#include "bridge/grpc_api/clip_for_log.h"

#include <string>

#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

TEST(ClipForLogTest, ShortStringsAreKept) {
  EXPECT_EQ(ClipForLog(""), "");
  EXPECT_EQ(ClipForLog(std::string(kMaxLoggedClientBytes, 'a')),
            std::string(kMaxLoggedClientBytes, 'a'));
}

TEST(ClipForLogTest, LongStringsAreClippedWithTheirLength) {
  const std::string clipped = ClipForLog(std::string(1 << 20, 'a'));
  EXPECT_EQ(clipped, std::string(kMaxLoggedClientBytes, 'a') + "...(1048576 bytes)");
  EXPECT_EQ(ClipForLog("abcdef", 3), "abc...(6 bytes)");
}

}  // namespace
}  // namespace refir::bridge
