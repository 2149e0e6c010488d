#include "bridge/sources/source_config.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using ::testing::HasSubstr;

constexpr size_t kDefaultMaxBody = 4096;

// What the flags give sources that set no limit or dedup of their own.
SourceConfig Defaults() {
  SourceConfig defaults;
  defaults.limits.max_body_bytes = kDefaultMaxBody;
  defaults.dedup.window = absl::Minutes(3);
  return defaults;
}

std::string WriteTempFile(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream out(path, std::ios::trunc);
  out << content;
  return path;
}

// Secrets come from real files and variables through LoadSecret.
class SourceConfigTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("REFIR_TEST_SW_SECRET", kSwSecret, 1);
    setenv("REFIR_TEST_EMPTY", "", 1);
    unsetenv("REFIR_TEST_MISSING");
  }

  absl::StatusOr<std::vector<SourceConfig>> Parse(const std::string& json) {
    return ParseSourcesJson(json, Defaults());
  }

  // The error message for a file with the one source `source_json`.
  std::string ErrorFor(const std::string& source_json) {
    absl::StatusOr<std::vector<SourceConfig>> parsed =
        Parse(R"({"sources":[)" + source_json + "]}");
    EXPECT_FALSE(parsed.ok()) << source_json;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(parsed.status().message());
  }

  static constexpr char kSwSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const std::string gh_secret_file_ = WriteTempFile("gh-secret", "s3cret-file\n");
  const std::string empty_secret_file_ = WriteTempFile("empty-secret", "\n");
};

TEST_F(SourceConfigTest, ParsesAFullFile) {
  absl::StatusOr<std::vector<SourceConfig>> sources =
      Parse(absl::StrReplaceAll(R"({
    "sources": [
      {"name": "refir", "path": "/webhook"},
      {"name": "github", "path": "/hooks/github",
       "verification": {"kind": "hmac", "secrets": [{"file": "GH_FILE"}],
                        "signature_header": "X-Hub-Signature-256", "algorithm": "sha256",
                        "encoding": "hex", "signature_prefix": "sha256="},
       "mapping": {"kind": "generic", "type_field": "action"},
       "dedup": {"by": "json_field", "json_field": "/delivery/id", "window_seconds": 600},
       "limits": {"max_body_bytes": 262144, "max_json_depth": 32,
                  "rate": {"per_second": 50, "burst": 100},
                  "per_client_rate": {"per_second": 5}, "max_tracked_clients": 1000},
       "allow_cidrs": ["140.82.112.0/20", "2a0a:a440::/29"]},
      {"name": "billing", "path": "/hooks/billing",
       "verification": {"kind": "standard_webhooks", "secrets": [{"env": "REFIR_TEST_SW_SECRET"}],
                        "tolerance_seconds": 60}},
      {"name": "ci", "path": "/hooks/ci",
       "verification": {"kind": "token", "secrets": [{"env": "REFIR_TEST_SW_SECRET"}],
                        "token_header": "Authorization"}}
    ]})",
                                {{"GH_FILE", gh_secret_file_}}));
  ASSERT_TRUE(sources.ok()) << sources.status();
  ASSERT_EQ(sources->size(), 4u);

  const SourceConfig& refir = (*sources)[0];
  EXPECT_EQ(refir.name, "refir");
  EXPECT_EQ(refir.verification.kind, VerificationKind::kNone);
  EXPECT_EQ(refir.mapping, MappingKind::kRefir);
  EXPECT_EQ(refir.dedup.by, DedupBy::kWebhookId);
  EXPECT_EQ(refir.dedup.window, absl::Minutes(3));  // from the defaults
  EXPECT_EQ(refir.limits.max_body_bytes, kDefaultMaxBody);
  EXPECT_EQ(refir.limits.max_json_depth, 64u);
  EXPECT_FALSE(refir.limits.rate.enabled());

  const SourceConfig& github = (*sources)[1];
  EXPECT_EQ(github.path, "/hooks/github");
  EXPECT_EQ(github.verification.kind, VerificationKind::kHmac);
  ASSERT_EQ(github.verification.secrets.size(), 1u);
  EXPECT_EQ(github.verification.secrets[0], "s3cret-file");  // newline stripped
  EXPECT_EQ(github.verification.signature_header, "x-hub-signature-256");
  EXPECT_EQ(github.verification.signature_prefix, "sha256=");
  EXPECT_EQ(github.mapping, MappingKind::kGeneric);
  EXPECT_EQ(github.type_field, "action");
  EXPECT_EQ(github.dedup.by, DedupBy::kJsonField);
  EXPECT_EQ(github.dedup.json_field, "/delivery/id");
  EXPECT_EQ(github.dedup.window, absl::Seconds(600));
  EXPECT_EQ(github.limits.max_body_bytes, 262144u);
  EXPECT_EQ(github.limits.max_json_depth, 32u);
  EXPECT_EQ(github.limits.rate.per_second, 50);
  EXPECT_EQ(github.limits.rate.burst, 100u);
  EXPECT_EQ(github.limits.per_client_rate.burst, 5u);  // defaults to ceil(per_second)
  EXPECT_EQ(github.limits.max_tracked_clients, 1000u);
  EXPECT_EQ(github.allow_cidrs.size(), 2u);

  const SourceConfig& billing = (*sources)[2];
  EXPECT_EQ(billing.verification.kind, VerificationKind::kStandardWebhooks);
  EXPECT_EQ(billing.verification.secrets[0], kSwSecret);
  EXPECT_EQ(billing.verification.tolerance, absl::Seconds(60));

  const SourceConfig& ci = (*sources)[3];
  EXPECT_EQ(ci.verification.kind, VerificationKind::kToken);
  EXPECT_EQ(ci.verification.token_header, "authorization");
}

TEST_F(SourceConfigTest, CamelCaseFieldNamesAreAcceptedToo) {
  absl::StatusOr<std::vector<SourceConfig>> sources =
      Parse(R"({"sources":[{"name":"a","path":"/a","limits":{"maxBodyBytes":10}}]})");
  ASSERT_TRUE(sources.ok()) << sources.status();
  EXPECT_EQ((*sources)[0].limits.max_body_bytes, 10u);
}

TEST_F(SourceConfigTest, DocumentLevelErrors) {
  EXPECT_THAT(Parse("{").status().message(), HasSubstr("not valid JSON"));
  EXPECT_THAT(Parse(std::string(R"({"sources":[{"name":"a","path":"/a"}]})") + '\0' + "junk")
                  .status()
                  .message(),
              HasSubstr("NUL byte"));
  EXPECT_THAT(Parse("[]").status().message(), HasSubstr("must be a JSON object"));
  EXPECT_THAT(Parse("{}").status().message(), HasSubstr("\"sources\" must be a non-empty array"));
  EXPECT_THAT(Parse(R"({"sources":[]})").status().message(),
              HasSubstr("\"sources\" must be a non-empty array"));
  EXPECT_THAT(Parse(R"({"sources":[{"name":"a","path":"/a"}],"extra":1})").status().message(),
              HasSubstr("unknown top-level field \"extra\""));
  EXPECT_THAT(Parse(R"({"sources":[7]})").status().message(),
              HasSubstr("sources[0]: source: must be a JSON object"));
}

TEST_F(SourceConfigTest, UnknownFieldsAreErrorsNamingTheSource) {
  std::string error = ErrorFor(R"({"name":"gh","path":"/gh","secret":"x"})");
  EXPECT_THAT(error, HasSubstr("source \"gh\" (sources[0]): schema:"));
  EXPECT_THAT(error, HasSubstr("secret"));
  // Inline secrets are not part of the schema.
  error = ErrorFor(R"({"name":"gh","path":"/gh","verification":{"kind":"token","token_header":"x",)"
                   R"("secrets":[{"value":"hunter2"}]}})");
  EXPECT_THAT(error, HasSubstr("source \"gh\" (sources[0]): schema:"));
  EXPECT_THAT(error, HasSubstr("value"));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(ErrorFor(R"({"name":"gh","path":7})"),
              HasSubstr("source \"gh\" (sources[0]): schema:"));
}

TEST_F(SourceConfigTest, InvalidBodyIsRejectByDefaultOrKeep) {
  absl::StatusOr<std::vector<SourceConfig>> parsed = Parse(R"({"sources":[
      {"name":"a","path":"/a"},
      {"name":"b","path":"/b","invalid_body":"reject"},
      {"name":"c","path":"/c","invalid_body":"keep"},
      {"name":"d","path":"/d","invalidBody":"keep"}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 4u);
  EXPECT_EQ((*parsed)[0].invalid_body, InvalidBody::kReject);
  EXPECT_EQ((*parsed)[1].invalid_body, InvalidBody::kReject);
  EXPECT_EQ((*parsed)[2].invalid_body, InvalidBody::kKeep);
  EXPECT_EQ((*parsed)[3].invalid_body, InvalidBody::kKeep);
  EXPECT_THAT(ErrorFor(R"({"name":"raw","path":"/a","invalid_body":"store"})"),
              HasSubstr("source \"raw\" (sources[0]): invalid_body: must be one of reject, keep; "
                        "got \"store\""));
  EXPECT_THAT(ErrorFor(R"({"name":"raw","path":"/a","invalid_body":true})"),
              HasSubstr("source \"raw\" (sources[0]): schema:"));
}

TEST_F(SourceConfigTest, OrderingKeyIsTheDefaultNoneOrAJsonPointer) {
  absl::StatusOr<std::vector<SourceConfig>> parsed = Parse(R"({"sources":[
      {"name":"a","path":"/a"},
      {"name":"b","path":"/b","ordering_key":"none"},
      {"name":"c","path":"/c","ordering_key":"/order/id"},
      {"name":"d","path":"/d","orderingKey":"/a~1b/0"}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 4u);
  EXPECT_EQ((*parsed)[0].ordering_key, std::nullopt);
  EXPECT_EQ((*parsed)[1].ordering_key, "");
  EXPECT_EQ((*parsed)[2].ordering_key, "/order/id");
  EXPECT_EQ((*parsed)[3].ordering_key, "/a~1b/0");
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","ordering_key":"order.id"})"),
              HasSubstr("source \"a\" (sources[0]): ordering_key: JSON pointer \"order.id\" must "
                        "start with \"/\", or \"none\""));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","ordering_key":"/bad~2escape"})"),
              HasSubstr("ordering_key: JSON pointer \"/bad~2escape\" is not valid"));
}

TEST_F(SourceConfigTest, NameAndPathErrors) {
  EXPECT_THAT(ErrorFor(R"({"path":"/a"})"), HasSubstr("sources[0]: name: is required"));
  EXPECT_THAT(ErrorFor(R"({"name":"a b","path":"/a"})"),
              HasSubstr("source \"a b\" (sources[0]): name: use 1 to 64 letters"));
  EXPECT_THAT(ErrorFor(R"({"name":"a"})"),
              HasSubstr("source \"a\" (sources[0]): path: is required"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"hooks"})"), HasSubstr("path: must start with \"/\""));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a?x=1"})"), HasSubstr("path: use at most 256"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a"},{"name":"a","path":"/b"})"),
              HasSubstr("source \"a\" (sources[1]): name: is also used by sources[0]"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a"},{"name":"b","path":"/a"})"),
              HasSubstr("source \"b\" (sources[1]): path: \"/a\" is also used by sources[0]"));
}

TEST_F(SourceConfigTest, VerificationErrors) {
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"sha"}})"),
              HasSubstr("verification.kind: must be one of none, token, hmac, standard_webhooks; "
                        "got \"sha\""));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac"}})"),
              HasSubstr("verification.secrets: at least one secret is required for kind hmac"));
  EXPECT_THAT(
      ErrorFor(
          R"({"name":"a","path":"/a","verification":{"secrets":[{"env":"REFIR_TEST_SW_SECRET"}]}})"),
      HasSubstr("verification.secrets: secrets are set but verification.kind is none"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac","secrets":[{}]}})"),
              HasSubstr("verification.secrets[0]: give {\"file\": \"...\"} or {\"env\": \"...\"}"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac",)"
                       R"("secrets":[{"file":"/nonexistent/secret"}]}})"),
              HasSubstr("source \"a\" (sources[0]): verification.secrets[0]: cannot use secret "
                        "file /nonexistent/secret: cannot open"));
  EXPECT_THAT(
      ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac",)"
               R"("secrets":[{"file":")" +
               empty_secret_file_ + R"("}]}})"),
      HasSubstr("verification.secrets[0]: secret file " + empty_secret_file_ + " is empty"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac",)"
                       R"("secrets":[{"env":"REFIR_TEST_MISSING"}]}})"),
              HasSubstr("verification.secrets[0]: secret environment variable REFIR_TEST_MISSING "
                        "is not set"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac",)"
                       R"("secrets":[{"env":"REFIR_TEST_EMPTY"}]}})"),
              HasSubstr("secret environment variable REFIR_TEST_EMPTY is empty"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac",)"
                       R"("secrets":[{"env":""}]}})"),
              HasSubstr("verification.secrets[0]: \"env\" is empty"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"token",)"
                       R"("secrets":[{"env":"REFIR_TEST_SW_SECRET"}]}})"),
              HasSubstr("verification.token_header: set exactly one of token_header and "
                        "token_query_parameter"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"token",)"
                       R"("secrets":[{"env":"REFIR_TEST_SW_SECRET"}],"token_header":"x",)"
                       R"("token_query_parameter":"t"}})"),
              HasSubstr("set exactly one of token_header and token_query_parameter"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac",)"
                       R"("secrets":[{"env":"REFIR_TEST_SW_SECRET"}],"token_header":"x"}})"),
              HasSubstr("verification.token_header: only applies to kind token"));
  EXPECT_THAT(
      ErrorFor(
          R"({"name":"a","path":"/a","verification":{"kind":"token",)"
          R"("secrets":[{"env":"REFIR_TEST_SW_SECRET"}],"token_header":"x","algorithm":"sha256"}})"),
      HasSubstr("verification.algorithm: only applies to kind hmac"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac",)"
                       R"("secrets":[{"env":"REFIR_TEST_SW_SECRET"}],"algorithm":"md5"}})"),
              HasSubstr("verification.algorithm: must be one of sha256, sha512; got \"md5\""));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac",)"
                       R"("secrets":[{"env":"REFIR_TEST_SW_SECRET"}],"encoding":"b32"}})"),
              HasSubstr("verification.encoding: must be one of hex, base64; got \"b32\""));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac",)"
                       R"("secrets":[{"env":"REFIR_TEST_SW_SECRET"}],"tolerance_seconds":5}})"),
              HasSubstr("verification.tolerance_seconds: only applies to kind standard_webhooks"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"standard_webhooks",)"
                       R"("secrets":[{"env":"REFIR_TEST_SW_SECRET"}],"tolerance_seconds":0}})"),
              HasSubstr("verification.tolerance_seconds: must be at least 1"));
}

TEST_F(SourceConfigTest, SecretsNeverAppearInErrors) {
  std::string error = ErrorFor(R"({"name":"a","path":"/a","verification":{"kind":"hmac",)"
                               R"("secrets":[{"env":"REFIR_TEST_SW_SECRET"}],"algorithm":"md5"}})");
  EXPECT_THAT(error, ::testing::Not(HasSubstr(kSwSecret)));
}

// A secret pasted into the file by mistake (instead of {"file": ...} or
// {"env": ...}) is not echoed by the schema errors either.
TEST_F(SourceConfigTest, InlineSecretsAreNotEchoed) {
  for (const std::string& secrets :
       {std::string(R"(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])"),
        std::string(R"([{"value":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}])"),
        std::string(R"([{"file":{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw":1}}])"),
        std::string(R"([{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw":"x"}])"),
        std::string(R"([{"env":"A","file":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}])")}) {
    const std::string error = ErrorFor(
        R"({"name":"a","path":"/a","verification":{"kind":"standard_webhooks","secrets":)" +
        secrets + "}}");
    EXPECT_THAT(error, ::testing::Not(HasSubstr("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))) << error;
    EXPECT_THAT(error, HasSubstr("source \"a\"")) << error;
  }
}

TEST_F(SourceConfigTest, FailedVerificationRate) {
  absl::StatusOr<std::vector<SourceConfig>> defaults =
      Parse(R"({"sources":[{"name":"a","path":"/a"}]})");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ((*defaults)[0].limits.failed_verification_rate.per_second, 0.1);
  EXPECT_EQ((*defaults)[0].limits.failed_verification_rate.burst, 10u);
  absl::StatusOr<std::vector<SourceConfig>> set =
      Parse(R"({"sources":[{"name":"a","path":"/a","limits":)"
            R"({"failed_verification_rate":{"per_second":0.5,"burst":3}}}]})");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ((*set)[0].limits.failed_verification_rate.per_second, 0.5);
  EXPECT_EQ((*set)[0].limits.failed_verification_rate.burst, 3u);
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","limits":)"
                       R"({"failed_verification_rate":{"per_second":0}}})"),
              HasSubstr("limits.failed_verification_rate.per_second"));
}

TEST_F(SourceConfigTest, MappingErrors) {
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","mapping":{"kind":"xml"}})"),
              HasSubstr("mapping.kind: must be one of refir, generic; got \"xml\""));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","mapping":{"type_field":"t"}})"),
              HasSubstr("mapping.type_field: only applies to mapping kind generic"));
}

TEST_F(SourceConfigTest, DedupErrors) {
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","dedup":{"by":"md5"}})"),
              HasSubstr("dedup.by: must be one of webhook_id, json_field, body_sha256, none"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","dedup":{"by":"json_field"}})"),
              HasSubstr("dedup.json_field: is required when dedup.by is json_field"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","dedup":{"by":"json_field","json_field":"id"}})"),
              HasSubstr("dedup.json_field: must be a JSON pointer starting with \"/\""));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","dedup":{"json_field":"/id"}})"),
              HasSubstr("dedup.json_field: only applies when dedup.by is json_field"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","dedup":{"window_seconds":0}})"),
              HasSubstr("dedup.window_seconds: must be at least 1"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","dedup":{"by":"none","window_seconds":5}})"),
              HasSubstr("dedup.window_seconds: does not apply when dedup.by is none"));
}

TEST_F(SourceConfigTest, LimitErrors) {
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","limits":{"max_body_bytes":0}})"),
              HasSubstr("limits.max_body_bytes: must be between 1 and 67108864"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","limits":{"max_json_depth":0}})"),
              HasSubstr("limits.max_json_depth: must be between 1 and 10000"));
  EXPECT_THAT(
      ErrorFor(R"({"name":"a","path":"/a","limits":{"rate":{"burst":3}}})"),
      HasSubstr("limits.rate.per_second: must be a number greater than 0 and at most 1000000"));
  EXPECT_THAT(
      ErrorFor(R"({"name":"a","path":"/a","limits":{"rate":{"per_second":-1}}})"),
      HasSubstr("limits.rate.per_second: must be a number greater than 0 and at most 1000000"));
  // Found by fuzz_sources_json: a huge rate overflowed the default burst (uint32_t).
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","limits":{"rate":{"per_second":1e104}}})"),
              HasSubstr("limits.rate.per_second: must be a number greater than 0 and at most "
                        "1000000"));
  EXPECT_THAT(
      ErrorFor(
          R"({"name":"a","path":"/a","limits":{"per_client_rate":{"per_second":1,"burst":0}}})"),
      HasSubstr("limits.per_client_rate.burst: must be at least 1"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","limits":{"max_tracked_clients":5}})"),
              HasSubstr("limits.max_tracked_clients: only applies with per_client_rate"));
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","limits":{"per_client_rate":{"per_second":1},)"
                       R"("max_tracked_clients":0}})"),
              HasSubstr("limits.max_tracked_clients: must be at least 1"));
}

TEST_F(SourceConfigTest, AllowCidrErrors) {
  EXPECT_THAT(ErrorFor(R"({"name":"a","path":"/a","allow_cidrs":["10.0.0.0/8","10.0.0.0/40"]})"),
              HasSubstr("source \"a\" (sources[0]): allow_cidrs[1]: \"10.0.0.0/40\": the prefix "
                        "length must be 0 to 32"));
}

TEST_F(SourceConfigTest, LoadSourcesFileNamesTheFile) {
  const std::string path = ::testing::TempDir() + "/sources.json";
  {
    std::ofstream out(path);
    out << R"({"sources":[{"name":"a","path":"a"}]})";
  }
  absl::StatusOr<std::vector<SourceConfig>> loaded = LoadSourcesFile(path, Defaults());
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("sources file \"" + path + "\": source \"a\" (sources[0]): path:"));
  EXPECT_THAT(LoadSourcesFile("/nonexistent/sources.json", Defaults()).status().message(),
              HasSubstr("sources file \"/nonexistent/sources.json\": cannot open it"));
}

}  // namespace
}  // namespace refir::bridge
