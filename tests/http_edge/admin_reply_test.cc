#include "bridge/http_edge/admin_server.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {
namespace {

TEST(AdminReplyTest, HealthzIsAlwaysOk) {
  HttpReply reply = AdminReply("/healthz", [] { return absl::UnavailableError("not consulted"); });
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["status"], "ok");
}

TEST(AdminReplyTest, ReadyzFollowsTheReadinessCheck) {
  HttpReply ready = AdminReply("/readyz", [] { return absl::OkStatus(); });
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(nlohmann::json::parse(ready.body)["status"], "ready");

  HttpReply not_ready = AdminReply(
      "/readyz", [] { return absl::UnavailableError("the journal's last commit failed"); });
  EXPECT_EQ(not_ready.status, 503);
  nlohmann::json body = nlohmann::json::parse(not_ready.body);
  EXPECT_EQ(body["status"], "not_ready");
  EXPECT_EQ(body["detail"], "the journal's last commit failed");
}

TEST(AdminReplyTest, GroupsReadinessIsItsOwnCheckAndIs404WithoutOne) {
  auto ready = [] { return absl::OkStatus(); };
  auto not_writable = [] { return absl::UnavailableError("the journal's last commit failed"); };
  auto standby = [] { return absl::UnavailableError("standby: groups are served by replica a"); };
  EXPECT_EQ(AdminReply("/readyz/groups", ready, ready).status, 200);
  HttpReply refused = AdminReply("/readyz/groups", ready, standby);
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(nlohmann::json::parse(refused.body)["detail"],
            "standby: groups are served by replica a");
  // The replica serving the groups still delivers what is stored while a
  // journal write fails; a standby still takes webhooks.
  EXPECT_EQ(AdminReply("/readyz/groups", not_writable, ready).status, 200);
  EXPECT_EQ(AdminReply("/readyz", ready, standby).status, 200);
  EXPECT_EQ(AdminReply("/readyz/groups", ready).status, 404);
}

TEST(AdminReplyTest, OtherPathsAre404) {
  HttpReply reply = AdminReply("/metrics", [] { return absl::OkStatus(); });
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["error"], "not_found");
}

}  // namespace
}  // namespace refir::bridge
