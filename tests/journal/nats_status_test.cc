// NatsStatus's codes, and the JetStream errors named by the server's
// descriptions for the cnats calls that do not hand out the code.
#include "bridge/journal/jetstream/nats_status.h"

#include "gtest/gtest.h"

namespace refir::bridge::jetstream {
namespace {

TEST(NatsStatusTest, DescriptionsOfNotNowErrorsNameTheirCodes) {
  EXPECT_EQ(JsErrorNamedIn("Error ((jsm.c:1033): no suitable peers for placement)"),
            JSClusterNoPeersErr);
  EXPECT_EQ(JsErrorNamedIn("JetStream system temporarily unavailable"), JSClusterNotAvailErr);
  EXPECT_EQ(JsErrorNamedIn("stream name already in use"), static_cast<jsErrCode>(0));
  EXPECT_EQ(JsErrorNamedIn(""), static_cast<jsErrCode>(0));
}

TEST(NatsStatusTest, NoPeersAndNoQuorumAreUnavailableOtherErrorsInternal) {
  EXPECT_TRUE(NatsStatus(NATS_OK, "x").ok());
  EXPECT_TRUE(absl::IsUnavailable(NatsStatus(NATS_ERR, "bucket", JSClusterNoPeersErr)));
  EXPECT_TRUE(absl::IsUnavailable(NatsStatus(NATS_ERR, "bucket", JSClusterNotAvailErr)));
  EXPECT_TRUE(absl::IsInternal(NatsStatus(NATS_ERR, "bucket", JSStreamNameExistErr)));
}

}  // namespace
}  // namespace refir::bridge::jetstream
