// HeadScanner (limits on the request line and headers as bytes arrive) and
// CanonicalizeHead (framing checks, canonical form for httplib).
#include "bridge/http_edge/request_head.h"

#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

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

TEST(HeadScannerTest, LongRequestLineIs414BeforeItEnds) {
  HeadScanner scanner(SmallLimits());
  HeadScanner::Result result = FeedBytewise(scanner, "GET /" + std::string(100, 'a'));
  EXPECT_EQ(Status(result), 414);
  EXPECT_EQ(std::get<HttpReply>(result).error, "uri_too_long");
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

TEST(HeadScannerTest, NeverEndingHeaderLineIs431) {
  HeadScanner scanner(SmallLimits());
  HeadScanner::Result result =
      FeedBytewise(scanner, "GET / HTTP/1.1\r\nX: " + std::string(40, 'b'));
  EXPECT_EQ(Status(result), 431);
  EXPECT_EQ(std::get<HttpReply>(result).error, "header_too_large");
}

TEST(HeadScannerTest, TooManyHeadersIs431) {
  HeadScanner scanner(SmallLimits());
  HeadScanner::Result result =
      FeedBytewise(scanner, "GET / HTTP/1.1\r\na:b\r\na:b\r\na:b\r\na:b\r\n");
  EXPECT_EQ(Status(result), 431);
  EXPECT_EQ(std::get<HttpReply>(result).error, "too_many_headers");
}

TEST(HeadScannerTest, HeadOverTheTotalIs431) {
  HeadLimits limits = SmallLimits();
  limits.max_headers = 100;
  HeadScanner scanner(limits);
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 10; ++i) head += "x: 0123456789abcdef\r\n";
  HeadScanner::Result result = FeedBytewise(scanner, head);
  EXPECT_EQ(Status(result), 431);
  EXPECT_EQ(std::get<HttpReply>(result).error, "header_too_large");
}

std::string Canonical(const std::string& head) {
  auto result = CanonicalizeHead(head);
  if (auto* reply = std::get_if<HttpReply>(&result)) return absl::StrCat("ERROR ", reply->error);
  return std::get<CanonicalHead>(result).text;
}

std::string ErrorOf(const std::string& headers) {
  return Canonical(absl::StrCat("POST /w HTTP/1.1\r\n", headers, "\r\n"));
}

TEST(CanonicalizeHeadTest, TrimsValuesAndKeepsOrder) {
  EXPECT_EQ(Canonical("POST /w HTTP/1.1\r\nHost:  a \r\nwebhook-id:\tid-1\t\r\n\r\n"),
            "POST /w HTTP/1.1\r\nHost:a\r\nwebhook-id:id-1\r\n\r\n");
}

TEST(CanonicalizeHeadTest, ChunkedInAnyCaseBecomesChunked) {
  EXPECT_EQ(ErrorOf("Transfer-Encoding:  Chunked \r\n"),
            "POST /w HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST(CanonicalizeHeadTest, IdenticalContentLengthsCollapse) {
  EXPECT_EQ(ErrorOf("Content-Length: 5\r\ncontent-length: 005\r\n"),
            "POST /w HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(ErrorOf("Content-Length: 5, 5\r\n"), "POST /w HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
}

TEST(CanonicalizeHeadTest, RefusesBadContentLength) {
  EXPECT_EQ(ErrorOf("Content-Length: abc\r\n"), "ERROR invalid_content_length");
  EXPECT_EQ(ErrorOf("Content-Length: -1\r\n"), "ERROR invalid_content_length");
  EXPECT_EQ(ErrorOf("Content-Length: +1\r\n"), "ERROR invalid_content_length");
  EXPECT_EQ(ErrorOf("Content-Length:\r\n"), "ERROR invalid_content_length");
  EXPECT_EQ(ErrorOf("Content-Length: 99999999999999999999\r\n"), "ERROR invalid_content_length");
  EXPECT_EQ(ErrorOf("Content-Length: 5\r\nContent-Length: 6\r\n"), "ERROR invalid_content_length");
  EXPECT_EQ(ErrorOf("Content-Length: 5, 6\r\n"), "ERROR invalid_content_length");
}

TEST(CanonicalizeHeadTest, RefusesAmbiguousOrUnsupportedFraming) {
  EXPECT_EQ(ErrorOf("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
            "ERROR ambiguous_framing");
  EXPECT_EQ(ErrorOf("Transfer-Encoding: gzip, chunked\r\n"), "ERROR unsupported_transfer_encoding");
  EXPECT_EQ(ErrorOf("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
            "ERROR unsupported_transfer_encoding");
  EXPECT_EQ(ErrorOf("Transfer-Encoding: identity\r\n"), "ERROR unsupported_transfer_encoding");
  EXPECT_EQ(ErrorOf("Transfer-Encoding:\r\n"), "ERROR unsupported_transfer_encoding");
}

TEST(CanonicalizeHeadTest, RefusesMalformedHeaderLines) {
  EXPECT_EQ(ErrorOf("no colon here\r\n"), "ERROR malformed_header");
  EXPECT_EQ(ErrorOf("Content-Length : 5\r\n"), "ERROR malformed_header");
  EXPECT_EQ(ErrorOf("Host: a\r\n  folded\r\n"), "ERROR malformed_header");
  EXPECT_EQ(ErrorOf(": empty name\r\n"), "ERROR malformed_header");
  EXPECT_EQ(ErrorOf("X-A: a\rb\r\n"), "ERROR malformed_header");
  EXPECT_EQ(ErrorOf("X(A): a\r\n"), "ERROR malformed_header");
}

TEST(CanonicalizeHeadTest, RefusesAnEmptyWebhookId) {
  EXPECT_EQ(ErrorOf("webhook-id:\r\n"), "ERROR invalid_header");
  EXPECT_EQ(ErrorOf("Webhook-Id:   \r\n"), "ERROR invalid_header");
  EXPECT_EQ(ErrorOf("svix-id: \t\r\n"), "ERROR invalid_header");
  // Other empty headers pass (httplib ignores them).
  EXPECT_EQ(ErrorOf("X-Empty:\r\n"), "POST /w HTTP/1.1\r\nX-Empty:\r\n\r\n");
}

}  // namespace
}  // namespace refir::bridge
