#include "bridge/http_edge/request_head.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace refir::bridge {
namespace {

HttpReply TooLarge(absl::string_view error, absl::string_view detail) {
  return JsonErrorReply(431, error, detail);
}

HttpReply Malformed(absl::string_view detail) {
  return JsonErrorReply(400, "malformed_header", detail);
}

HttpReply InvalidContentLength(absl::string_view detail) {
  return JsonErrorReply(400, "invalid_content_length", detail);
}

// RFC 9110 5.6.2 tchar.
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::StrContains("!#$%&'*+-.^_`|~", c);
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

absl::string_view TrimOws(absl::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// Lines of `head` without their line ends, up to (not including) the empty
// line that ends it; leading empty lines (RFC 9112 2.2) skipped.
std::vector<absl::string_view> HeadLines(absl::string_view head) {
  std::vector<absl::string_view> lines;
  for (absl::string_view line : absl::StrSplit(head, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    if (line.empty()) {
      if (lines.empty()) continue;
      break;
    }
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

std::optional<HttpReply> HeadScanner::CheckLine(size_t line_bytes, bool complete) const {
  // Limits count the line end (CRLF), as cpp-httplib's own 8 KiB caps do. An
  // incomplete line may already hold the CR.
  const size_t with_end = line_bytes + (complete ? 2 : 1);
  if (lines_ == 0 && with_end > limits_.max_request_line_bytes) {
    return JsonErrorReply(
        414, "uri_too_long",
        absl::StrCat("the request line is longer than ", limits_.max_request_line_bytes,
                     " bytes (--http_max_request_line_bytes)"));
  }
  if (lines_ > 0 && with_end > limits_.max_header_line_bytes) {
    return TooLarge("header_too_large",
                    absl::StrCat("a header line is longer than ", limits_.max_header_line_bytes,
                                 " bytes (--http_max_header_line_bytes)"));
  }
  return std::nullopt;
}

HeadScanner::Result HeadScanner::Feed(absl::string_view buffer) {
  while (scanned_ < buffer.size()) {
    const size_t newline = buffer.find('\n', scanned_);
    if (newline == absl::string_view::npos) {
      scanned_ = buffer.size();
      break;
    }
    size_t end = newline;
    if (end > line_start_ && buffer[end - 1] == '\r') --end;
    const size_t line_bytes = end - line_start_;
    if (std::optional<HttpReply> refused = CheckLine(line_bytes, /*complete=*/true)) {
      return *std::move(refused);
    }
    scanned_ = newline + 1;
    line_start_ = scanned_;
    if (scanned_ > limits_.max_head_bytes) break;
    if (line_bytes == 0) {
      // Empty lines before the request line are ignored (RFC 9112 2.2).
      if (lines_ > 0) return Complete{scanned_};
      continue;
    }
    ++lines_;
    if (lines_ - 1 > limits_.max_headers) {
      return TooLarge("too_many_headers",
                      absl::StrCat("the request has more than ", limits_.max_headers,
                                   " header lines (--http_max_headers)"));
    }
  }
  if (std::optional<HttpReply> refused =
          CheckLine(buffer.size() - line_start_, /*complete=*/false)) {
    return *std::move(refused);
  }
  if (buffer.size() > limits_.max_head_bytes) {
    return TooLarge("header_too_large",
                    absl::StrCat("the request line and headers are longer than ",
                                 limits_.max_head_bytes, " bytes (--http_max_header_bytes)"));
  }
  return NeedMore{};
}

std::variant<CanonicalHead, HttpReply> CanonicalizeHead(absl::string_view head) {
  const std::vector<absl::string_view> lines = HeadLines(head);
  CanonicalHead canonical;
  if (lines.empty()) return JsonErrorReply(400, "bad_request", "malformed HTTP request");
  canonical.text.reserve(head.size() + 32);
  absl::StrAppend(&canonical.text, lines[0], "\r\n");
  std::optional<uint64_t> content_length;
  std::vector<std::string> codings;
  bool has_transfer_encoding = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    const absl::string_view line = lines[i];
    if (IsOws(line.front())) {
      return Malformed("a header line starts with whitespace (obsolete line folding)");
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) return Malformed("a header line has no colon");
    const absl::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (IsOws(c)) {
        return Malformed(absl::StrCat("whitespace between the header name and the colon in \"",
                                      absl::CEscape(name.substr(0, 64)), "\""));
      }
      if (!IsTokenChar(c)) {
        return Malformed(absl::StrCat("the header name \"", absl::CEscape(name.substr(0, 64)),
                                      "\" has a character not allowed in a name"));
      }
    }
    if (name.empty()) return Malformed("a header line has an empty name");
    const absl::string_view value = TrimOws(line.substr(colon + 1));
    if (absl::StrContains(value, '\r') || absl::StrContains(value, '\0')) {
      return Malformed(absl::StrCat("the value of header \"", name, "\" has a CR or NUL byte"));
    }
    if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      // RFC 9110 8.6: a list of identical values may stand for one.
      for (absl::string_view element : absl::StrSplit(value, ',')) {
        element = TrimOws(element);
        uint64_t length = 0;
        if (element.empty() || element.size() > 18 ||
            !std::all_of(
                element.begin(), element.end(),
                [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) ||
            !absl::SimpleAtoi(element, &length)) {
          return InvalidContentLength(
              absl::StrCat("Content-Length \"", absl::CEscape(value.substr(0, 64)),
                           "\" is not a decimal number of at most 18 digits"));
        }
        if (content_length.has_value() && *content_length != length) {
          return InvalidContentLength("Content-Length is repeated with different values");
        }
        content_length = length;
      }
      continue;
    }
    if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      has_transfer_encoding = true;
      for (absl::string_view element : absl::StrSplit(value, ',')) {
        element = TrimOws(element);
        if (!element.empty()) codings.push_back(absl::AsciiStrToLower(element));
      }
      continue;
    }
    if ((absl::EqualsIgnoreCase(name, "webhook-id") || absl::EqualsIgnoreCase(name, "svix-id")) &&
        value.empty()) {
      return JsonErrorReply(400, "invalid_header",
                            absl::StrCat(absl::AsciiStrToLower(name), " header is empty"));
    }
    // No space after the colon: never longer than the line received.
    absl::StrAppend(&canonical.text, name, ":", value, "\r\n");
  }
  if (has_transfer_encoding) {
    if (content_length.has_value()) {
      return JsonErrorReply(400, "ambiguous_framing",
                            "the request has both Content-Length and Transfer-Encoding");
    }
    if (codings.size() != 1 || codings[0] != "chunked") {
      return JsonErrorReply(400, "unsupported_transfer_encoding",
                            absl::StrCat("Transfer-Encoding \"",
                                         absl::CEscape(absl::StrJoin(codings, ", ").substr(0, 128)),
                                         "\" is not supported: only chunked"));
    }
    absl::StrAppend(&canonical.text, "Transfer-Encoding: chunked\r\n");
  }
  if (content_length.has_value()) {
    absl::StrAppend(&canonical.text, "Content-Length: ", *content_length, "\r\n");
  }
  canonical.text.append("\r\n");
  return canonical;
}

absl::Status HeadLimits::Validate() const {
  struct Limit {
    const char* flag;
    size_t value;
    size_t min;
  };
  for (const Limit& limit : {
           Limit{"http_max_request_line_bytes", max_request_line_bytes, 256},
           Limit{"http_max_header_line_bytes", max_header_line_bytes, 256},
           Limit{"http_max_headers", max_headers, 8},
           Limit{"http_max_header_bytes", max_head_bytes,
                 std::max(max_request_line_bytes, max_header_line_bytes) + 4},
       }) {
    if (limit.value < limit.min) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", limit.flag, " must be at least ", limit.min, ", got ", limit.value));
    }
  }
  // cpp-httplib refuses longer lines itself, with a less specific answer.
  constexpr size_t kLibraryLineCap = 8192;
  if (max_request_line_bytes > kLibraryLineCap || max_header_line_bytes > kLibraryLineCap) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--http_max_request_line_bytes and --http_max_header_line_bytes must be at most ",
        kLibraryLineCap, " (cpp-httplib's own limit)"));
  }
  return absl::OkStatus();
}

}  // namespace refir::bridge
