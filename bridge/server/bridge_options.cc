#include "bridge/server/bridge_options.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/common/status_macros.h"

namespace refir::bridge {
namespace {

// The gRPC memory quota's bounds (--grpc_memory_limit_mib is in MiB).
constexpr size_t kMinGrpcMemoryMib = 16;
constexpr size_t kMaxGrpcMemoryMib = size_t{1} << 20;

absl::Status CheckPort(const char* flag, int port) {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " must be between 0 and 65535, got ", port));
  }
  return absl::OkStatus();
}

// A source's path, body limit and dedup policy, named by the flags that set
// them for the default source (a --sources_file's sources are checked, with
// their own field names, as the file is parsed).
absl::Status ValidateSource(const SourceConfig& source, size_t max_inflight_body_bytes) {
  if (source.limits.max_body_bytes < 1) {
    return absl::InvalidArgumentError("--max_body_bytes must be at least 1");
  }
  if (max_inflight_body_bytes < source.limits.max_body_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_max_inflight_body_bytes must be at least ",
                     source.limits.max_body_bytes, ", got ", max_inflight_body_bytes));
  }
  if (absl::Status valid = source.dedup.Validate(); !valid.ok()) {
    const char* flag =
        source.dedup.window <= absl::ZeroDuration() ? "--dedup_window" : "--dedup_json_field";
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", valid.message()));
  }
  if (source.path.empty() || source.path[0] != '/') {
    return absl::InvalidArgumentError("--webhook_path must start with '/'");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JournalKind> ParseJournalKind(absl::string_view text) {
  if (text == "sqlite") return JournalKind::kSqlite;
  if (text == "jetstream") return JournalKind::kJetStream;
  return absl::InvalidArgumentError(
      absl::StrCat("--journal must be sqlite or jetstream, got \"", text, "\""));
}

jetstream::StreamSettings JetStreamStreamSettings(const BridgeOptions& options) {
  jetstream::StreamSettings settings;
  settings.name = options.jetstream.stream;
  settings.subject_prefix = options.jetstream.subject_prefix;
  settings.replicas = options.jetstream.replicas;
  settings.max_age = options.retention.retention;
  settings.max_bytes = options.retention.max_bytes;
  absl::Duration window = SourceDedup().window;
  if (!options.sources.empty()) {
    window = absl::ZeroDuration();
    for (const SourceConfig& source : options.sources) {
      window = std::max(window, source.dedup.window);
    }
  }
  // JetStream needs a positive window; sources without dedup still get one.
  settings.duplicate_window = std::max(window, absl::Seconds(1));
  return settings;
}

absl::Status BridgeOptions::Validate() const {
  if (journal == JournalKind::kJetStream) {
    REFIR_RETURN_IF_ERROR(jetstream.connection.Validate());
    if (!jetstream.password_file.empty() && !jetstream.token_file.empty()) {
      return absl::InvalidArgumentError(
          "--nats_password_file and --nats_token_file cannot both be set");
    }
    if (!jetstream.password_file.empty() && jetstream.connection.user.empty()) {
      return absl::InvalidArgumentError("--nats_password_file needs --nats_user");
    }
    REFIR_RETURN_IF_ERROR(JetStreamStreamSettings(*this).Validate());
    if (jetstream.group_lease < absl::Seconds(1) || jetstream.group_lease > absl::Minutes(10)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--group_lease must be between 1s and 10m, got ",
                       absl::FormatDuration(jetstream.group_lease)));
    }
    if (jetstream.publish_timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--jetstream_publish_timeout must be positive, got ",
                       absl::FormatDuration(jetstream.publish_timeout)));
    }
  }
  REFIR_RETURN_IF_ERROR(http.Validate());
  REFIR_RETURN_IF_ERROR(CheckPort("grpc_port", grpc_port));
  if (admin_enabled) {
    REFIR_RETURN_IF_ERROR(CheckPort("admin_port", admin.port));
    REFIR_RETURN_IF_ERROR(admin.head_limits.Validate());
  }
  REFIR_RETURN_IF_ERROR(inspector.Validate(admin_enabled, admin.address));
  for (const SourceConfig& source : sources) {
    REFIR_RETURN_IF_ERROR(ValidateSource(source, http.max_inflight_body_bytes));
  }
  if (grpc_max_concurrent_streams < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--grpc_max_concurrent_streams must be at least 1, got ", grpc_max_concurrent_streams));
  }
  const size_t memory_mib = grpc_memory_limit_bytes >> 20;
  if (grpc_memory_limit_bytes < (kMinGrpcMemoryMib << 20) ||
      grpc_memory_limit_bytes > (kMaxGrpcMemoryMib << 20)) {
    return absl::InvalidArgumentError(absl::StrCat("--grpc_memory_limit_mib must be between ",
                                                   kMinGrpcMemoryMib, " and ", kMaxGrpcMemoryMib,
                                                   ", got ", memory_mib));
  }
  if (grpc_max_receive_message_bytes < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the gRPC receive message limit must be at least 1 byte, got ",
                     grpc_max_receive_message_bytes));
  }
  if (grpc_max_consumer_groups < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--grpc_max_consumer_groups must be at least 1, got ", grpc_max_consumer_groups));
  }
  if (group_idle_expiry < absl::ZeroDuration() || group_idle_expiry > kMaxIdleExpiry) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--group_idle_expiry must be between 0 (never) and ", absl::FormatDuration(kMaxIdleExpiry),
        ", got ", absl::FormatDuration(group_idle_expiry)));
  }
  if (shutdown_drain < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("--shutdown_drain must not be negative, got ",
                                                   absl::FormatDuration(shutdown_drain)));
  }
  return retention.Validate();
}

}  // namespace refir::bridge
