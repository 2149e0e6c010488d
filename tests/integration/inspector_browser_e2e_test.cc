// The inspector page in a real browser: starts the bridge with
// --inspector=true and a token file, creates a consumer group with a known
// lag over gRPC, then runs tests/browser/inspector_page_test.js (headless
// chromium driven by puppeteer-core), which opens /ui?token=..., POSTs an
// event and waits for it and for the group's lag on the page (so the page
// must send the token on its API calls). $REFIR_INSPECTOR_SCREENSHOT, when set, is
// where the script saves a screenshot (docs/img/inspector.png).
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/example_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_clients.h"

#ifndef REFIR_SOURCE_DIR
#error "REFIR_SOURCE_DIR must name the source tree (for tests/browser/run.sh)"
#endif
#ifndef REFIR_BROWSER_TEST_DIR
#error "REFIR_BROWSER_TEST_DIR must name where run.sh installs puppeteer-core"
#endif

namespace refir::bridge::testing {
namespace {

constexpr char kToken[] = "browser-inspector-token-7d2e";

TEST(InspectorBrowserE2ETest, ThePageShowsNewEventsAndAGroupsLagLive) {
  const std::string dir = MakeTempDir();
  const std::string token_file = absl::StrCat(dir, "/inspector.token");
  std::ofstream(token_file) << kToken << "\n";
  BridgeProcess bridge(dir,
                       {"--inspector=true", absl::StrCat("--inspector_token_file=", token_file)});
  ASSERT_TRUE(bridge.Start().ok());
  // Four events, a group from the earliest with one delivered and not
  // acked: lag 3. The page's own event makes it 4.
  for (int i = 0; i < 4; ++i) PostEvent(bridge.http_port());
  std::unique_ptr<v1::EventStream::Stub> stub = MakeStub(bridge.grpc_target());
  GroupStream stream(*stub);
  v1::SubscribeInit init = GroupInit("billing-sync", "worker-1");
  init.mutable_start()->mutable_earliest();
  init.set_max_outstanding(1);
  ASSERT_TRUE(stream.Open(init).ok());
  ASSERT_EQ(stream.ReadDeliveries(1, absl::Seconds(10)).size(), 1u);
  ASSERT_EQ(WaitForGroup(*stub, "billing-sync",
                         [](const v1::ConsumerGroup& group) {
                           return group.lag() == 3 && group.pending() == 1;
                         })
                .lag(),
            3u);

  std::vector<std::string> argv = {
      "bash",
      absl::StrCat(REFIR_SOURCE_DIR, "/tests/browser/run.sh"),
      "inspector_page_test.js",
      absl::StrCat("--url=http://127.0.0.1:", bridge.admin_port(), "/ui?token=", kToken),
      absl::StrCat("--webhook=http://127.0.0.1:", bridge.http_port(), "/webhook"),
      "--group=billing-sync",
      "--lag=3"};
  if (const char* screenshot = std::getenv("REFIR_INSPECTOR_SCREENSHOT")) {
    argv.push_back(absl::StrCat("--screenshot=", screenshot));
  }
  ExampleProcess browser(argv, {{"REFIR_BROWSER_TEST_DIR", REFIR_BROWSER_TEST_DIR}});
  ASSERT_TRUE(browser.Start().ok());
  // npm ci on a first run, then chromium: well under a minute.
  std::vector<std::string> lines;
  absl::StatusOr<int> exit_code = browser.WaitForExit(absl::Now() + absl::Seconds(90), &lines);
  const std::string output = absl::StrJoin(lines, "\n");
  ASSERT_TRUE(exit_code.ok()) << exit_code.status() << "\n" << output;
  EXPECT_EQ(*exit_code, 0) << output;
  EXPECT_NE(output.find("inspector page: all checks passed"), std::string::npos) << output;
}

}  // namespace
}  // namespace refir::bridge::testing
