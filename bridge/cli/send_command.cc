// `refir-bridge send`: posts realistic Refir webhooks (or a file) to a
// bridge, signed the way a source of the sources file verifies them, and
// prints each answer. The webhook-side twin of `tail`.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/cli/client_command.h"
#include "bridge/common/read_small_file.h"
#include "bridge/common/uuid7.h"
#include "bridge/sources/source_config.h"
#include "bridge/verify/webhook_signer.h"
#include "httplib.h"

namespace refir::bridge::cli {
namespace {

constexpr absl::string_view kUsage =
    "Usage: refir-bridge send [--url=URL] [--kind=referral|user_added] [--count=N]\n"
    "                         [--file=BODY.json] [--sources_file=F [--source=NAME]]\n"
    "  Posts N webhooks (default 1): realistic Refir samples of the kind, or the file's\n"
    "  bytes, signed the way the source NAME of the sources file verifies them (token,\n"
    "  HMAC or Standard Webhooks); prints each status and answer. Exit 1 when any answer\n"
    "  is not 2xx or the bridge cannot be reached. --url defaults to\n"
    "  http://127.0.0.1:8080 followed by the source's path (/webhook without a source).";

constexpr size_t kMaxFileBytes = 16 << 20;
const char* const kNames[] = {"Ana", "Bo", "Chen", "Dana", "Eli", "Fatima", "Goran", "Hana"};

// The n-th sample body of `kind`, shaped like Refir's (lead, referrer,
// message, campaign); ids and names vary with n.
std::string SampleBody(absl::string_view kind, uint64_t n) {
  const std::string lead = kNames[n % 8];
  const std::string referrer = kNames[(n + 3) % 8];
  const std::string lead_json = absl::StrFormat(
      R"({"id":%d,"email":"%s@example.com","name":"%s","referral_code":"%s%d","referral_link":"https://refir.example/r/%s%d"})",
      1000 + n, absl::AsciiStrToLower(lead), lead, absl::AsciiStrToUpper(lead), n,
      absl::AsciiStrToUpper(lead), n);
  const std::string campaign = R"({"id":"spring-2026","name":"Spring 2026"})";
  if (kind == "user_added") {
    return absl::StrFormat(
        R"({"event":"user_added","lead":%s,"message":"%s joined the campaign","campaign":%s})",
        lead_json, lead, campaign);
  }
  return absl::StrFormat(
      R"({"event":"referral_created","lead":%s,"referrer":{"id":%d,"email":"%s@example.com","name":"%s"},"message":"%s joined through %s","campaign":%s})",
      lead_json, 2000 + n, absl::AsciiStrToLower(referrer), referrer, lead, referrer, campaign);
}

std::string PercentEncode(absl::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

// "http://host:port" and "/path?query" of `url`; false when it is not an
// http(s) URL.
bool SplitUrl(const std::string& url, std::string* origin, std::string* path) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return false;
  const size_t path_start = url.find('/', scheme_end + 3);
  *origin = url.substr(0, path_start);
  *path = path_start == std::string::npos ? "/" : url.substr(path_start);
  return origin->size() > scheme_end + 3;
}

// The source named `name` (or the only one) of the sources file.
absl::StatusOr<SourceConfig> FindSource(const std::string& file, const std::string& name) {
  absl::StatusOr<std::vector<SourceConfig>> sources = LoadSourcesFile(file, SourceConfig());
  if (!sources.ok()) return sources.status();
  if (name.empty()) {
    if (sources->size() == 1) return (*sources)[0];
    return absl::InvalidArgumentError(
        absl::StrCat(file, " has ", sources->size(), " sources: name one with --source"));
  }
  for (SourceConfig& source : *sources) {
    if (source.name == name) return std::move(source);
  }
  return absl::NotFoundError(absl::StrCat(file, " has no source \"", name, "\""));
}

}  // namespace

int RunSendCommand(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  static const std::vector<FlagSpec> kFlags = {
      {"url", "URL", "where to post (default http://127.0.0.1:8080/webhook)"},
      {"kind", "referral|user_added", "which sample (default referral)"},
      {"count", "N", "how many webhooks (default 1)"},
      {"file", "BODY", "post this file's bytes instead of samples"},
      {"sources_file", "FILE", "the bridge's sources file, to sign as one of its sources"},
      {"source", "NAME", "the source to sign as (needed when the file has several)"},
      {"timeout", "DURATION", "connect and read timeout of each request (default 10s)"}};
  absl::StatusOr<CommandLine> parsed = ParseCommandLine(words, kFlags);
  if (!parsed.ok()) return UsageError(err, kUsage, parsed.status().message());
  const CommandLine& line = *parsed;
  if (line.help) {
    out << kUsage << "\n\nFlags:\n" << FlagsHelp(kFlags);
    return kExitOk;
  }
  if (!line.args.empty()) return UsageError(err, kUsage, "send takes no arguments");
  const std::string kind = line.Value("kind", "referral");
  if (kind != "referral" && kind != "user_added") {
    return UsageError(err, kUsage, absl::StrCat("--kind=", kind, ": referral or user_added"));
  }
  absl::StatusOr<uint64_t> count = PositiveCountFlag(line, "count", 1, 1000000);
  if (!count.ok()) return UsageError(err, kUsage, count.status().message());
  absl::StatusOr<absl::Duration> timeout = PositiveDurationFlag(line, "timeout", absl::Seconds(10));
  if (!timeout.ok()) return UsageError(err, kUsage, timeout.status().message());
  if (line.Has("source") && !line.Has("sources_file")) {
    return UsageError(err, kUsage, "--source needs --sources_file");
  }

  SourceConfig source;  // the default: /webhook, no verification
  if (line.Has("sources_file")) {
    absl::StatusOr<SourceConfig> found =
        FindSource(line.Value("sources_file"), line.Value("source"));
    if (!found.ok()) return Failed(err, found.status());
    source = *std::move(found);
  }
  std::string file_body;
  if (line.Has("file")) {
    absl::StatusOr<std::string> read = ReadSmallFile(line.Value("file"), kMaxFileBytes);
    if (!read.ok()) {
      return Failed(
          err, absl::Status(read.status().code(), absl::StrCat("--file=", line.Value("file"), ": ",
                                                               read.status().message())));
    }
    file_body = *std::move(read);
  }
  const std::string url = line.Value("url", absl::StrCat("http://127.0.0.1:8080", source.path));
  std::string origin;
  std::string path;
  if (!SplitUrl(url, &origin, &path)) {
    return UsageError(err, kUsage, absl::StrCat("--url=", url, ": not an http(s) URL"));
  }

  httplib::Client client(origin);
  const int64_t timeout_micros = absl::ToInt64Microseconds(*timeout);
  client.set_connection_timeout(0, timeout_micros);
  client.set_read_timeout(0, timeout_micros);
  client.set_write_timeout(0, timeout_micros);
  uint64_t failures = 0;
  for (uint64_t n = 1; n <= *count; ++n) {
    const std::string body = line.Has("file") ? file_body : SampleBody(kind, n);
    const absl::Time now = absl::Now();
    absl::StatusOr<SignedWebhook> signed_webhook =
        SignWebhook(source.verification, body, absl::StrCat("msg_", NewUuidV7(now)), now);
    if (!signed_webhook.ok()) {
      return Failed(err, absl::Status(signed_webhook.status().code(),
                                      absl::StrCat("source \"", source.name,
                                                   "\": ", signed_webhook.status().message())));
    }
    httplib::Headers headers;
    for (auto& [name, value] : signed_webhook->headers) headers.emplace(name, value);
    std::string target = path;
    for (const auto& [name, value] : signed_webhook->query_parameters) {
      absl::StrAppend(&target, absl::StrContains(target, '?') ? "&" : "?", PercentEncode(name), "=",
                      PercentEncode(value));
    }
    httplib::Result result = client.Post(target, headers, body, "application/json");
    if (!result) {
      return Failed(err, absl::UnavailableError(absl::StrCat("cannot reach ", origin, ": ",
                                                             httplib::to_string(result.error()))));
    }
    std::string answer = result->body;
    absl::StripTrailingAsciiWhitespace(&answer);
    out << n << " POST " << url << " -> " << result->status << " " << answer << "\n";
    out.flush();
    if (result->status < 200 || result->status > 299) ++failures;
  }
  if (failures > 0) {
    err << "refir-bridge: " << failures << " of " << *count << " webhooks were not answered 2xx\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace refir::bridge::cli
