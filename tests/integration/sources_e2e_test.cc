// Several webhook sources from a --sources_file on the real bridge binary:
// per-source paths and mappings (checked over gRPC), IP allowlist, rate
// limit, JSON depth, token verification, and startup refusing a bad file.
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/example_process.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kSources[] = R"({
  "sources": [
    {"name": "refir", "path": "/webhook"},
    {"name": "shop", "path": "/hooks/shop",
     "mapping": {"kind": "generic", "type_field": "/meta/topic"},
     "dedup": {"by": "json_field", "json_field": "/meta/id", "window_seconds": 600},
     "limits": {"max_json_depth": 4}},
    {"name": "internal", "path": "/hooks/internal", "allow_cidrs": ["10.0.0.0/8"]},
    {"name": "limited", "path": "/hooks/limited",
     "limits": {"rate": {"per_second": 0.001, "burst": 2}}},
    {"name": "small", "path": "/hooks/small", "limits": {"max_body_bytes": 16}}
  ]
})";

class SourcesE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = MakeTempDir();
    const std::string sources = WriteFile(dir, "sources.json", kSources);
    bridge_ = std::make_unique<BridgeProcess>(
        dir, std::vector<std::string>{absl::StrCat("--sources_file=", sources)});
    ASSERT_TRUE(bridge_->Start().ok());
    stub_ = MakeStub(bridge_->grpc_target());
  }

  HttpResult Post(const std::string& path, const std::string& body) {
    return SendHttp(bridge_->http_port(), "POST", path, body);
  }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<v1::EventStream::Stub> stub_;
};

TEST_F(SourcesE2ETest, TwoPathsWithTheirOwnSourceNameAndMapping) {
  HttpResult refir = Post("/webhook", R"({"event":"user_added","lead":{"id":5,"email":"a@b.c"}})");
  ASSERT_EQ(refir.status, 200) << refir.body;
  HttpResult shop = Post("/hooks/shop", R"({"meta":{"topic":"order.paid"},"lead":{"id":6}})");
  ASSERT_EQ(shop.status, 200) << shop.body;

  std::vector<v1::Event> events = ListAllEvents(*stub_);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].source(), "refir");
  EXPECT_EQ(events[0].type(), "refir.user.added");
  EXPECT_EQ(events[0].refir().lead().id(), "5");
  EXPECT_EQ(events[0].refir().lead().email(), "a@b.c");
  EXPECT_EQ(events[1].source(), "shop");
  EXPECT_EQ(events[1].type(), "order.paid");
  EXPECT_FALSE(events[1].has_refir());
  EXPECT_EQ(events[1].body(), R"({"meta":{"topic":"order.paid"},"lead":{"id":6}})");

  // A path no source serves.
  HttpResult missing = Post("/hooks/nope", "{}");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json["error"], "not_found");
}

TEST_F(SourcesE2ETest, ClientOutsideTheAllowlistIs403) {
  HttpResult forbidden = Post("/hooks/internal", R"({"a":1})");
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(forbidden.body, R"({"error":"forbidden"})");
  // The connection stays usable and other sources still accept 127.0.0.1.
  EXPECT_EQ(Post("/webhook", R"({"a":1})").status, 200);
  EXPECT_EQ(ListAllEvents(*stub_).size(), 1u);
}

TEST_F(SourcesE2ETest, BurstExceededIs429WithRetryAfter) {
  EXPECT_EQ(Post("/hooks/limited", "{}").status, 200);
  EXPECT_EQ(Post("/hooks/limited", "{}").status, 200);
  HttpResult limited = Post("/hooks/limited", "{}");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.json["error"], "rate_limited");
  int retry_after = 0;
  ASSERT_TRUE(absl::SimpleAtoi(limited.retry_after, &retry_after)) << limited.retry_after;
  EXPECT_GE(retry_after, 1);
  // The other sources are not limited.
  EXPECT_EQ(Post("/webhook", "{}").status, 200);
  EXPECT_EQ(ListAllEvents(*stub_).size(), 3u);
}

TEST_F(SourcesE2ETest, EachSourceDedupsItsOwnWay) {
  auto post_with_id = [&](const std::string& path, const std::string& body) {
    return SendHttp(bridge_->http_port(), "POST", path, body, "application/json",
                    {{"webhook-id", "wh_same"}});
  };
  // /webhook dedups by the webhook-id header (the default).
  HttpResult first = post_with_id("/webhook", R"({"n":1})");
  ASSERT_EQ(first.status, 200) << first.body;
  HttpResult resent = post_with_id("/webhook", R"({"n":2})");
  ASSERT_EQ(resent.status, 200);
  EXPECT_EQ(resent.json["duplicate"], true);
  EXPECT_EQ(resent.json["sequence"], first.json["sequence"]);
  // /hooks/shop dedups by /meta/id: the same webhook-id with another
  // meta.id is new, the same meta.id is a duplicate.
  HttpResult shop_a = post_with_id("/hooks/shop", R"({"meta":{"id":"a"}})");
  ASSERT_EQ(shop_a.status, 200) << shop_a.body;
  EXPECT_FALSE(shop_a.json.contains("duplicate"));
  HttpResult shop_b = post_with_id("/hooks/shop", R"({"meta":{"id":"b"}})");
  ASSERT_EQ(shop_b.status, 200);
  EXPECT_FALSE(shop_b.json.contains("duplicate"));
  HttpResult shop_a_again = Post("/hooks/shop", R"({"meta":{"id":"a"},"retry":1})");
  ASSERT_EQ(shop_a_again.status, 200);
  EXPECT_EQ(shop_a_again.json["duplicate"], true);
  EXPECT_EQ(shop_a_again.json["sequence"], shop_a.json["sequence"]);

  std::vector<v1::Event> events = ListAllEvents(*stub_);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].source(), "shop");
  EXPECT_EQ(events[2].source(), "shop");
}

// Refused requests' bodies are drained, so the next request on the same
// keep-alive connection is read correctly.
TEST_F(SourcesE2ETest, KeepAliveConnectionSurvivesRefusalsWithBodies) {
  httplib::Client client("127.0.0.1", bridge_->http_port());
  client.set_keep_alive(true);
  client.set_read_timeout(10);
  const std::string big = R"({"pad":")" + std::string(4000, 'x') + R"("})";
  auto status_of = [&](const std::string& path, const std::string& body) {
    httplib::Result result = client.Post(path, body, "application/json");
    return result ? result->status : 0;
  };
  EXPECT_EQ(status_of("/hooks/internal", big), 403);
  EXPECT_EQ(status_of("/webhook", R"({"n":1})"), 200);
  EXPECT_EQ(status_of("/hooks/small", big), 413);  // the source's own limit
  EXPECT_EQ(status_of("/webhook", big), 200);      // under the default 1 MiB
  EXPECT_EQ(status_of("/hooks/nope", big), 404);
  EXPECT_EQ(status_of("/hooks/small", R"({"n":2})"), 200);
  std::vector<v1::Event> events = ListAllEvents(*stub_);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].source(), "small");
}

TEST_F(SourcesE2ETest, TooDeepJsonIs400) {
  HttpResult deep = Post("/hooks/shop", R"({"a":[[[[1]]]]})");
  EXPECT_EQ(deep.status, 400);
  EXPECT_EQ(deep.json["error"], "json_too_deep");
  EXPECT_EQ(Post("/hooks/shop", R"({"a":[[[1]]]})").status, 200);
  // The same body is fine where the default depth (64) applies.
  EXPECT_EQ(Post("/webhook", R"({"a":[[[[1]]]]})").status, 200);
  EXPECT_EQ(ListAllEvents(*stub_).size(), 2u);
}

TEST(SourcesE2EStartupTest, TokenSourceAnswers401WithoutDetail) {
  const std::string dir = MakeTempDir();
  const std::string secret_file = WriteFile(dir, "token", "t0p-s3cret\n");
  const std::string sources = WriteFile(
      dir, "sources.json",
      absl::StrCat(R"({"sources":[{"name":"ci","path":"/hooks/ci","verification":{)",
                   R"("kind":"token","token_header":"Authorization","secrets":[{"file":")",
                   secret_file, R"("}]}}]})"));
  BridgeProcess bridge(dir, {absl::StrCat("--sources_file=", sources)});
  ASSERT_TRUE(bridge.Start().ok());
  HttpResult refused = SendHttp(bridge.http_port(), "POST", "/hooks/ci", "{}", "application/json",
                                {{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.body, R"({"error":"unauthenticated"})");
  HttpResult accepted = SendHttp(bridge.http_port(), "POST", "/hooks/ci", "{}", "application/json",
                                 {{"Authorization", "Bearer t0p-s3cret"}});
  EXPECT_EQ(accepted.status, 200) << accepted.body;
}

// Runs the bridge with `flags`, expecting it to refuse to start; returns its
// exit code and its log (stderr) lines.
std::vector<std::string> FailedStartLog(const std::vector<std::string>& flags, int* exit_code) {
  const std::string dir = MakeTempDir();
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$@\" 2>&1", "sh",
                                   BridgeProcess::BinaryPath(), absl::StrCat("--data_dir=", dir),
                                   "--http_port=0", "--grpc_port=0", "--admin_port=-1",
                                   // Messages as written, not JSON-escaped.
                                   "--log_format=text"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  ExampleProcess process(argv);
  std::vector<std::string> lines;
  if (!process.Start().ok()) {
    ADD_FAILURE() << "cannot start the bridge";
    return lines;
  }
  absl::StatusOr<int> code = process.WaitForExit(absl::Now() + absl::Seconds(30), &lines);
  EXPECT_TRUE(code.ok()) << code.status();
  *exit_code = code.ok() ? *code : -1;
  return lines;
}

TEST(SourcesE2EStartupTest, BadSourcesFileStopsStartupNamingTheProblem) {
  const std::string dir = MakeTempDir();
  const std::string sources = WriteFile(
      dir, "sources.json", R"({"sources":[{"name":"a","path":"/a"},{"name":"b","path":"/a"}]})");
  int exit_code = 0;
  std::vector<std::string> log =
      FailedStartLog({absl::StrCat("--sources_file=", sources)}, &exit_code);
  EXPECT_EQ(exit_code, 2);
  EXPECT_THAT(log, ::testing::Contains(HasSubstr(absl::StrCat(
                       "bad --sources_file: sources file \"", sources,
                       "\": source \"b\" (sources[1]): path: \"/a\" is also used by sources[0]"))));

  const std::string unknown =
      WriteFile(dir, "unknown.json", R"({"sources":[{"name":"a","path":"/a","limit":{}}]})");
  log = FailedStartLog({absl::StrCat("--sources_file=", unknown)}, &exit_code);
  EXPECT_EQ(exit_code, 2);
  EXPECT_THAT(log, ::testing::Contains(HasSubstr("source \"a\" (sources[0]): schema:")));

  log = FailedStartLog({"--sources_file=/nonexistent/sources.json"}, &exit_code);
  EXPECT_EQ(exit_code, 2);
  EXPECT_THAT(log, ::testing::Contains(
                       HasSubstr("sources file \"/nonexistent/sources.json\": cannot open it")));
}

// Forged requests (a wrong token) must not spend the source's rate: the
// real sender's next request is still 200. A client that keeps failing gets
// 429 from its own failed-verification budget, before verification. (Every
// test client is 127.0.0.1, so forger and sender share one address here.)
TEST(SourcesE2EStartupTest, ForgedRequestsDoNotSpendTheSourcesRate) {
  const std::string dir = MakeTempDir();
  const std::string secret_file = WriteFile(dir, "token", "t0p-s3cret\n");
  ASSERT_EQ(chmod(secret_file.c_str(), 0600), 0);
  const std::string verification =
      absl::StrCat(R"("verification":{"kind":"token","token_header":"Authorization",)",
                   R"("secrets":[{"file":")", secret_file, R"("}]})");
  // "ci": a small source rate; "ci2": no source rate, a small failed-
  // verification budget (each source has its own).
  const std::string sources = WriteFile(
      dir, "sources.json",
      absl::StrCat(R"({"sources":[{"name":"ci","path":"/hooks/ci",)", verification,
                   R"(,"limits":{"rate":{"per_second":0.001,"burst":2}}},)",
                   R"({"name":"ci2","path":"/hooks/ci2",)", verification,
                   R"(,"limits":{"failed_verification_rate":{"per_second":0.001,"burst":3}}}]})"));
  BridgeProcess bridge(dir, {absl::StrCat("--sources_file=", sources)});
  ASSERT_TRUE(bridge.Start().ok());
  auto post = [&](const std::string& path, const std::string& token) {
    return SendHttp(bridge.http_port(), "POST", path, "{}", "application/json",
                    {{"Authorization", "Bearer " + token}});
  };
  for (int i = 0; i < 5; ++i) EXPECT_EQ(post("/hooks/ci", "forged").status, 401) << i;
  // The real sender still has the whole burst of 2...
  HttpResult real = post("/hooks/ci", "t0p-s3cret");
  EXPECT_EQ(real.status, 200) << real.body;
  EXPECT_EQ(post("/hooks/ci", "t0p-s3cret").status, 200);
  // ...and the bucket is real: the third is over the rate.
  HttpResult over = post("/hooks/ci", "t0p-s3cret");
  EXPECT_EQ(over.status, 429);
  EXPECT_THAT(over.body, HasSubstr("source rate limit"));

  // A client that keeps failing verification: 401 three times, then 429
  // before verification, whatever it sends.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(post("/hooks/ci2", "forged").status, 401) << i;
  for (const char* token : {"forged", "t0p-s3cret"}) {
    HttpResult limited = post("/hooks/ci2", token);
    EXPECT_EQ(limited.status, 429) << limited.body;
    EXPECT_EQ(limited.json["error"], "rate_limited");
    EXPECT_THAT(limited.body, HasSubstr("failed verification"));
    EXPECT_FALSE(limited.retry_after.empty());
  }
}

TEST(SourcesE2EStartupTest, SecretFileReadableByOthersWarnsOrRefuses) {
  const std::string dir = MakeTempDir();
  const std::string secret_file = WriteFile(dir, "token", "t0p-s3cret\n");
  ASSERT_EQ(chmod(secret_file.c_str(), 0644), 0);
  const std::string sources = WriteFile(
      dir, "sources.json",
      absl::StrCat(R"({"sources":[{"name":"ci","path":"/hooks/ci","verification":{)",
                   R"("kind":"token","token_header":"Authorization","secrets":[{"file":")",
                   secret_file, R"("}]}}]})"));
  {
    BridgeProcess bridge(dir, {absl::StrCat("--sources_file=", sources), "--log_format=text"});
    bridge.set_stderr_file(dir + "/warn.stderr");
    ASSERT_TRUE(bridge.Start().ok());
    const std::string log = bridge.CapturedStderr();
    EXPECT_THAT(log, HasSubstr(absl::StrCat("secret file \"", secret_file,
                                            "\" is readable by group or others")));
    EXPECT_THAT(log, ::testing::Not(HasSubstr("t0p-s3cret")));
  }
  int exit_code = 0;
  std::vector<std::string> log = FailedStartLog(
      {absl::StrCat("--sources_file=", sources), "--refuse_insecure_secret_files"}, &exit_code);
  EXPECT_EQ(exit_code, 2);
  EXPECT_THAT(log, ::testing::Contains(HasSubstr(
                       absl::StrCat("verification.secrets[0]: secret file \"", secret_file,
                                    "\" is readable by group or others (mode 0644)"))));
  for (const std::string& line : log) EXPECT_THAT(line, ::testing::Not(HasSubstr("t0p-s3cret")));
}

}  // namespace
}  // namespace refir::bridge::testing
