// Trust at the edge: a table of bad requests sent to the real bridge binary,
// each answered with its exact status and JSON "error", with a good request
// between every two rows; at the end every good request is stored exactly
// once and nothing of the bad ones is.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bridge/verify/crypto.h"
#include "bridge/verify/webhook_verifier.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/bridge_process.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kToken[] = "t0k3n-for-bad-requests";
constexpr char kHmacKey[] = "hmac-key-for-bad-requests";
// The Standard Webhooks key bytes; the source gets "whsec_<base64>".
constexpr char kSwKey[] = "standard-webhooks-key-0123456789";

// Every kind of refusal is reachable through one of these sources. hmac and sw
// get a large failed-verification budget: the rows fail verification there
// about ten times each within seconds, and the good requests between must
// not be answered 429.
std::string SourcesJson(const std::string& token_file, const std::string& hmac_file,
                        const std::string& sw_file) {
  return absl::StrCat(R"({"sources": [
    {"name": "refir", "path": "/webhook"},
    {"name": "token", "path": "/hooks/token",
     "verification": {"kind": "token", "token_header": "Authorization",
                      "secrets": [{"file": ")",
                      token_file, R"("}]}},
    {"name": "hmac", "path": "/hooks/hmac",
     "verification": {"kind": "hmac", "signature_header": "X-Hub-Signature-256",
                      "algorithm": "sha256", "encoding": "hex", "signature_prefix": "sha256=",
                      "secrets": [{"file": ")",
                      hmac_file, R"("}]},
     "limits": {"failed_verification_rate": {"per_second": 100, "burst": 100}}},
    {"name": "sw", "path": "/hooks/sw",
     "verification": {"kind": "standard_webhooks", "tolerance_seconds": 300,
                      "secrets": [{"file": ")",
                      sw_file, R"("}]},
     "limits": {"failed_verification_rate": {"per_second": 100, "burst": 100}}},
    {"name": "small", "path": "/hooks/small",
     "dedup": {"by": "json_field", "json_field": "/id", "window_seconds": 600},
     "limits": {"max_body_bytes": 64, "max_json_depth": 3}},
    {"name": "internal", "path": "/hooks/internal", "allow_cidrs": ["10.0.0.0/8"]},
    {"name": "limited", "path": "/hooks/limited",
     "limits": {"rate": {"per_second": 0.001, "burst": 1}}}
  ]})");
}

std::string HmacHex(absl::string_view key, absl::string_view data) {
  absl::StatusOr<std::string> mac = verify_internal::Hmac(HmacAlgorithm::kSha256, key, data);
  EXPECT_TRUE(mac.ok()) << mac.status();
  return mac.ok() ? absl::BytesToHexString(*mac) : "";
}

// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" under `key`.
std::string SwSignature(absl::string_view key, absl::string_view id, absl::string_view timestamp,
                        absl::string_view body) {
  absl::StatusOr<std::string> mac = verify_internal::Hmac(
      HmacAlgorithm::kSha256, key, absl::StrCat(id, ".", timestamp, ".", body));
  EXPECT_TRUE(mac.ok()) << mac.status();
  return absl::StrCat("v1,", absl::Base64Escape(mac.ok() ? *mac : ""));
}

std::string Now(int64_t offset_seconds = 0) {
  return absl::StrCat(absl::ToUnixSeconds(absl::Now()) + offset_seconds);
}

Headers SwHeaders(absl::string_view id, absl::string_view body, int64_t offset_seconds = 0,
                  absl::string_view key = kSwKey) {
  const std::string timestamp = Now(offset_seconds);
  return {{"webhook-id", std::string(id)},
          {"webhook-timestamp", timestamp},
          {"webhook-signature", SwSignature(key, id, timestamp, body)}};
}

struct RawReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// Sends `request` verbatim on a new connection to 127.0.0.1:`port` and reads the reply until the
// server closes.
RawReply SendRaw(int port, const std::string& request) {
  RawReply reply;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return reply;
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return reply;
  }
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (and close) before reading everything
    sent += static_cast<size_t>(n);
  }

  std::string raw;
  char buffer[65536];
  for (;;) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    raw.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  const size_t end_of_head = raw.find("\r\n\r\n");
  if (end_of_head == std::string::npos) return reply;
  std::vector<std::string> lines = absl::StrSplit(raw.substr(0, end_of_head), "\r\n");
  std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &reply.status)) return reply;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    reply.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  reply.body = raw.substr(end_of_head + 4);
  return reply;
}

struct Request {
  std::string method = "POST";
  std::string path;
  Headers headers;
  std::string body;
  std::string content_type = "application/json";  // "": no Content-Type header
  // Content-Length is the body's size unless `headers` sets one.
};

std::string Serialize(const Request& request) {
  std::string out = absl::StrCat(request.method, " ", request.path,
                                 " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
  bool has_length = false;
  for (const auto& [name, value] : request.headers) {
    if (absl::EqualsIgnoreCase(name, "Content-Length") ||
        absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      has_length = true;
    }
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  if (!request.content_type.empty())
    absl::StrAppend(&out, "Content-Type: ", request.content_type, "\r\n");
  if (!has_length && (request.method != "GET" || !request.body.empty())) {
    absl::StrAppend(&out, "Content-Length: ", request.body.size(), "\r\n");
  }
  absl::StrAppend(&out, "\r\n", request.body);
  return out;
}

struct Row {
  Row(std::string row_name, Request row_request, int row_status, std::string row_error,
      std::string row_allow = "", bool row_retry_after = false, std::string row_raw = "")
      : name(std::move(row_name)),
        request(std::move(row_request)),
        status(row_status),
        error(std::move(row_error)),
        allow(std::move(row_allow)),
        retry_after(row_retry_after),
        raw(std::move(row_raw)) {}

  std::string name;
  Request request;
  int status;
  std::string error;         // the exact "error" value
  std::string allow;         // expected Allow header, when not empty
  bool retry_after = false;  // expects Retry-After (seconds, from the 0.001/s rate)
  // Sent verbatim instead of `request` when not empty.
  std::string raw;
};

Request Post(std::string path, std::string body, Headers headers = {},
             std::string content_type = "application/json") {
  Request request;
  request.path = std::move(path);
  request.body = std::move(body);
  request.headers = std::move(headers);
  request.content_type = std::move(content_type);
  return request;
}

Request WithMethod(std::string method, std::string path) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.content_type.clear();
  return request;
}

std::string Nested(int depth) {
  return absl::StrCat(R"({"a":)", std::string(depth - 1, '['), "1", std::string(depth - 1, ']'),
                      "}");
}

std::vector<Row> BadRows() {
  const std::string ok = R"({"event":"user_added","lead":{"id":1}})";
  const std::string bearer = absl::StrCat("Bearer ", kToken);
  const std::string good_hmac = absl::StrCat("sha256=", HmacHex(kHmacKey, ok));
  std::vector<Row> rows = {
      // Malformed and truncated JSON.
      {"truncated after the brace", Post("/webhook", "{"), 400, "invalid_json"},
      {"truncated in a key", Post("/webhook", R"({"eve)"), 400, "invalid_json"},
      {"truncated after a colon", Post("/webhook", R"({"event":)"), 400, "invalid_json"},
      {"truncated in a string", Post("/webhook", R"({"event":"user_)"), 400, "invalid_json"},
      {"truncated in a nested object", Post("/webhook", R"({"lead":{"id":1)"), 400, "invalid_json"},
      {"truncated escape", Post("/webhook", R"({"a":"\u00)"), 400, "invalid_json"},
      {"trailing garbage", Post("/webhook", R"({"a":1}x)"), 400, "invalid_json"},
      {"two objects", Post("/webhook", R"({"a":1}{"b":2})"), 400, "invalid_json"},
      {"unquoted key", Post("/webhook", R"({a:1})"), 400, "invalid_json"},
      {"single quotes", Post("/webhook", R"({'a':'b'})"), 400, "invalid_json"},
      {"trailing comma", Post("/webhook", R"({"a":1,})"), 400, "invalid_json"},
      {"NaN literal", Post("/webhook", R"({"a":NaN})"), 400, "invalid_json"},
      {"Infinity literal", Post("/webhook", R"({"a":Infinity})"), 400, "invalid_json"},
      {"comment", Post("/webhook", R"({"a":1 /* c */})"), 400, "invalid_json"},
      {"raw control character in a string", Post("/webhook", "{\"a\":\"x\x01y\"}"), 400,
       "invalid_json"},
      {"leading zero", Post("/webhook", R"({"a":01})"), 400, "invalid_json"},
      {"empty body", Post("/webhook", ""), 400, "invalid_json"},
      {"whitespace-only body", Post("/webhook", " \r\n\t "), 400, "invalid_json"},
      // Valid JSON of the wrong type: the body must be an object.
      {"top-level array", Post("/webhook", R"([{"a":1}])"), 400, "invalid_json"},
      {"top-level string", Post("/webhook", R"("hello")"), 400, "invalid_json"},
      {"top-level number", Post("/webhook", "42"), 400, "invalid_json"},
      {"top-level null", Post("/webhook", "null"), 400, "invalid_json"},
      {"top-level true", Post("/webhook", "true"), 400, "invalid_json"},
      // Invalid UTF-8 inside strings.
      {"lone continuation byte", Post("/webhook", "{\"a\":\"\x80\"}"), 400, "invalid_json"},
      {"overlong encoding", Post("/webhook", "{\"a\":\"\xc0\xaf\"}"), 400, "invalid_json"},
      {"truncated multibyte", Post("/webhook", "{\"a\":\"\xe2\x82\"}"), 400, "invalid_json"},
      {"encoded surrogate", Post("/webhook", "{\"a\":\"\xed\xa0\x80\"}"), 400, "invalid_json"},
      {"lone surrogate escape", Post("/webhook", R"({"a":"\ud800"})"), 400, "invalid_json"},
      {"invalid UTF-8 in a key", Post("/webhook", "{\"\xff\":1}"), 400, "invalid_json"},
      // Huge numbers (1e400, 400 digits) are valid JSON and accepted with
      // their exact text since issue 17: ingest_e2e_test.cc.
      // Limits.
      {"nesting beyond the source's depth", Post("/hooks/small", Nested(4)), 400, "json_too_deep"},
      {"30 levels: the size limit comes first", Post("/hooks/small", Nested(30)), 413,
       "payload_too_large"},
      {"nesting beyond the default depth of 64", Post("/webhook", Nested(70)), 400,
       "json_too_deep"},
      {"body over the small source's 64 bytes",
       Post("/hooks/small", absl::StrCat(R"({"id":"x","pad":")", std::string(60, 'p'), R"("})")),
       413, "payload_too_large"},
      {"body over the default 1 MiB",
       Post("/webhook", absl::StrCat(R"({"pad":")", std::string(1 << 20, 'p'), R"("})")), 413,
       "payload_too_large"},

      // Framing (RFC 9112 6): refused before the body is read; the
      // connection is closed so the body is never read as a request.
      {"unparsable Content-Length", Post("/webhook", "{}", {{"Content-Length", "abc"}}), 400,
       "invalid_content_length"},
      {"negative Content-Length", Post("/webhook", "{}", {{"Content-Length", "-1"}}), 400,
       "invalid_content_length"},
      {"Content-Length over 18 digits",
       Post("/webhook", "{}", {{"Content-Length", "1234567890123456789"}}), 400,
       "invalid_content_length"},
      {"two different Content-Lengths",
       Post("/webhook", "{}", {{"Content-Length", "2"}, {"Content-Length", "3"}}), 400,
       "invalid_content_length"},
      {"Content-Length and Transfer-Encoding",
       Post("/webhook", "2\r\n{}\r\n0\r\n\r\n",
            {{"Content-Length", "12"}, {"Transfer-Encoding", "chunked"}}),
       400, "ambiguous_framing"},
      {"Transfer-Encoding gzip, chunked",
       Post("/webhook", "2\r\n{}\r\n0\r\n\r\n", {{"Transfer-Encoding", "gzip, chunked"}}), 400,
       "unsupported_transfer_encoding"},
      {"Transfer-Encoding identity", Post("/webhook", "{}", {{"Transfer-Encoding", "identity"}}),
       400, "unsupported_transfer_encoding"},
      // Content types.
      {"missing Content-Type", Post("/webhook", ok, {}, ""), 415, "unsupported_media_type"},
      {"text/plain", Post("/webhook", ok, {}, "text/plain"), 415, "unsupported_media_type"},
      {"multipart/form-data",
       Post("/webhook", "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n",
            {}, "multipart/form-data; boundary=b"),
       415, "unsupported_media_type"},
      {"application/x-www-form-urlencoded",
       Post("/webhook", "a=1", {}, "application/x-www-form-urlencoded"), 415,
       "unsupported_media_type"},
      // webhook-id header.
      {"empty webhook-id", Post("/webhook", ok, {{"webhook-id", ""}}), 400, "invalid_header"},
      {"whitespace-only webhook-id", Post("/webhook", ok, {{"webhook-id", "  \t "}}), 400,
       "invalid_header"},

      {"webhook-id too long", Post("/webhook", ok, {{"webhook-id", std::string(300, 'i')}}), 400,
       "invalid_header"},
      {"webhook-id with a space", Post("/webhook", ok, {{"webhook-id", "a b"}}), 400,
       "invalid_header"},
      {"webhook-id with a control character", Post("/webhook", ok, {{"webhook-id", "a\x01z"}}), 400,
       "invalid_header"},
      {"webhook-id with a non-ASCII byte", Post("/webhook", ok, {{"webhook-id", "caf\xc3\xa9"}}),
       400, "invalid_header"},
      {"two different webhook-ids",
       Post("/webhook", ok, {{"webhook-id", "one"}, {"webhook-id", "two"}}), 400, "invalid_header"},
      // Malformed HTTP.
      {"header line without a colon",
       {},
       400,
       "malformed_header",
       "",
       false,
       "POST /webhook HTTP/1.1\r\nHost: a\r\nno colon here\r\nContent-Type: "
       "application/json\r\nContent-Length: 2\r\n\r\n{}"},
      {"whitespace between a header name and its colon",
       {},
       400,
       "malformed_header",
       "",
       false,
       "POST /webhook HTTP/1.1\r\nHost: a\r\nContent-Type : "
       "application/json\r\nContent-Length: 2\r\n\r\n{}"},
      {"folded header line",
       {},
       400,
       "malformed_header",
       "",
       false,
       "POST /webhook HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\nContent-Type: "
       "application/json\r\nContent-Length: 2\r\n\r\n{}"},
      {"header line over 8 KiB", Post("/webhook", ok, {{"X-Big", std::string(9000, 'h')}}), 431,
       "header_too_large"},
      {"head over 32 KiB",
       Post("/webhook", ok,
            {{"X-A", std::string(8000, 'a')},
             {"X-B", std::string(8000, 'b')},
             {"X-C", std::string(8000, 'c')},
             {"X-D", std::string(8000, 'd')},
             {"X-E", std::string(8000, 'e')}}),
       431, "header_too_large"},
      {"garbage request line",
       {},
       400,
       "bad_request",
       "",
       false,
       "HELLO\r\nConnection: close\r\n\r\n"},
      {"URI over the limit", WithMethod("GET", "/" + std::string(70000, 'u')), 414, "uri_too_long"},
      // Methods and paths.
      {"GET on /webhook", WithMethod("GET", "/webhook"), 405, "method_not_allowed", "POST"},
      {"PUT on /webhook", Post("/webhook", ok), 405, "method_not_allowed", "POST"},
      {"DELETE on /hooks/token", WithMethod("DELETE", "/hooks/token"), 405, "method_not_allowed",
       "POST"},
      {"PATCH on /hooks/hmac", Post("/hooks/hmac", ok), 405, "method_not_allowed", "POST"},
      {"OPTIONS on /webhook", WithMethod("OPTIONS", "/webhook"), 405, "method_not_allowed", "POST"},
      {"unknown path", Post("/hooks/nope", ok), 404, "not_found"},
      {"root path", Post("/", ok), 404, "not_found"},
      {"trailing slash", Post("/webhook/", ok), 404, "not_found"},
      {"path in another case", Post("/WEBHOOK", ok), 404, "not_found"},
      {"GET on an unknown path", WithMethod("GET", "/nope"), 404, "not_found"},
      // Token source.
      {"token missing", Post("/hooks/token", ok), 401, "unauthenticated"},
      {"token wrong", Post("/hooks/token", ok, {{"Authorization", "Bearer wrong"}}), 401,
       "unauthenticated"},
      {"token with a suffix", Post("/hooks/token", ok, {{"Authorization", bearer + "x"}}), 401,
       "unauthenticated"},
      {"token empty", Post("/hooks/token", ok, {{"Authorization", ""}}), 401, "unauthenticated"},
      {"bad JSON with a wrong token is 401, not 400",
       Post("/hooks/token", "{", {{"Authorization", "Bearer wrong"}}), 401, "unauthenticated"},
      {"good token, bad JSON", Post("/hooks/token", "{", {{"Authorization", bearer}}), 400,
       "invalid_json"},
      // HMAC source.
      {"HMAC missing", Post("/hooks/hmac", ok), 401, "unauthenticated"},
      {"HMAC of another body",
       Post("/hooks/hmac", ok,
            {{"X-Hub-Signature-256", absl::StrCat("sha256=", HmacHex(kHmacKey, "{}"))}}),
       401, "unauthenticated"},
      {"HMAC under another key",
       Post("/hooks/hmac", ok,
            {{"X-Hub-Signature-256", absl::StrCat("sha256=", HmacHex("wrong", ok))}}),
       401, "unauthenticated"},
      {"HMAC without its prefix",
       Post("/hooks/hmac", ok, {{"X-Hub-Signature-256", HmacHex(kHmacKey, ok)}}), 401,
       "unauthenticated"},
      {"HMAC with another prefix",
       Post("/hooks/hmac", ok,
            {{"X-Hub-Signature-256", absl::StrCat("sha1=", HmacHex(kHmacKey, ok))}}),
       401, "unauthenticated"},
      {"HMAC not hex",
       Post("/hooks/hmac", ok, {{"X-Hub-Signature-256", "sha256=" + std::string(64, 'z')}}), 401,
       "unauthenticated"},
      {"HMAC truncated",
       Post("/hooks/hmac", ok,
            {{"X-Hub-Signature-256", good_hmac.substr(0, good_hmac.size() - 2)}}),
       401, "unauthenticated"},
      {"HMAC of the body plus a trailing newline",
       Post("/hooks/hmac", ok + "\n", {{"X-Hub-Signature-256", good_hmac}}), 401,
       "unauthenticated"},
      {"HMAC in the wrong header", Post("/hooks/hmac", ok, {{"X-Signature", good_hmac}}), 401,
       "unauthenticated"},
      // Standard Webhooks source.
      {"Standard Webhooks tampered body",
       Post("/hooks/sw", R"({"a":2})", SwHeaders("sw-bad-1", R"({"a":1})")), 401,
       "unauthenticated"},
      {"Standard Webhooks wrong secret",
       Post("/hooks/sw", ok, SwHeaders("sw-bad-2", ok, 0, "another-key")), 401, "unauthenticated"},
      {"Standard Webhooks stale timestamp", Post("/hooks/sw", ok, SwHeaders("sw-bad-3", ok, -3600)),
       401, "unauthenticated"},
      {"Standard Webhooks future timestamp", Post("/hooks/sw", ok, SwHeaders("sw-bad-4", ok, 3600)),
       401, "unauthenticated"},
      {"Standard Webhooks signature missing",
       Post("/hooks/sw", ok, {{"webhook-id", "sw-bad-5"}, {"webhook-timestamp", Now()}}), 401,
       "unauthenticated"},
      {"Standard Webhooks timestamp missing",
       Post("/hooks/sw", ok,
            {{"webhook-id", "sw-bad-6"},
             {"webhook-signature", SwSignature(kSwKey, "sw-bad-6", Now(), ok)}}),
       401, "unauthenticated"},
      {"Standard Webhooks id missing",
       Post("/hooks/sw", ok,
            {{"webhook-timestamp", Now()},
             {"webhook-signature", SwSignature(kSwKey, "", Now(), ok)}}),
       401, "unauthenticated"},
      {"Standard Webhooks v2 signature only",
       Post("/hooks/sw", ok,
            {{"webhook-id", "sw-bad-8"},
             {"webhook-timestamp", Now()},
             {"webhook-signature", "v2," + SwSignature(kSwKey, "sw-bad-8", Now(), ok).substr(3)}}),
       401, "unauthenticated"},
      {"Standard Webhooks timestamp not a number",
       Post("/hooks/sw", ok,
            {{"webhook-id", "sw-bad-9"},
             {"webhook-timestamp", "soon"},
             {"webhook-signature", SwSignature(kSwKey, "sw-bad-9", "soon", ok)}}),
       401, "unauthenticated"},
      {"Standard Webhooks signed for another id",
       Post("/hooks/sw", ok,
            {{"webhook-id", "sw-bad-10"},
             {"webhook-timestamp", Now()},
             {"webhook-signature", SwSignature(kSwKey, "sw-other", Now(), ok)}}),
       401, "unauthenticated"},
      // Dedup field of the wrong type on the json_field source.
      {"dedup field is an object", Post("/hooks/small", R"({"id":{"x":1}})"), 400,
       "invalid_dedup_field"},
      {"dedup field is an array", Post("/hooks/small", R"({"id":[1]})"), 400,
       "invalid_dedup_field"},
      {"dedup field is a boolean", Post("/hooks/small", R"({"id":true})"), 400,
       "invalid_dedup_field"},
      // Allowlist and rate limit (the limited source's one token is taken by
      // a good request just before these rows).
      {"client outside the allowlist", Post("/hooks/internal", ok), 403, "forbidden"},
      {"outside the allowlist, even with bad JSON", Post("/hooks/internal", "{"), 403, "forbidden"},
      {"burst exceeded", Post("/hooks/limited", ok), 429, "rate_limited", "", true},
      {"burst exceeded, bad JSON too", Post("/hooks/limited", "{"), 429, "rate_limited", "", true},
  };
  // Fix up the methods of the rows that reuse Post() for their body.
  for (Row& row : rows) {
    if (row.name == "PUT on /webhook") row.request.method = "PUT";
    if (row.name == "PATCH on /hooks/hmac") row.request.method = "PATCH";
  }
  Headers many;
  for (int i = 0; i < 101; ++i) many.emplace_back(absl::StrCat("X-H", i), "1");
  rows.emplace_back("101 header lines", Post("/webhook", ok, many), 431, "too_many_headers");
  return rows;
}

class BadRequestsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = MakeTempDir();
    const std::string sources = WriteFile(
        dir, "sources.json",
        SourcesJson(WriteFile(dir, "token", absl::StrCat(kToken, "\n")),
                    WriteFile(dir, "hmac", kHmacKey),
                    WriteFile(dir, "whsec", absl::StrCat("whsec_", absl::Base64Escape(kSwKey)))));
    bridge_ = std::make_unique<BridgeProcess>(
        dir, std::vector<std::string>{absl::StrCat("--sources_file=", sources)});
    ASSERT_TRUE(bridge_->Start().ok());
    stub_ = MakeStub(bridge_->grpc_target());
  }

  // A good request for the n-th gap, rotating across the sources; asserts
  // 200 and records the stored event's id.
  void SendGood(int n, const std::string& after) {
    const std::string id = absl::StrCat("good-", n);
    const std::string body = absl::StrCat(R"({"id":")", id, R"("})");
    Request request;
    switch (n % 5) {
      case 0:
        request = Post("/webhook", body, {{"webhook-id", id}});
        break;
      case 1:
        request = Post("/hooks/token", body,
                       {{"webhook-id", id}, {"Authorization", absl::StrCat("Bearer ", kToken)}});
        break;
      case 2:
        request = Post("/hooks/hmac", body,
                       {{"webhook-id", id},
                        {"X-Hub-Signature-256", absl::StrCat("sha256=", HmacHex(kHmacKey, body))}});
        break;
      case 3:
        request = Post("/hooks/sw", body, SwHeaders(id, body));
        break;
      default:
        request = Post("/hooks/small", body, {{"webhook-id", id}});
        break;
    }
    Expect200(request, absl::StrCat(id, " to ", request.path, " after row \"", after, "\""));
  }

  void Expect200(const Request& request, const std::string& what) {
    RawReply reply = SendRaw(bridge_->http_port(), Serialize(request));
    ASSERT_EQ(reply.status, 200) << what << ": " << reply.body;
    nlohmann::json json = nlohmann::json::parse(reply.body, nullptr, false);
    ASSERT_TRUE(json.is_object()) << what << ": " << reply.body;
    ASSERT_FALSE(json.contains("duplicate")) << what << ": " << reply.body;
    ASSERT_TRUE(json["id"].is_string()) << what << ": " << reply.body;
    good_ids_.push_back(json["id"].get<std::string>());
  }

  void CheckRow(const Row& row) {
    SCOPED_TRACE(absl::StrCat("row \"", row.name, "\""));
    RawReply reply =
        SendRaw(bridge_->http_port(), row.raw.empty() ? Serialize(row.request) : row.raw);
    EXPECT_EQ(reply.status, row.status) << row.name << ": " << reply.body;
    EXPECT_EQ(reply.headers["content-type"], "application/json") << row.name;
    nlohmann::json json = nlohmann::json::parse(reply.body, nullptr, false);
    ASSERT_TRUE(json.is_object()) << row.name << ": body is not a JSON object: " << reply.body;
    EXPECT_EQ(json.value("error", ""), row.error) << row.name << ": " << reply.body;
    if (row.status == 401) {
      EXPECT_FALSE(json.contains("detail")) << row.name << ": 401 must not explain: " << reply.body;
      EXPECT_EQ(json.size(), 1u) << row.name << ": " << reply.body;
    }
    if (!row.allow.empty()) {
      EXPECT_EQ(reply.headers["allow"], row.allow) << row.name;
    }
    if (row.retry_after) {
      int seconds = 0;
      ASSERT_TRUE(absl::SimpleAtoi(reply.headers["retry-after"], &seconds))
          << row.name << ": Retry-After \"" << reply.headers["retry-after"] << "\"";
      // One token per 1000 s: the wait is close to 1000 s.
      EXPECT_GT(seconds, 900) << row.name;
      EXPECT_LE(seconds, 1000) << row.name;
    }
  }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<v1::EventStream::Stub> stub_;
  std::vector<std::string> good_ids_;
};

TEST_F(BadRequestsE2ETest, EveryBadRequestIsRefusedExactlyAndGoodOnesAreStoredOnce) {
  const std::vector<Row> rows = BadRows();
  ASSERT_GE(rows.size(), 40u);
  int n = 0;
  SendGood(n++, "(start)");
  for (const Row& row : rows) {
    if (row.name == "burst exceeded") {
      // Takes the limited source's only token.
      Expect200(Post("/hooks/limited", R"({"id":"limited"})"), "the limited source's one token");
    }
    CheckRow(row);
    SendGood(n++, row.name);
  }
  // The rate-limited source refuses GET with 405 without being asked for a
  // token, and other sources are unaffected by its limit.
  CheckRow({"GET on the limited source", WithMethod("GET", "/hooks/limited"), 405,
            "method_not_allowed", "POST"});
  SendGood(n++, "GET on the limited source");

  std::vector<v1::Event> events = ListAllEvents(*stub_);
  std::multiset<std::string> stored;
  for (const v1::Event& event : events) stored.insert(event.id());
  const std::multiset<std::string> expected(good_ids_.begin(), good_ids_.end());
  EXPECT_EQ(events.size(), good_ids_.size());
  EXPECT_EQ(stored, expected);
  std::cout << rows.size() + 1 << " bad rows, " << good_ids_.size() << " good requests\n";
}

}  // namespace
}  // namespace refir::bridge::testing
