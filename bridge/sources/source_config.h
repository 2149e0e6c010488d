// SourceConfig: one named webhook source (path, verification, mapping,
// dedup, limits), and the --sources_file loader that parses the JSON file
// strictly, validates it with errors naming the source and the field, and
// resolves secrets from files or environment variables (LoadSecret).
#ifndef REFIR_BRIDGE_SOURCES_SOURCE_CONFIG_H_
#define REFIR_BRIDGE_SOURCES_SOURCE_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/verify/secret_source.h"
#include "bridge/verify/webhook_verifier.h"

namespace refir::bridge {

enum class MappingKind {
  // Typed RefirPayload and the Refir event-type rules (docs/event-types.md).
  kRefir,
  // Body and headers only; Event.refir stays empty, type from type_field.
  kGeneric,
};

// What a source does with a body that is not a JSON object (not JSON, another
// JSON value, too deep, or sent with a Content-Type other than JSON).
enum class InvalidBody {
  // Refused: 400 invalid_json / json_too_deep, 415 unsupported_media_type.
  kReject,
  // Stored byte-exact as type "<source>.unparsed" and answered 200.
  kKeep,
};

enum class DedupBy { kWebhookId, kJsonField, kBodySha256, kNone };

// "none", "webhook_id", "json_field", "body_sha256" <-> DedupBy (the
// --dedup_by flag and dedup keys use these names).
absl::StatusOr<DedupBy> ParseDedupBy(absl::string_view text);
absl::string_view DedupByName(DedupBy by);

// Which resends of a webhook are answered as duplicates of the first: the
// one definition of the dedup policy, for the flags, the sources file and
// bridge/http_edge/dedup_key.h (which applies it).
struct SourceDedup {
  using By = DedupBy;
  By by = By::kWebhookId;
  // by kJsonField: a JSON pointer (RFC 6901) into the body, e.g. "/id".
  std::string json_field;
  absl::Duration window = absl::Minutes(10);

  // INVALID_ARGUMENT unless usable: a positive window, and for kJsonField a
  // well-formed, non-empty JSON pointer.
  absl::Status Validate() const;
};

struct RateLimitConfig {
  // Disabled when per_second is 0.
  double per_second = 0;
  uint32_t burst = 0;
  bool enabled() const { return per_second > 0; }
};

struct SourceLimits {
  size_t max_body_bytes = 1024 * 1024;
  uint32_t max_json_depth = 64;
  RateLimitConfig rate;
  RateLimitConfig per_client_rate;
  // Requests that fail verification, per client IP: spent only by failures,
  // checked before the body is read (bridge/http_edge/webhook_handler.h).
  RateLimitConfig failed_verification_rate = {0.1, 10};
  uint32_t max_tracked_clients = 10000;
};

struct SourceConfig {
  std::string name = "refir";
  std::string path = "/webhook";
  VerifierConfig verification;
  MappingKind mapping = MappingKind::kRefir;
  // kGeneric: a top-level key or a JSON pointer; "" means type "unknown".
  std::string type_field;
  SourceDedup dedup;
  SourceLimits limits;
  // CIDRs as written in the file; empty allows every client.
  std::vector<std::string> allow_cidrs;
  InvalidBody invalid_body = InvalidBody::kReject;
  // Where Event.ordering_key comes from (ConverterOptions::ordering_key):
  // nullopt the mapping's default, "" none, else a JSON pointer.
  std::optional<std::string> ordering_key;
};

// Reads one secret (bridge/verify/secret_source.h's LoadSecret; tests may
// inject another). Errors name the file or variable, never the secret.
using SecretLoader = std::function<absl::StatusOr<std::string>(const SecretSource&)>;

// Parses and validates the JSON text of a sources file. Unknown fields,
// duplicate names or paths, bad values and unreadable secrets are
// INVALID_ARGUMENT naming the source and the field. `defaults` gives
// limits.max_body_bytes and dedup where a source sets none (the flags).
absl::StatusOr<std::vector<SourceConfig>> ParseSourcesJson(
    absl::string_view json, const SourceConfig& defaults,
    const SecretLoader& load_secret = LoadSecret);

// Reads `path` and parses it; errors are prefixed with the path.
absl::StatusOr<std::vector<SourceConfig>> LoadSourcesFile(
    const std::string& path, const SourceConfig& defaults,
    const SecretLoader& load_secret = LoadSecret);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_SOURCES_SOURCE_CONFIG_H_
