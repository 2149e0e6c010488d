// Unit tests of HttpEdgeOptions::Validate and HeadLimits::Validate: the
// defaults pass, and each rule refuses a bad value naming its flag.
#include <string>

#include "bridge/http_edge/http_edge.h"
#include "gtest/gtest.h"
#include "tests/common/table_tests.h"

namespace refir::bridge {
namespace {

TEST(HttpEdgeOptionsTest, DefaultsAreValid) { EXPECT_TRUE(HttpEdgeOptions().Validate().ok()); }

using BadCase = SpoiledOptions<HttpEdgeOptions>;

class HttpEdgeOptionsBadCaseTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(HttpEdgeOptionsBadCaseTest, IsRefusedNamingTheFlag) {
  ExpectRefused(HttpEdgeOptions(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Rules, HttpEdgeOptionsBadCaseTest,
    ::testing::Values(
        BadCase{"PortNegative", [](HttpEdgeOptions& o) { o.port = -1; },
                "--http_port must be between 0 and 65535, got -1"},
        BadCase{"PortTooLarge", [](HttpEdgeOptions& o) { o.port = 65536; },
                "--http_port must be between 0 and 65535, got 65536"},
        BadCase{"CertWithoutKey", [](HttpEdgeOptions& o) { o.tls_cert_file = "cert.pem"; },
                "--http_tls_cert_file and --http_tls_key_file must be given together"},
        BadCase{"KeyWithoutCert", [](HttpEdgeOptions& o) { o.tls_key_file = "key.pem"; },
                "--http_tls_cert_file and --http_tls_key_file must be given together"},
        BadCase{"NoWorkerThreads", [](HttpEdgeOptions& o) { o.worker_threads = 0; },
                "--http_threads must be at least 1"},
        BadCase{"FewerConnectionsThanThreads",
                [](HttpEdgeOptions& o) {
                  o.worker_threads = 8;
                  o.max_connections = 4;
                },
                "--http_max_connections must be at least --http_threads"},
        BadCase{"RequestTimeout",
                [](HttpEdgeOptions& o) { o.request_timeout = absl::ZeroDuration(); },
                "--http_request_timeout must be positive"},
        BadCase{"KeepAliveRequests", [](HttpEdgeOptions& o) { o.keep_alive_max_requests = 0; },
                "--http_keep_alive_max_requests must be at least 1"},
        BadCase{"RequestLine",
                [](HttpEdgeOptions& o) { o.head_limits.max_request_line_bytes = 255; },
                "--http_max_request_line_bytes must be at least 256, got 255"},
        BadCase{"HeaderLine", [](HttpEdgeOptions& o) { o.head_limits.max_header_line_bytes = 255; },
                "--http_max_header_line_bytes must be at least 256, got 255"},
        BadCase{"Headers", [](HttpEdgeOptions& o) { o.head_limits.max_headers = 7; },
                "--http_max_headers must be at least 8, got 7"},
        BadCase{"HeadBelowLines",
                [](HttpEdgeOptions& o) {
                  o.head_limits.max_request_line_bytes = 1000;
                  o.head_limits.max_header_line_bytes = 1000;
                  o.head_limits.max_head_bytes = 1003;
                },
                "--http_max_header_bytes must be at least 1004, got 1003"},
        BadCase{"LineAboveLibraryCap",
                [](HttpEdgeOptions& o) { o.head_limits.max_header_line_bytes = 8193; },
                "must be at most 8192 (cpp-httplib's own limit)"}),
    CaseName<BadCase>);

}  // namespace
}  // namespace refir::bridge
