// The journal's disk fills up under the real binary: webhooks get 503 with
// Retry-After (never a 200 that is not stored), /readyz turns 503 and gRPC
// health NOT_SERVING, the bridge stays up, and it takes webhooks again once
// space returns (health follows). Every webhook answered 200 is still there
// after a restart.
//
// Needs root to mount a small tmpfs (CI runs as root); elsewhere it skips
// and says so.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

constexpr char kFilesystemSize[] = "size=4m";

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

// The overall gRPC health status; UNKNOWN when the call fails.
ServingStatus GrpcHealth(const std::string& target) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  if (!stub->Check(&context, request, &response).ok()) {
    return grpc::health::v1::HealthCheckResponse::UNKNOWN;
  }
  return response.status();
}

// Polls gRPC health until it reports `expected` (it follows the journal
// within a quarter second) or 10 s pass.
bool WaitForGrpcHealth(const std::string& target, ServingStatus expected) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (GrpcHealth(target) == expected) return true;
    absl::SleepFor(absl::Milliseconds(50));  // Polling another process.
  }
  return false;
}

class DiskFullE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs (CI runs as root)";
    mount_point_ = MakeTempDir();
    ASSERT_EQ(mount("refir-disk-full", mount_point_.c_str(), "tmpfs", 0, kFilesystemSize), 0)
        << "mount tmpfs: " << std::strerror(errno);
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) umount2(mount_point_.c_str(), MNT_DETACH);
  }

  // Writes `path` until the filesystem is full; returns the bytes written.
  static size_t FillWith(const std::string& path) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return 0;
    const std::string block(64 * 1024, 'x');
    size_t written = 0;
    while (true) {
      const ssize_t n = write(fd, block.data(), block.size());
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
    fsync(fd);
    close(fd);
    return written;
  }

  std::string mount_point_;
  bool mounted_ = false;
};

TEST_F(DiskFullE2eTest, FullDiskAnswers503ThenRecoversAndLosesNothing) {
  const std::string data_dir = absl::StrCat(mount_point_, "/data");
  BridgeProcess bridge(data_dir);
  ASSERT_TRUE(bridge.Start().ok());
  EXPECT_TRUE(
      WaitForGrpcHealth(bridge.grpc_target(), grpc::health::v1::HealthCheckResponse::SERVING));

  std::set<std::string> stored_ids;  // every id answered 200
  auto post = [&](int n) {
    HttpResult result =
        PostWebhook(bridge.http_port(),
                    absl::StrCat(R"({"n":)", n, R"(,"pad":")", std::string(2000, 'p'), R"("})"),
                    {{"webhook-id", absl::StrCat("disk-", n)}});
    if (result.status == 200 && result.json["id"].is_string()) {
      stored_ids.insert(result.json["id"].get<std::string>());
    }
    return result;
  };
  ASSERT_EQ(post(0).status, 200);

  // Take every free byte; the journal's next growth fails.
  const std::string ballast = absl::StrCat(mount_point_, "/ballast");
  ASSERT_GT(FillWith(ballast), 0u);

  HttpResult refused;
  int n = 1;
  for (; n < 5000 && refused.status != 503; ++n) {
    HttpResult result = post(n);
    ASSERT_TRUE(result.status == 200 || result.status == 503)
        << "webhook " << n << ": " << result.status << " " << result.body;
    if (result.status == 503) refused = result;
  }
  ASSERT_EQ(refused.status, 503) << "the journal never ran out of space";
  EXPECT_EQ(refused.json["error"], "journal_unavailable") << refused.body;
  EXPECT_FALSE(refused.retry_after.empty());
  EXPECT_EQ(SendHttp(bridge.admin_port(), "GET", "/readyz", "", "").status, 503);
  EXPECT_TRUE(
      WaitForGrpcHealth(bridge.grpc_target(), grpc::health::v1::HealthCheckResponse::NOT_SERVING))
      << "gRPC health still SERVING with a journal that cannot write";
  // Still refused, still alive, still answering health.
  EXPECT_EQ(post(n++).status, 503);
  EXPECT_EQ(SendHttp(bridge.admin_port(), "GET", "/healthz", "", "").status, 200);

  // Space returns: the next commit succeeds, readiness follows.
  ASSERT_EQ(unlink(ballast.c_str()), 0);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  int status = 0;
  while (absl::Now() < deadline && (status = post(n++).status) != 200) {
    absl::SleepFor(absl::Milliseconds(50));  // The sender's retry interval.
  }
  ASSERT_EQ(status, 200) << "no recovery after space returned";
  EXPECT_EQ(SendHttp(bridge.admin_port(), "GET", "/readyz", "", "").status, 200);
  EXPECT_TRUE(
      WaitForGrpcHealth(bridge.grpc_target(), grpc::health::v1::HealthCheckResponse::SERVING));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(post(n++).status, 200);

  // Every 200 survives a restart.
  ASSERT_EQ(bridge.Stop().value_or(-1), 0);
  BridgeProcess restarted(data_dir);
  ASSERT_TRUE(restarted.Start().ok());
  std::unique_ptr<v1::EventStream::Stub> stub = MakeStub(restarted.grpc_target());
  std::set<std::string> listed;
  for (const v1::Event& event : ListAllEvents(*stub)) listed.insert(event.id());
  for (const std::string& id : stored_ids) EXPECT_EQ(listed.count(id), 1u) << "lost " << id;
  EXPECT_EQ(restarted.Stop().value_or(-1), 0);
}

}  // namespace
}  // namespace refir::bridge::testing
