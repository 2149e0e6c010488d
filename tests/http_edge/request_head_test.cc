// HeadScanner (limits on the request line and headers as bytes arrive) and
// CanonicalizeHead (framing checks, canonical form for httplib).
#include "bridge/http_edge/request_head.h"

#include <ostream>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/common/table_tests.h"

namespace refir::bridge {
namespace {

HeadLimits SmallLimits() {
  HeadLimits limits;
  limits.max_request_line_bytes = 64;
  limits.max_header_line_bytes = 32;
  limits.max_headers = 3;
  limits.max_head_bytes = 128;
  return limits;
}

// Feeds `bytes` one at a time, as a trickling client would send them.
HeadScanner::Result FeedBytewise(HeadScanner& scanner, const std::string& bytes) {
  HeadScanner::Result result = HeadScanner::NeedMore{};
  for (size_t i = 1; i <= bytes.size(); ++i) {
    result = scanner.Feed(absl::string_view(bytes).substr(0, i));
    if (!std::holds_alternative<HeadScanner::NeedMore>(result)) return result;
  }
  return result;
}

int Status(const HeadScanner::Result& result) {
  const auto* reply = std::get_if<HttpReply>(&result);
  return reply == nullptr ? 0 : reply->status;
}

TEST(HeadScannerTest, FindsTheEndOfAHeadAndLeavesTheBody) {
  HeadScanner scanner(SmallLimits());
  const std::string head = "POST /w HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n";
  HeadScanner::Result result = scanner.Feed(head + "{}");
  ASSERT_TRUE(std::holds_alternative<HeadScanner::Complete>(result));
  EXPECT_EQ(std::get<HeadScanner::Complete>(result).head_bytes, head.size());
}

TEST(HeadScannerTest, BytewiseFeedGivesTheSameEnd) {
  HeadScanner scanner(SmallLimits());
  const std::string head = "\r\nGET / HTTP/1.1\nHost: a\n\n";
  HeadScanner::Result result = FeedBytewise(scanner, head);
  ASSERT_TRUE(std::holds_alternative<HeadScanner::Complete>(result));
  EXPECT_EQ(std::get<HeadScanner::Complete>(result).head_bytes, head.size());
}

TEST(HeadScannerTest, RequestLineAtTheLimitPasses) {
  HeadScanner scanner(SmallLimits());
  // 64 bytes with the CRLF.
  const std::string line = "GET /" + std::string(62 - 5 - 9, 'a') + " HTTP/1.1";
  ASSERT_EQ(line.size(), 62u);
  EXPECT_TRUE(
      std::holds_alternative<HeadScanner::Complete>(FeedBytewise(scanner, line + "\r\n\r\n")));
  HeadScanner longer(SmallLimits());
  EXPECT_EQ(Status(FeedBytewise(longer, "GET /a" + line.substr(5) + "\r\n\r\n")), 414);
}

// A head that breaks a limit, fed a byte at a time: refused with `status`
// and `error` before it ends.
struct RefusedHead {
  const char* name;
  std::string bytes;
  size_t max_headers;  // Overrides SmallLimits()'s 3.
  int status;
  const char* error;
  friend void PrintTo(const RefusedHead& head, std::ostream* out) { *out << head.name; }
};

std::string HeadOfTenHeaders() {
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 10; ++i) head += "x: 0123456789abcdef\r\n";
  return head;
}

class HeadScannerRefusalTest : public ::testing::TestWithParam<RefusedHead> {};

TEST_P(HeadScannerRefusalTest, RefusesBeforeTheHeadEnds) {
  HeadLimits limits = SmallLimits();
  limits.max_headers = GetParam().max_headers;
  HeadScanner scanner(limits);
  HeadScanner::Result result = FeedBytewise(scanner, GetParam().bytes);
  ASSERT_EQ(Status(result), GetParam().status);
  EXPECT_EQ(std::get<HttpReply>(result).error, GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Limits, HeadScannerRefusalTest,
    ::testing::Values(
        RefusedHead{"LongRequestLine", "GET /" + std::string(100, 'a'), 3, 414, "uri_too_long"},
        RefusedHead{"NeverEndingHeaderLine", "GET / HTTP/1.1\r\nX: " + std::string(40, 'b'), 3, 431,
                    "header_too_large"},
        RefusedHead{"TooManyHeaders", "GET / HTTP/1.1\r\na:b\r\na:b\r\na:b\r\na:b\r\n", 3, 431,
                    "too_many_headers"},
        RefusedHead{"HeadOverTheTotal", HeadOfTenHeaders(), 100, 431, "header_too_large"}),
    CaseName<RefusedHead>);

std::string Canonical(const std::string& head) {
  auto result = CanonicalizeHead(head);
  if (auto* reply = std::get_if<HttpReply>(&result)) return absl::StrCat("ERROR ", reply->error);
  return std::get<CanonicalHead>(result).text;
}

TEST(CanonicalizeHeadTest, TrimsValuesAndKeepsOrder) {
  EXPECT_EQ(Canonical("POST /w HTTP/1.1\r\nHost:  a \r\nwebhook-id:\tid-1\t\r\n\r\n"),
            "POST /w HTTP/1.1\r\nHost:a\r\nwebhook-id:id-1\r\n\r\n");
}

// The headers of a POST /w head, and its canonical form or "ERROR <error>".
struct HeadersCase {
  const char* name;
  const char* headers;
  const char* canonical;
  friend void PrintTo(const HeadersCase& head, std::ostream* out) { *out << head.name; }
};

class CanonicalizeHeadersTest : public ::testing::TestWithParam<HeadersCase> {};

TEST_P(CanonicalizeHeadersTest, GivesTheCanonicalFormOrTheError) {
  EXPECT_EQ(Canonical(absl::StrCat("POST /w HTTP/1.1\r\n", GetParam().headers, "\r\n")),
            GetParam().canonical);
}

// Chunked in any case becomes chunked; identical Content-Lengths collapse.
INSTANTIATE_TEST_SUITE_P(
    Normalized, CanonicalizeHeadersTest,
    ::testing::Values(
        HeadersCase{"ChunkedInAnyCase", "Transfer-Encoding:  Chunked \r\n",
                    "POST /w HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"},
        HeadersCase{"RepeatedContentLength", "Content-Length: 5\r\ncontent-length: 005\r\n",
                    "POST /w HTTP/1.1\r\nContent-Length: 5\r\n\r\n"},
        HeadersCase{"ContentLengthList", "Content-Length: 5, 5\r\n",
                    "POST /w HTTP/1.1\r\nContent-Length: 5\r\n\r\n"},
        // Empty headers other than the webhook ids pass (httplib ignores them).
        HeadersCase{"OtherEmptyHeader", "X-Empty:\r\n", "POST /w HTTP/1.1\r\nX-Empty:\r\n\r\n"}),
    CaseName<HeadersCase>);

INSTANTIATE_TEST_SUITE_P(
    BadContentLength, CanonicalizeHeadersTest,
    ::testing::Values(
        HeadersCase{"NotANumber", "Content-Length: abc\r\n", "ERROR invalid_content_length"},
        HeadersCase{"Negative", "Content-Length: -1\r\n", "ERROR invalid_content_length"},
        HeadersCase{"Signed", "Content-Length: +1\r\n", "ERROR invalid_content_length"},
        HeadersCase{"Empty", "Content-Length:\r\n", "ERROR invalid_content_length"},
        HeadersCase{"Overflowing", "Content-Length: 99999999999999999999\r\n",
                    "ERROR invalid_content_length"},
        HeadersCase{"TwoDifferent", "Content-Length: 5\r\nContent-Length: 6\r\n",
                    "ERROR invalid_content_length"},
        HeadersCase{"DifferentInAList", "Content-Length: 5, 6\r\n",
                    "ERROR invalid_content_length"}),
    CaseName<HeadersCase>);

INSTANTIATE_TEST_SUITE_P(
    AmbiguousOrUnsupportedFraming, CanonicalizeHeadersTest,
    ::testing::Values(HeadersCase{"LengthAndChunked",
                                  "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                                  "ERROR ambiguous_framing"},
                      HeadersCase{"GzipChunked", "Transfer-Encoding: gzip, chunked\r\n",
                                  "ERROR unsupported_transfer_encoding"},
                      HeadersCase{"ChunkedTwice",
                                  "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                                  "ERROR unsupported_transfer_encoding"},
                      HeadersCase{"Identity", "Transfer-Encoding: identity\r\n",
                                  "ERROR unsupported_transfer_encoding"},
                      HeadersCase{"EmptyEncoding", "Transfer-Encoding:\r\n",
                                  "ERROR unsupported_transfer_encoding"}),
    CaseName<HeadersCase>);

INSTANTIATE_TEST_SUITE_P(
    MalformedHeaderLines, CanonicalizeHeadersTest,
    ::testing::Values(HeadersCase{"NoColon", "no colon here\r\n", "ERROR malformed_header"},
                      HeadersCase{"SpaceBeforeColon", "Content-Length : 5\r\n",
                                  "ERROR malformed_header"},
                      HeadersCase{"Folded", "Host: a\r\n  folded\r\n", "ERROR malformed_header"},
                      HeadersCase{"EmptyName", ": empty name\r\n", "ERROR malformed_header"},
                      HeadersCase{"BareCr", "X-A: a\rb\r\n", "ERROR malformed_header"},
                      HeadersCase{"ParenInName", "X(A): a\r\n", "ERROR malformed_header"}),
    CaseName<HeadersCase>);

INSTANTIATE_TEST_SUITE_P(
    EmptyWebhookId, CanonicalizeHeadersTest,
    ::testing::Values(HeadersCase{"WebhookIdEmpty", "webhook-id:\r\n", "ERROR invalid_header"},
                      HeadersCase{"WebhookIdSpaces", "Webhook-Id:   \r\n", "ERROR invalid_header"},
                      HeadersCase{"SvixIdBlank", "svix-id: \t\r\n", "ERROR invalid_header"}),
    CaseName<HeadersCase>);

}  // namespace
}  // namespace refir::bridge
