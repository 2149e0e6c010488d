#include "bridge/common/uuid7.h"

#include <set>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

TEST(Uuid7Test, HasCanonicalFormVersionAndVariant) {
  const std::string id = NewUuidV7(absl::FromUnixMillis(1700000000123));
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[13], '-');
  EXPECT_EQ(id[18], '-');
  EXPECT_EQ(id[23], '-');
  EXPECT_EQ(id[14], '7');
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
}

TEST(Uuid7Test, EncodesMillisecondsBigEndian) {
  // 1700000000123 ms = 0x018bcfe5687b.
  const std::string id = NewUuidV7(absl::FromUnixMillis(1700000000123));
  EXPECT_EQ(id.substr(0, 13), "018bcfe5-687b");
}

TEST(Uuid7Test, IdsAreUniqueWithinOneMillisecond) {
  std::set<std::string> ids;
  const absl::Time now = absl::FromUnixMillis(1700000000000);
  for (int i = 0; i < 10000; ++i) ids.insert(NewUuidV7(now));
  EXPECT_EQ(ids.size(), 10000u);
}

TEST(Uuid7Test, LaterMillisecondsSortLater) {
  EXPECT_LT(NewUuidV7(absl::FromUnixMillis(1000)), NewUuidV7(absl::FromUnixMillis(1001)));
}

}  // namespace
}  // namespace refir::bridge
