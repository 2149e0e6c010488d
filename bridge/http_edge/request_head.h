// RequestHead reading and checking, before cpp-httplib sees a request:
// HeadScanner finds the end of a request head in bytes as they arrive and
// enforces the size limits (request line, one header line, header count,
// whole head), so a hostile client can never make the edge buffer an
// unbounded line; CanonicalizeHead then refuses ambiguous or malformed
// framing (RFC 9112) and rewrites the head into one httplib parses the same
// way the bridge does. Pure functions over bytes; no I/O.
#ifndef REFIR_BRIDGE_HTTP_EDGE_REQUEST_HEAD_H_
#define REFIR_BRIDGE_HTTP_EDGE_REQUEST_HEAD_H_

#include <cstddef>
#include <optional>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "bridge/http_edge/http_reply.h"

namespace refir::bridge {

struct HeadLimits {
  // Line limits count the line end (CRLF); at most cpp-httplib's own caps
  // (8 KiB each), which would otherwise refuse the line themselves.
  // The request line: longer is 414 uri_too_long.
  size_t max_request_line_bytes = 8 * 1024;
  // One header line: longer is 431 header_too_large.
  size_t max_header_line_bytes = 8 * 1024;
  // Header lines: more is 431 too_many_headers.
  size_t max_headers = 100;
  // The whole head, request line and final empty line included: more is 431
  // header_too_large.
  size_t max_head_bytes = 32 * 1024;

  // INVALID_ARGUMENT (naming the flag) unless the lines are 256 to 8192
  // bytes, at least 8 headers are allowed, and the head holds the longest
  // line.
  absl::Status Validate() const;
};

// Finds the end of a request head in a growing buffer. Lines end at LF (a
// CR before it is part of the line end). Feed() scans only what it has not
// scanned before, so trickled bytes cost O(total) in all.
class HeadScanner {
 public:
  explicit HeadScanner(const HeadLimits& limits) : limits_(limits) {}

  struct Complete {
    // Bytes of `buffer` that are the head, its final empty line included.
    size_t head_bytes;
  };
  struct NeedMore {};
  using Result = std::variant<NeedMore, Complete, HttpReply>;

  // `buffer` is everything received for this request so far (the same
  // prefix as at the previous call, plus new bytes). An HttpReply is the
  // refusal (414 or 431) to send before closing.
  Result Feed(absl::string_view buffer);

 private:
  std::optional<HttpReply> CheckLine(size_t line_bytes, bool complete) const;

  const HeadLimits limits_;
  size_t scanned_ = 0;
  size_t line_start_ = 0;
  // Lines completed so far, the request line included.
  size_t lines_ = 0;
};

// A head checked and rewritten: the request line, then each header as
// "name:value" with optional whitespace around the value removed, one
// Content-Length when the sender repeated an identical one, and
// Transfer-Encoding spelled "chunked"; CRLF line ends.
struct CanonicalHead {
  std::string text;
};

// Checks a complete head (as found by HeadScanner) for what httplib would
// misread:
//  - a header line without a colon, with whitespace or other non-token bytes
//    before the colon, an obsolete folded line, or a CR/NUL in a value:
//    400 malformed_header;
//  - Content-Length not a decimal number of at most 18 digits, or repeated
//    with different values: 400 invalid_content_length;
//  - Content-Length together with Transfer-Encoding: 400 ambiguous_framing;
//  - Transfer-Encoding other than a single "chunked" (any case, optional
//    whitespace): 400 unsupported_transfer_encoding;
//  - webhook-id or svix-id empty or only whitespace: 400 invalid_header.
// Every refusal means the connection is closed after the answer.
std::variant<CanonicalHead, HttpReply> CanonicalizeHead(absl::string_view head);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_REQUEST_HEAD_H_
