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

TEST(AdminReplyTest, OtherPathsAre404) {
  HttpReply reply = AdminReply("/metrics", [] { return absl::OkStatus(); });
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["error"], "not_found");
}

}  // namespace
}  // namespace refir::bridge
