// The inspector page (--inspector) on the real bridge binary: off by
// default, its page, assets and JSON API over real HTTP with the headers the
// page relies on, a live consumer group's lag and pending, and the token
// rules off loopback (startup refused without a token file; 401 without the
// token). The page in a real browser: tests/browser/.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/command_runner.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "e2e-inspector-token-4f1c9a";

std::string WriteTokenFile(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/inspector.token");
  std::ofstream(path) << kToken << "\n";
  return path;
}

HttpResult Get(int port, const std::string& path, const std::string& authorization = "") {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
  return SendHttp(port, "GET", path, "", "application/json", headers);
}

TEST(InspectorE2ETest, OffByDefault) {
  BridgeProcess bridge(MakeTempDir());
  ASSERT_TRUE(bridge.Start().ok());
  for (const char* path : {"/ui", "/ui/api/events", "/ui/inspector.js"}) {
    HttpResult result = Get(bridge.admin_port(), path);
    EXPECT_EQ(result.status, 404) << path;
    EXPECT_EQ(result.json["error"], "not_found") << path;
  }
  EXPECT_EQ(Get(bridge.admin_port(), "/healthz").status, 200);
}

TEST(InspectorE2ETest, ServesThePageEventsAndGroups) {
  BridgeProcess bridge(MakeTempDir(), {"--inspector=true"});
  ASSERT_TRUE(bridge.Start().ok());
  const int admin = bridge.admin_port();

  HttpResult page = Get(admin, "/ui");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_THAT(page.body, HasSubstr(R"(<script src="/ui/inspector.js")"));
  EXPECT_EQ(page.headers["Cache-Control"], "no-store");
  EXPECT_EQ(page.headers["X-Content-Type-Options"], "nosniff");
  EXPECT_THAT(page.headers["Content-Security-Policy"], HasSubstr("default-src 'self'"));
  EXPECT_EQ(Get(admin, "/ui/inspector.js").content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Get(admin, "/ui/inspector.css").content_type, "text/css; charset=utf-8");

  for (int i = 0; i < 3; ++i) PostEvent(bridge.http_port());
  HttpResult hostile = PostWebhook(bridge.http_port(),
                                   R"({"event":"referral_created","message":"</script><b>x</b>"})");
  ASSERT_EQ(hostile.status, 200) << hostile.body;
  const uint64_t last = hostile.json["sequence"];

  HttpResult events = Get(admin, "/ui/api/events");
  ASSERT_EQ(events.status, 200) << events.body;
  EXPECT_EQ(events.headers["Cache-Control"], "no-store");
  EXPECT_EQ(events.json["head"], last);
  ASSERT_EQ(events.json["events"].size(), 4u);
  const nlohmann::json& newest = events.json["events"][3];
  EXPECT_EQ(newest["sequence"], last);
  EXPECT_EQ(newest["type"], "refir.referral.created");
  EXPECT_EQ(newest["refir"]["message"], "</script><b>x</b>");
  EXPECT_EQ(newest["body"], R"({"event":"referral_created","message":"</script><b>x</b>"})");
  EXPECT_EQ(Get(admin, absl::StrCat("/ui/api/events?after=", last - 1)).json["events"].size(), 1u);
  EXPECT_EQ(Get(admin, "/ui/api/events?after=abc").status, 400);

  // One delivered and not acked (max_outstanding 1): pending 1, lag 3.
  std::unique_ptr<v1::EventStream::Stub> stub = MakeStub(bridge.grpc_target());
  GroupStream stream(*stub);
  v1::SubscribeInit init = GroupInit("inspector-e2e", "e2e-worker");
  init.mutable_start()->mutable_earliest();
  init.set_max_outstanding(1);
  ASSERT_TRUE(stream.Open(init).ok());
  ASSERT_EQ(stream.ReadDeliveries(1, absl::Seconds(10)).size(), 1u);
  HttpResult groups = Get(admin, "/ui/api/groups");
  ASSERT_EQ(groups.status, 200) << groups.body;
  ASSERT_EQ(groups.json["groups"].size(), 1u);
  const nlohmann::json& group = groups.json["groups"][0];
  EXPECT_EQ(group["name"], "inspector-e2e");
  EXPECT_EQ(group["lag"], 3);
  EXPECT_EQ(group["pending"], 1);
  EXPECT_EQ(group["dead_letters"], 0);
  EXPECT_EQ(group["consumers"][0]["client_id"], "e2e-worker");
}

TEST(InspectorE2ETest, OffLoopbackStartupNeedsATokenFile) {
  const std::string base = absl::StrCat(BridgeProcess::BinaryPath(), " --data_dir=", MakeTempDir(),
                                        " --http_port=0 --grpc_port=0 --admin_port=0");
  CommandResult refused =
      RunCommand(absl::StrCat(base, " --inspector=true --admin_address=0.0.0.0"));
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("--admin_address=0.0.0.0"));
  EXPECT_THAT(refused.output, HasSubstr("needs --inspector_token_file"));
}

TEST(InspectorE2ETest, OffLoopbackTheTokenIsNeededAndNeverEchoed) {
  const std::string dir = MakeTempDir();
  BridgeProcess bridge(dir, {"--inspector=true", "--admin_address=0.0.0.0",
                             absl::StrCat("--inspector_token_file=", WriteTokenFile(dir))});
  ASSERT_TRUE(bridge.Start().ok());
  const int admin = bridge.admin_port();
  const std::string bearer = absl::StrCat("Bearer ", kToken);

  for (const HttpResult& refused :
       {Get(admin, "/ui"), Get(admin, "/ui?token=not-the-token-at-all"),
        Get(admin, "/ui/api/events"), Get(admin, "/ui/api/groups", "Bearer not-the-token-at-all"),
        Get(admin, absl::StrCat("/ui/api/events?token=", kToken))}) {
    EXPECT_EQ(refused.status, 401) << refused.body;
    EXPECT_EQ(refused.content_type, "application/json");
    EXPECT_EQ(refused.json["error"], "unauthenticated");
    EXPECT_THAT(refused.body, Not(HasSubstr(kToken)));
  }
  HttpResult page = Get(admin, absl::StrCat("/ui?token=", kToken));
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.body, Not(HasSubstr(kToken)));
  EXPECT_EQ(Get(admin, "/ui", bearer).status, 200);
  EXPECT_EQ(Get(admin, "/ui/api/events", bearer).status, 200);
  EXPECT_EQ(Get(admin, "/ui/api/groups", bearer).status, 200);
  // Probes stay open.
  EXPECT_EQ(Get(admin, "/healthz").status, 200);
  EXPECT_EQ(Get(admin, "/readyz").status, 200);
}

}  // namespace
}  // namespace refir::bridge::testing
