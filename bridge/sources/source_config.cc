#include "bridge/sources/source_config.h"

#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bridge/common/read_small_file.h"
#include "bridge/common/status_macros.h"
#include "bridge/sources/ip_allowlist.h"
#include "bridge/sources/sources_config.pb.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {
namespace {

// OK for a well-formed RFC 6901 pointer starting with "/".
absl::Status ValidateJsonPointer(const std::string& pointer) {
  if (pointer.empty() || pointer[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON pointer \"", pointer, "\" must start with \"/\""));
  }
  try {
    nlohmann::json::json_pointer parsed(pointer);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON pointer \"", pointer, "\" is not valid: ", e.what()));
  }
  return absl::OkStatus();
}

namespace pb = ::refir::bridge::config;

// Largest accepted values; beyond them a typo is more likely than intent.
constexpr uint64_t kMaxBodyBytesLimit = uint64_t{64} * 1024 * 1024;
constexpr uint32_t kMaxJsonDepthLimit = 10000;
// Above this a rate limit limits nothing; a larger figure is a typo. Also keeps the default
// burst, ceil(per_second), inside uint32_t.
constexpr double kMaxRatePerSecond = 1e6;

// Errors of one source: "source \"github\" (sources[1]): <field>: <problem>".
class SourceErrors {
 public:
  SourceErrors(size_t index, absl::string_view name) {
    prefix_ = name.empty() ? absl::StrCat("sources[", index, "]")
                           : absl::StrCat("source \"", name, "\" (sources[", index, "])");
  }
  absl::Status Error(absl::string_view field, absl::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat(prefix_, ": ", field, ": ", problem));
  }

 private:
  std::string prefix_;
};

std::string OneOf(std::initializer_list<absl::string_view> names, absl::string_view got) {
  return absl::StrCat("must be one of ", absl::StrJoin(names, ", "), "; got \"", got, "\"");
}

bool IsValidName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

// A path is matched byte for byte: keep it to unreserved characters.
bool IsValidPath(absl::string_view path) {
  if (path.empty() || path[0] != '/' || path.size() > 256) return false;
  for (char c : path) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' &&
        c != '.' && c != '~') {
      return false;
    }
  }
  return true;
}

// A schema error of the protobuf JSON parser, safe to print: it quotes the
// offending value or unknown key, and under "verification" that may be a
// secret pasted inline instead of {"file": ...} or {"env": ...}. Then only
// the location is kept.
std::string SafeSchemaProblem(absl::string_view message) {
  if (!absl::StrContains(message, "(verification")) return std::string(message);
  const size_t open = message.find('(');
  const size_t close = message.find(')', open);
  const absl::string_view location = close == absl::string_view::npos
                                         ? absl::string_view("verification")
                                         : message.substr(open + 1, close - open - 1);
  return absl::StrCat(location,
                      ": not valid here (a secret is given as {\"file\": \"<path>\"} or "
                      "{\"env\": \"<VARIABLE>\"}); the value is not repeated, as it may be a "
                      "secret");
}

absl::StatusOr<std::string> ResolveSecret(const pb::Secret& secret, absl::string_view field,
                                          const SecretLoader& load_secret,
                                          const SourceErrors& errors) {
  SecretSource source;
  switch (secret.from_case()) {
    case pb::Secret::kFile:
      if (secret.file().empty()) return errors.Error(field, "\"file\" is empty");
      source.kind = SecretSource::Kind::kFile;
      source.location = secret.file();
      break;
    case pb::Secret::kEnv:
      if (secret.env().empty()) return errors.Error(field, "\"env\" is empty");
      source.kind = SecretSource::Kind::kEnv;
      source.location = secret.env();
      break;
    case pb::Secret::FROM_NOT_SET:
      return errors.Error(field, "give {\"file\": \"...\"} or {\"env\": \"...\"}");
  }
  absl::StatusOr<std::string> value = load_secret(source);
  if (!value.ok()) return errors.Error(field, value.status().message());
  return value;
}

absl::Status ConvertVerification(const pb::Verification& in, const SecretLoader& load_secret,
                                 const SourceErrors& errors, VerifierConfig* out) {
  const std::string& kind = in.kind();
  if (kind.empty() || kind == "none") {
    out->kind = VerificationKind::kNone;
  } else if (kind == "token") {
    out->kind = VerificationKind::kToken;
  } else if (kind == "hmac") {
    out->kind = VerificationKind::kHmac;
  } else if (kind == "standard_webhooks") {
    out->kind = VerificationKind::kStandardWebhooks;
  } else {
    return errors.Error("verification.kind",
                        OneOf({"none", "token", "hmac", "standard_webhooks"}, kind));
  }
  const bool none = out->kind == VerificationKind::kNone;
  const bool token = out->kind == VerificationKind::kToken;
  const bool hmac = out->kind == VerificationKind::kHmac;
  if (none && in.secrets_size() > 0) {
    return errors.Error("verification.secrets", "secrets are set but verification.kind is none");
  }
  if (!none && in.secrets_size() == 0) {
    return errors.Error("verification.secrets",
                        absl::StrCat("at least one secret is required for kind ", kind));
  }
  for (int i = 0; i < in.secrets_size(); ++i) {
    REFIR_ASSIGN_OR_RETURN(
        std::string secret,
        ResolveSecret(in.secrets(i), absl::StrCat("verification.secrets[", i, "]"), load_secret,
                      errors));
    out->secrets.push_back(std::move(secret));
  }

  auto only_for = [&](bool set, bool allowed, absl::string_view field,
                      absl::string_view for_kind) -> absl::Status {
    if (set && !allowed) {
      return errors.Error(absl::StrCat("verification.", field),
                          absl::StrCat("only applies to kind ", for_kind));
    }
    return absl::OkStatus();
  };
  REFIR_RETURN_IF_ERROR(only_for(!in.token_header().empty(), token, "token_header", "token"));
  REFIR_RETURN_IF_ERROR(
      only_for(!in.token_query_parameter().empty(), token, "token_query_parameter", "token"));
  REFIR_RETURN_IF_ERROR(only_for(!in.signature_header().empty(), hmac, "signature_header", "hmac"));
  REFIR_RETURN_IF_ERROR(only_for(!in.algorithm().empty(), hmac, "algorithm", "hmac"));
  REFIR_RETURN_IF_ERROR(only_for(!in.encoding().empty(), hmac, "encoding", "hmac"));
  REFIR_RETURN_IF_ERROR(only_for(!in.signature_prefix().empty(), hmac, "signature_prefix", "hmac"));
  REFIR_RETURN_IF_ERROR(only_for(in.has_tolerance_seconds(),
                                 out->kind == VerificationKind::kStandardWebhooks,
                                 "tolerance_seconds", "standard_webhooks"));

  if (token && in.token_header().empty() == in.token_query_parameter().empty()) {
    return errors.Error("verification.token_header",
                        "set exactly one of token_header and token_query_parameter");
  }
  out->token_header = absl::AsciiStrToLower(in.token_header());
  out->token_query_parameter = in.token_query_parameter();
  if (!in.signature_header().empty()) {
    out->signature_header = absl::AsciiStrToLower(in.signature_header());
  }
  if (in.algorithm() == "sha512") {
    out->algorithm = HmacAlgorithm::kSha512;
  } else if (!in.algorithm().empty() && in.algorithm() != "sha256") {
    return errors.Error("verification.algorithm", OneOf({"sha256", "sha512"}, in.algorithm()));
  }
  if (in.encoding() == "base64") {
    out->encoding = SignatureEncoding::kBase64;
  } else if (!in.encoding().empty() && in.encoding() != "hex") {
    return errors.Error("verification.encoding", OneOf({"hex", "base64"}, in.encoding()));
  }
  out->signature_prefix = in.signature_prefix();
  if (in.has_tolerance_seconds()) {
    if (in.tolerance_seconds() < 1) {
      return errors.Error("verification.tolerance_seconds", "must be at least 1");
    }
    out->tolerance = absl::Seconds(in.tolerance_seconds());
  }
  return absl::OkStatus();
}

absl::Status ConvertRate(const pb::RateLimit& in, absl::string_view field,
                         const SourceErrors& errors, RateLimitConfig* out) {
  if (!std::isfinite(in.per_second()) || in.per_second() <= 0 ||
      in.per_second() > kMaxRatePerSecond) {
    return errors.Error(absl::StrCat("limits.", field, ".per_second"),
                        "must be a number greater than 0 and at most 1000000");
  }
  out->per_second = in.per_second();
  if (in.has_burst()) {
    if (in.burst() < 1) {
      return errors.Error(absl::StrCat("limits.", field, ".burst"), "must be at least 1");
    }
    out->burst = in.burst();
  } else {
    out->burst = static_cast<uint32_t>(std::max(1.0, std::ceil(in.per_second())));
  }
  return absl::OkStatus();
}

absl::Status ConvertLimits(const pb::Limits& in, const SourceErrors& errors, SourceLimits* out) {
  if (in.has_max_body_bytes()) {
    if (in.max_body_bytes() < 1 || in.max_body_bytes() > kMaxBodyBytesLimit) {
      return errors.Error("limits.max_body_bytes",
                          absl::StrCat("must be between 1 and ", kMaxBodyBytesLimit));
    }
    out->max_body_bytes = static_cast<size_t>(in.max_body_bytes());
  }
  if (in.has_max_json_depth()) {
    if (in.max_json_depth() < 1 || in.max_json_depth() > kMaxJsonDepthLimit) {
      return errors.Error("limits.max_json_depth",
                          absl::StrCat("must be between 1 and ", kMaxJsonDepthLimit));
    }
    out->max_json_depth = in.max_json_depth();
  }
  if (in.has_rate()) REFIR_RETURN_IF_ERROR(ConvertRate(in.rate(), "rate", errors, &out->rate));
  if (in.has_per_client_rate()) {
    REFIR_RETURN_IF_ERROR(
        ConvertRate(in.per_client_rate(), "per_client_rate", errors, &out->per_client_rate));
  }
  if (in.has_failed_verification_rate()) {
    REFIR_RETURN_IF_ERROR(ConvertRate(in.failed_verification_rate(), "failed_verification_rate",
                                      errors, &out->failed_verification_rate));
  }
  if (in.has_max_tracked_clients()) {
    if (!in.has_per_client_rate()) {
      return errors.Error("limits.max_tracked_clients", "only applies with per_client_rate");
    }
    if (in.max_tracked_clients() < 1) {
      return errors.Error("limits.max_tracked_clients", "must be at least 1");
    }
    out->max_tracked_clients = in.max_tracked_clients();
  }
  return absl::OkStatus();
}

absl::Status ConvertDedup(const pb::Dedup& in, const SourceErrors& errors, SourceDedup* out) {
  const std::string& by = in.by();
  if (by.empty() || by == "webhook_id") {
    out->by = DedupBy::kWebhookId;
  } else if (by == "json_field") {
    out->by = DedupBy::kJsonField;
  } else if (by == "body_sha256") {
    out->by = DedupBy::kBodySha256;
  } else if (by == "none") {
    out->by = DedupBy::kNone;
  } else {
    return errors.Error("dedup.by", OneOf({"webhook_id", "json_field", "body_sha256", "none"}, by));
  }
  if (out->by == DedupBy::kJsonField && in.json_field().empty()) {
    return errors.Error("dedup.json_field", "is required when dedup.by is json_field");
  }
  if (out->by == DedupBy::kJsonField && in.json_field()[0] != '/') {
    return errors.Error("dedup.json_field", "must be a JSON pointer starting with \"/\"");
  }
  if (out->by != DedupBy::kJsonField && !in.json_field().empty()) {
    return errors.Error("dedup.json_field", "only applies when dedup.by is json_field");
  }
  out->json_field = in.json_field();
  if (in.has_window_seconds()) {
    if (out->by == DedupBy::kNone) {
      return errors.Error("dedup.window_seconds", "does not apply when dedup.by is none");
    }
    if (in.window_seconds() < 1) return errors.Error("dedup.window_seconds", "must be at least 1");
    out->window = absl::Seconds(in.window_seconds());
  }
  return absl::OkStatus();
}

absl::StatusOr<SourceConfig> ConvertSource(const pb::Source& in, size_t index,
                                           const SourceConfig& defaults,
                                           const SecretLoader& load_secret) {
  const SourceErrors errors(index, in.name());
  SourceConfig out;
  if (in.name().empty()) return errors.Error("name", "is required");
  if (!IsValidName(in.name())) {
    return errors.Error("name", "use 1 to 64 letters, digits, '_', '-' or '.'");
  }
  out.name = in.name();
  if (in.path().empty()) return errors.Error("path", "is required");
  if (in.path()[0] != '/') return errors.Error("path", "must start with \"/\"");
  if (!IsValidPath(in.path())) {
    return errors.Error("path",
                        "use at most 256 letters, digits, '/', '_', '-', '.' or '~' (no query)");
  }
  out.path = in.path();
  REFIR_RETURN_IF_ERROR(
      ConvertVerification(in.verification(), load_secret, errors, &out.verification));

  const std::string& mapping = in.mapping().kind();
  if (mapping.empty() || mapping == "refir") {
    out.mapping = MappingKind::kRefir;
  } else if (mapping == "generic") {
    out.mapping = MappingKind::kGeneric;
  } else {
    return errors.Error("mapping.kind", OneOf({"refir", "generic"}, mapping));
  }
  if (!in.mapping().type_field().empty() && out.mapping != MappingKind::kGeneric) {
    return errors.Error("mapping.type_field", "only applies to mapping kind generic");
  }
  out.type_field = in.mapping().type_field();

  const std::string& invalid_body = in.invalid_body();
  if (invalid_body.empty() || invalid_body == "reject") {
    out.invalid_body = InvalidBody::kReject;
  } else if (invalid_body == "keep") {
    out.invalid_body = InvalidBody::kKeep;
  } else {
    return errors.Error("invalid_body", OneOf({"reject", "keep"}, invalid_body));
  }

  if (in.ordering_key() == "none") {
    out.ordering_key = "";
  } else if (!in.ordering_key().empty()) {
    if (absl::Status valid = ValidateJsonPointer(in.ordering_key()); !valid.ok()) {
      return errors.Error("ordering_key", absl::StrCat(valid.message(), ", or \"none\""));
    }
    out.ordering_key = in.ordering_key();
  }

  out.dedup = defaults.dedup;
  if (in.has_dedup()) REFIR_RETURN_IF_ERROR(ConvertDedup(in.dedup(), errors, &out.dedup));
  out.limits.max_body_bytes = defaults.limits.max_body_bytes;
  REFIR_RETURN_IF_ERROR(ConvertLimits(in.limits(), errors, &out.limits));
  for (int i = 0; i < in.allow_cidrs_size(); ++i) {
    absl::StatusOr<CidrRange> range = ParseCidr(in.allow_cidrs(i));
    if (!range.ok()) {
      return errors.Error(absl::StrCat("allow_cidrs[", i, "]"), range.status().message());
    }
    out.allow_cidrs.push_back(in.allow_cidrs(i));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<SourceConfig>> ParseSourcesJson(absl::string_view json,
                                                           const SourceConfig& defaults,
                                                           const SecretLoader& load_secret) {
  // nlohmann first, to split the document per source: protobuf's JSON
  // errors name the field but not which source it belongs to.
  // nlohmann stops at a NUL byte as if the text ended there.
  if (json.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("not valid JSON: holds a NUL byte");
  }
  nlohmann::json document = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return absl::InvalidArgumentError("not valid JSON");
  }
  if (!document.is_object()) return absl::InvalidArgumentError("must be a JSON object");
  for (const auto& [key, value] : document.items()) {
    if (key != "sources") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown top-level field \"", key, "\"; only \"sources\" is allowed"));
    }
  }
  if (!document.contains("sources") || !document["sources"].is_array() ||
      document["sources"].empty()) {
    return absl::InvalidArgumentError("\"sources\" must be a non-empty array");
  }

  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  std::vector<SourceConfig> out;
  absl::flat_hash_map<std::string, size_t> names;
  absl::flat_hash_map<std::string, size_t> paths;
  const nlohmann::json& list = document["sources"];
  for (size_t i = 0; i < list.size(); ++i) {
    const nlohmann::json& element = list[i];
    std::string name;
    if (element.is_object() && element.contains("name") && element["name"].is_string()) {
      name = element["name"].get<std::string>();
    }
    const SourceErrors errors(i, name);
    if (!element.is_object()) return errors.Error("source", "must be a JSON object");
    pb::Source source;
    // protobuf 3.21 has a Status type of its own.
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(element.dump(), &source, options);
    if (!parsed.ok()) {
      return errors.Error("schema", SafeSchemaProblem(absl::string_view(parsed.message().data(),
                                                                        parsed.message().size())));
    }
    REFIR_ASSIGN_OR_RETURN(SourceConfig config, ConvertSource(source, i, defaults, load_secret));
    if (auto [it, inserted] = names.emplace(config.name, i); !inserted) {
      return errors.Error("name", absl::StrCat("is also used by sources[", it->second, "]"));
    }
    if (auto [it, inserted] = paths.emplace(config.path, i); !inserted) {
      return errors.Error(
          "path", absl::StrCat("\"", config.path, "\" is also used by sources[", it->second, "]"));
    }
    out.push_back(std::move(config));
  }
  return out;
}

// A sources file lists a handful of sources; anything larger is a mistake.
constexpr size_t kMaxSourcesFileBytes = 1 << 20;

absl::StatusOr<std::vector<SourceConfig>> LoadSourcesFile(const std::string& path,
                                                          const SourceConfig& defaults,
                                                          const SecretLoader& load_secret) {
  absl::StatusOr<std::string> content = ReadSmallFile(path, kMaxSourcesFileBytes);
  if (!content.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sources file \"", path, "\": cannot open it: ", content.status().message()));
  }
  absl::StatusOr<std::vector<SourceConfig>> sources =
      ParseSourcesJson(*content, defaults, load_secret);
  if (!sources.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sources file \"", path, "\": ", sources.status().message()));
  }
  return sources;
}

absl::Status SourceDedup::Validate() const {
  if (window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dedup window must be positive, got ", absl::FormatDuration(window)));
  }
  if (by != DedupBy::kJsonField) return absl::OkStatus();
  if (json_field.empty()) {
    return absl::InvalidArgumentError("dedup by json_field needs a JSON pointer, e.g. /event_id");
  }
  if (absl::Status valid = ValidateJsonPointer(json_field); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("dedup ", valid.message()));
  }
  return absl::OkStatus();
}

namespace {

// Each DedupBy with its name, in the order ParseDedupBy tries them.
constexpr std::pair<DedupBy, absl::string_view> kDedupByNames[] = {
    {DedupBy::kNone, "none"},
    {DedupBy::kWebhookId, "webhook_id"},
    {DedupBy::kJsonField, "json_field"},
    {DedupBy::kBodySha256, "body_sha256"},
};

}  // namespace

absl::StatusOr<DedupBy> ParseDedupBy(absl::string_view text) {
  for (const auto& [by, name] : kDedupByNames) {
    if (text == name) return by;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text, "\" is not one of webhook_id, json_field, body_sha256, none"));
}

absl::string_view DedupByName(DedupBy by) {
  for (const auto& [known, name] : kDedupByNames) {
    if (known == by) return name;
  }
  return "unknown";
}

}  // namespace refir::bridge
