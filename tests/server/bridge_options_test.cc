// Unit tests of BridgeOptions::Validate: the defaults pass, and each rule
// (its own and its members') refuses a bad value with a message naming the
// flag that sets it.
#include "bridge/server/bridge_options.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/common/table_tests.h"

namespace refir::bridge {
namespace {

// Options as main.cc builds them from default flags: one source.
BridgeOptions Defaults() {
  BridgeOptions options;
  options.sources.push_back(SourceConfig());
  return options;
}

TEST(BridgeOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(BridgeOptions().Validate().ok());
  EXPECT_TRUE(Defaults().Validate().ok());
}

TEST(BridgeOptionsTest, AdminPortIsIgnoredWhenTheListenerIsDisabled) {
  BridgeOptions options = Defaults();
  options.admin_enabled = false;
  options.admin.port = -1;
  EXPECT_TRUE(options.Validate().ok());
}

using BadCase = SpoiledOptions<BridgeOptions>;

class BridgeOptionsBadCaseTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BridgeOptionsBadCaseTest, IsRefusedNamingTheFlag) { ExpectRefused(Defaults(), GetParam()); }

INSTANTIATE_TEST_SUITE_P(
    Rules, BridgeOptionsBadCaseTest,
    ::testing::Values(
        // HttpEdgeOptions::Validate, and through it HeadLimits::Validate.
        BadCase{"HttpPort", [](BridgeOptions& o) { o.http.port = 65536; },
                "--http_port must be between 0 and 65535, got 65536"},
        BadCase{"HttpTlsPair", [](BridgeOptions& o) { o.http.tls_cert_file = "cert.pem"; },
                "--http_tls_cert_file and --http_tls_key_file must be given together"},
        BadCase{"HttpThreads", [](BridgeOptions& o) { o.http.worker_threads = 0; },
                "--http_threads must be at least 1"},
        BadCase{"HttpHeadLimits", [](BridgeOptions& o) { o.http.head_limits.max_headers = 7; },
                "--http_max_headers must be at least 8, got 7"},
        // Its own ports.
        BadCase{"GrpcPort", [](BridgeOptions& o) { o.grpc_port = -1; },
                "--grpc_port must be between 0 and 65535, got -1"},
        BadCase{"AdminPort", [](BridgeOptions& o) { o.admin.port = 70000; },
                "--admin_port must be between 0 and 65535, got 70000"},
        BadCase{"AdminHeadLimits",
                [](BridgeOptions& o) { o.admin.head_limits.max_request_line_bytes = 100; },
                "--http_max_request_line_bytes must be at least 256, got 100"},
        // InspectorOptions::Validate, with the admin listener's address.
        BadCase{"InspectorOffLoopbackWithoutToken",
                [](BridgeOptions& o) {
                  o.inspector.enabled = true;
                  o.admin.address = "0.0.0.0";
                },
                "--inspector=true on --admin_address=0.0.0.0, which is not a loopback address, "
                "needs --inspector_token_file"},
        BadCase{"InspectorWithoutAdminListener",
                [](BridgeOptions& o) {
                  o.inspector.enabled = true;
                  o.admin_enabled = false;
                },
                "--inspector=true needs the admin listener"},
        // Each source.
        BadCase{"MaxBodyBytes", [](BridgeOptions& o) { o.sources[0].limits.max_body_bytes = 0; },
                "--max_body_bytes must be at least 1"},
        BadCase{"InflightBelowBody",
                [](BridgeOptions& o) {
                  o.sources[0].limits.max_body_bytes = 2048;
                  o.http.max_inflight_body_bytes = 1024;
                },
                "--http_max_inflight_body_bytes must be at least 2048, got 1024"},
        BadCase{"DedupWindow",
                [](BridgeOptions& o) { o.sources[0].dedup.window = absl::ZeroDuration(); },
                "--dedup_window: dedup window must be positive"},
        BadCase{"DedupJsonField",
                [](BridgeOptions& o) {
                  o.sources[0].dedup.by = DedupBy::kJsonField;
                  o.sources[0].dedup.json_field = "no-slash";
                },
                "--dedup_json_field: dedup JSON pointer \"no-slash\" must start with \"/\""},
        BadCase{"WebhookPath", [](BridgeOptions& o) { o.sources[0].path = "webhook"; },
                "--webhook_path must start with '/'"},
        // The gRPC limits.
        BadCase{"GrpcStreams", [](BridgeOptions& o) { o.grpc_max_concurrent_streams = 0; },
                "--grpc_max_concurrent_streams must be at least 1, got 0"},
        BadCase{"GrpcMemoryTooSmall",
                [](BridgeOptions& o) { o.grpc_memory_limit_bytes = size_t{15} << 20; },
                "--grpc_memory_limit_mib must be between 16 and 1048576, got 15"},
        BadCase{"GrpcMemoryTooLarge",
                [](BridgeOptions& o) { o.grpc_memory_limit_bytes = (size_t{1} << 40) + 1; },
                "--grpc_memory_limit_mib must be between 16 and 1048576, got 1048576"},
        BadCase{"GrpcReceiveMessage",
                [](BridgeOptions& o) { o.grpc_max_receive_message_bytes = 0; },
                "the gRPC receive message limit must be at least 1 byte, got 0"},
        BadCase{"GrpcGroups", [](BridgeOptions& o) { o.grpc_max_consumer_groups = 0; },
                "--grpc_max_consumer_groups must be at least 1, got 0"},
        // RetentionOptions::Validate.
        BadCase{"Retention", [](BridgeOptions& o) { o.retention.retention = absl::Seconds(-1); },
                "--retention must not be negative"},
        BadCase{"RetentionInterval",
                [](BridgeOptions& o) { o.retention.check_interval = absl::ZeroDuration(); },
                "--retention_check_interval must be positive"}),
    CaseName<BadCase>);

}  // namespace
}  // namespace refir::bridge
