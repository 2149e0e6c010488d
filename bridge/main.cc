// refir-bridge: receives Refir webhooks over HTTP, stores them durably and
// streams them to subscribers over gRPC. This file only parses flags, wires
// signals and runs a BridgeServer.
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bridge/cli/cli.h"
#include "bridge/common/log.h"
#include "bridge/common/log_setup.h"
#include "bridge/common/private_file.h"
#include "bridge/common/status_macros.h"
#include "bridge/config/config_sources.h"
#include "bridge/server/bridge_server.h"
#include "bridge/server/process_setup.h"
#include "bridge/sources/source_config.h"

ABSL_FLAG(std::string, data_dir, "./data",
          "Directory for the SQLite journal and the consumer groups (created if missing)");
ABSL_FLAG(std::string, journal, "sqlite",
          "Where events are stored: sqlite (embedded, under --data_dir) or jetstream (a NATS "
          "JetStream stream that replicas share; see docs/scaling.md)");
ABSL_FLAG(std::string, nats_servers, "nats://127.0.0.1:4222",
          "--journal=jetstream: NATS server URLs, comma-separated (nats://host:port or "
          "tls://host:port); the client fails over between them");
ABSL_FLAG(std::string, nats_user, "", "NATS user name (with --nats_password_file)");
ABSL_FLAG(std::string, nats_password_file, "", "File holding the NATS password (one line)");
ABSL_FLAG(std::string, nats_token_file, "", "File holding a NATS authentication token (one line)");
ABSL_FLAG(std::string, nats_tls_ca_file, "",
          "PEM CA certificate of the NATS servers; set: the connection requires TLS");
ABSL_FLAG(std::string, jetstream_stream, "REFIR", "JetStream stream holding the journal");
ABSL_FLAG(std::string, jetstream_subject_prefix, "refir.events",
          "Events are published to <prefix>.<event type>; the stream takes <prefix>.>");
ABSL_FLAG(int, jetstream_replicas, 1, "Replicas of the stream (3 in a three-node cluster)");
ABSL_FLAG(absl::Duration, jetstream_publish_timeout, absl::Seconds(5),
          "How long a webhook waits for JetStream's PubAck before it is answered 503");
ABSL_FLAG(std::string, advertise_grpc_address, "",
          "--journal=jetstream: host:port consumers use to reach this replica's gRPC listener, "
          "told by standbys (default --grpc_address and the bound port)");
ABSL_FLAG(absl::Duration, group_lease, absl::Seconds(10),
          "--journal=jetstream: a standby replica takes the consumer groups over this long after "
          "the replica serving them stopped renewing its lease");
ABSL_FLAG(std::string, http_address, "127.0.0.1", "Address the webhook HTTP listener binds");
ABSL_FLAG(int, http_port, 8080, "Webhook HTTP port (0 picks a free port)");
ABSL_FLAG(std::string, webhook_path, "/webhook",
          "Path that accepts webhook POSTs (without --sources_file)");
ABSL_FLAG(std::string, source, "refir",
          "Source name stamped on events from the webhook path (without --sources_file)");
ABSL_FLAG(int64_t, max_body_bytes, 1024 * 1024,
          "Largest accepted webhook body; larger gets 413. The default for sources that set no "
          "limits.max_body_bytes");
ABSL_FLAG(std::string, sources_file, "",
          "JSON file configuring the webhook sources (paths, verification, mapping, limits); "
          "see docs/configuration.md. Replaces --webhook_path and --source");
ABSL_FLAG(std::string, http_tls_cert_file, "",
          "PEM certificate chain: serve the webhook listener over HTTPS (needs "
          "--http_tls_key_file)");
ABSL_FLAG(std::string, http_tls_key_file, "", "PEM private key for --http_tls_cert_file");
ABSL_FLAG(int, http_threads, 32,
          "Warm HTTP worker threads; each open connection holds one, and the pool grows up to "
          "--http_max_connections");
ABSL_FLAG(int, http_max_connections, 1024,
          "Open webhook connections served at once; the excess is answered 503 "
          "too_many_connections and closed");
ABSL_FLAG(absl::Duration, http_request_timeout, absl::Seconds(10),
          "A webhook request must arrive completely within this from its first byte, else 408");
ABSL_FLAG(absl::Duration, http_keep_alive_timeout, absl::Seconds(5),
          "Idle keep-alive connections are closed after this");
ABSL_FLAG(int, http_keep_alive_max_requests, 1000, "Requests per keep-alive connection");
ABSL_FLAG(absl::Duration, http_read_timeout, absl::Seconds(5), "HTTP read timeout");
ABSL_FLAG(absl::Duration, http_write_timeout, absl::Seconds(5), "HTTP write timeout");

// --- Request head and body memory limits of the HTTP listeners (issue 16) ---
ABSL_FLAG(int64_t, http_max_request_line_bytes, 8 * 1024,
          "Longest request line (method, target, version, CRLF) on the webhook and admin "
          "listeners, 256 to 8192; longer is answered 414 uri_too_long and the connection "
          "closed");
ABSL_FLAG(int64_t, http_max_header_line_bytes, 8 * 1024,
          "Longest single header line (CRLF included), 256 to 8192; longer is answered 431 "
          "header_too_large and closed");
ABSL_FLAG(int64_t, http_max_headers, 100,
          "Most header lines in one request; more is answered 431 too_many_headers and closed");
ABSL_FLAG(int64_t, http_max_header_bytes, 32 * 1024,
          "Largest request head (request line and all headers); larger is answered 431 "
          "header_too_large and closed");
ABSL_FLAG(int64_t, http_max_inflight_body_bytes, 64 * 1024 * 1024,
          "Request body bytes all webhook connections together may hold at once; a request "
          "beyond is answered 503 overloaded with Retry-After");

namespace refir::bridge {
namespace {

// The HTTP head limit flags are byte and line counts: none may be negative
// (HeadLimits::Validate checks the rest).
absl::StatusOr<HeadLimits> HeadLimitsFromFlags() {
  HeadLimits limits;
  struct CountFlag {
    const char* name;
    int64_t value;
    size_t* field;
  };
  for (const CountFlag& flag : {
           CountFlag{"http_max_request_line_bytes",
                     absl::GetFlag(FLAGS_http_max_request_line_bytes),
                     &limits.max_request_line_bytes},
           CountFlag{"http_max_header_line_bytes", absl::GetFlag(FLAGS_http_max_header_line_bytes),
                     &limits.max_header_line_bytes},
           CountFlag{"http_max_headers", absl::GetFlag(FLAGS_http_max_headers),
                     &limits.max_headers},
           CountFlag{"http_max_header_bytes", absl::GetFlag(FLAGS_http_max_header_bytes),
                     &limits.max_head_bytes},
       }) {
    if (flag.value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag.name, " must not be negative, got ", flag.value));
    }
    *flag.field = static_cast<size_t>(flag.value);
  }
  return limits;
}

}  // namespace
}  // namespace refir::bridge
// --- end of the HTTP limit flags ---
ABSL_FLAG(std::string, grpc_address, "127.0.0.1", "Address the gRPC listener binds");
ABSL_FLAG(int, grpc_port, 50051, "gRPC port (0 picks a free port)");
ABSL_FLAG(std::string, grpc_tls_cert_file, "",
          "PEM certificate (chain) of the gRPC listener; with --grpc_tls_key_file turns on TLS");
ABSL_FLAG(std::string, grpc_tls_key_file, "", "PEM private key of --grpc_tls_cert_file");
ABSL_FLAG(std::string, grpc_tls_client_ca_file, "",
          "PEM CA certificate(s); gRPC clients must present a certificate signed by one "
          "(mutual TLS)");
ABSL_FLAG(std::string, grpc_tokens_file, "",
          "File of bearer tokens and the consumer groups each may use; when set, every "
          "EventStream call needs \"authorization: Bearer <token>\" (see docs/operations.md)");
// gRPC resource limits against hostile clients (docs/api.md, "Limits");
// BridgeOptions::Validate checks them.
ABSL_FLAG(int, grpc_max_concurrent_streams, 100,
          "Most concurrent gRPC calls (streams) on one client connection");
ABSL_FLAG(int64_t, grpc_memory_limit_mib, 256,
          "Memory gRPC may use for its connections' buffers (a grpc::ResourceQuota), in MiB");
ABSL_FLAG(int, grpc_max_consumer_groups, 1000,
          "Most consumer groups; a Subscribe that would create one more fails with "
          "RESOURCE_EXHAUSTED");
ABSL_FLAG(bool, grpc_allow_insecure_remote, false,
          "Start even though --grpc_address is not loopback and gRPC clients need neither a "
          "token (--grpc_tokens_file) nor a client certificate (--grpc_tls_client_ca_file); "
          "anyone who can reach the port can then read and settle every event");
ABSL_FLAG(bool, refuse_insecure_secret_files, false,
          "Refuse to start when a secret file (sources-file secrets, --grpc_tokens_file, "
          "--grpc_tls_key_file, --http_tls_key_file, --inspector_token_file) is readable by group "
          "or others; without "
          "it such a file is only logged as a warning");
ABSL_FLAG(std::string, admin_address, "127.0.0.1",
          "Address of the /healthz, /readyz and /metrics listener");
ABSL_FLAG(int, admin_port, 8081,
          "Port of the /healthz, /readyz and /metrics listener (0 picks a free port, "
          "-1 disables it)");
ABSL_FLAG(bool, inspector, false,
          "Serve a live, read-only inspector page (recent events, consumer groups) at /ui on the "
          "admin listener");
ABSL_FLAG(std::string, inspector_token_file, "",
          "File holding the token the inspector page needs (Authorization: Bearer, or ?token= on "
          "/ui); required when --admin_address is not loopback");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(5),
          "How long shutdown waits for gRPC calls before cancelling them");
ABSL_FLAG(absl::Duration, shutdown_drain, absl::Seconds(1),
          "On SIGTERM, how long the webhook listener keeps accepting and answers new webhooks "
          "503 shutting_down (and /readyz 503) before it closes; webhooks already being "
          "stored are answered 200 (0: close at once)");
ABSL_FLAG(std::string, dedup_by, "webhook_id",
          "What makes a resent webhook a duplicate: webhook_id (the header; none when absent), "
          "json_field (--dedup_json_field), body_sha256, or none");
ABSL_FLAG(std::string, dedup_json_field, "",
          "JSON pointer into the body used with --dedup_by=json_field, e.g. /event_id");
ABSL_FLAG(absl::Duration, dedup_window, absl::Minutes(10),
          "A resend received within this long of the first is answered as a duplicate");
ABSL_FLAG(absl::Duration, retention, absl::ZeroDuration(),
          "Delete events received longer ago than this (0 keeps them forever)");
ABSL_FLAG(int64_t, max_journal_bytes, 0,
          "Delete the oldest events while the journal's data is larger than this (0: no limit)");
ABSL_FLAG(int64_t, journal_cache_bytes,
          static_cast<int64_t>(refir::bridge::kDefaultRecentEventsBytes),
          "Keep this many bytes of the newest events in memory for subscribers that follow the "
          "head, so each consumer group does not read them from the journal file (0: off)");
ABSL_FLAG(absl::Duration, retention_check_interval, absl::Minutes(1),
          "How often retention (--retention, --max_journal_bytes) runs");
ABSL_FLAG(bool, retention_ignore_pending, false,
          "Let retention delete events that consumer groups have not settled yet");
ABSL_FLAG(absl::Duration, group_idle_expiry, absl::ZeroDuration(),
          "Delete a consumer group after this long without a stream attached, unless its "
          "SubscribeInit.idle_expiry says otherwise (0: never)");
ABSL_FLAG(std::string, ports_file, "",
          "If set, write http_port=, grpc_port= and admin_port= lines here once the listeners "
          "are ready");
ABSL_FLAG(std::string, log_format, "auto",
          "Log lines on stderr: json (one object per line), text, or auto (text when stderr is "
          "a terminal, else json)");
ABSL_FLAG(std::string, log_level, "info", "Lowest level logged: debug, info, warning or error");
ABSL_FLAG(bool, access_log, true, "Log one info line per webhook (source, id, status, latency...)");
ABSL_FLAG(bool, log_webhook_bodies, false,
          "Add the webhook body (up to 64 KiB) to its access line; bodies may hold personal data");

namespace refir::bridge {
namespace {

// A count flag that BridgeOptions holds unsigned and Validate() wants at
// least 1: a negative value becomes 0, which Validate() refuses by name.
size_t CountFromFlag(int64_t value) { return value < 0 ? 0 : static_cast<size_t>(value); }

// --dedup_by, --dedup_json_field and --dedup_window; errors name the flag.
// (SourceDedup::Validate, through BridgeOptions::Validate, checks the rest.)
absl::StatusOr<SourceDedup> DedupFromFlags() {
  SourceDedup dedup;
  absl::StatusOr<DedupBy> by = ParseDedupBy(absl::GetFlag(FLAGS_dedup_by));
  if (!by.ok())
    return absl::InvalidArgumentError(absl::StrCat("--dedup_by: ", by.status().message()));
  dedup.by = *by;
  dedup.json_field = absl::GetFlag(FLAGS_dedup_json_field);
  dedup.window = absl::GetFlag(FLAGS_dedup_window);
  if (dedup.by != DedupBy::kJsonField && !dedup.json_field.empty()) {
    return absl::InvalidArgumentError("--dedup_json_field is set but --dedup_by is not json_field");
  }
  return dedup;
}

// The source the flags describe: the one served without --sources_file, and
// the defaults (body limit, dedup) of the file's sources that set none.
absl::StatusOr<SourceConfig> DefaultSourceFromFlags() {
  SourceConfig source;
  source.name = absl::GetFlag(FLAGS_source);
  source.path = absl::GetFlag(FLAGS_webhook_path);
  if (!absl::GetFlag(FLAGS_sources_file).empty() &&
      (source.path != "/webhook" || source.name != "refir")) {
    return absl::InvalidArgumentError(
        "--webhook_path and --source do not apply with --sources_file; set each source's path "
        "and name in the file");
  }
  source.limits.max_body_bytes = CountFromFlag(absl::GetFlag(FLAGS_max_body_bytes));
  REFIR_ASSIGN_OR_RETURN(source.dedup, DedupFromFlags());
  return source;
}

// Installs the logger from --log_format and --log_level.
absl::Status SetUpLogging() {
  absl::StatusOr<LogFormat> format = ParseLogFormat(absl::GetFlag(FLAGS_log_format));
  if (!format.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--log_format: ", format.status().message()));
  }
  absl::StatusOr<LogLevel> level = ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--log_level: ", level.status().message()));
  }
  LogOptions options;
  options.format = *format;
  options.level = *level;
  InitLogging(options);
  return absl::OkStatus();
}

// Replaces the flags' source with those of --sources_file, when it is set.
absl::Status LoadSourcesFileFromFlags(BridgeOptions* options) {
  const std::string file = absl::GetFlag(FLAGS_sources_file);
  if (file.empty()) return absl::OkStatus();
  const bool refuse = absl::GetFlag(FLAGS_refuse_insecure_secret_files);
  REFIR_ASSIGN_OR_RETURN(
      options->sources,
      LoadSourcesFile(file, options->sources.front(),
                      [refuse](const SecretSource& secret) -> absl::StatusOr<std::string> {
                        if (secret.kind == SecretSource::Kind::kFile) {
                          REFIR_RETURN_IF_ERROR(
                              CheckSecretFileMode(secret.location, "secret file", refuse));
                        }
                        return LoadSecret(secret);
                      }));
  return absl::OkStatus();
}

// Every setting from its flag. Fails only where a flag's value cannot be
// stored (a negative count, an unknown name) or does not apply; whether the
// values are usable is BridgeOptions::Validate's to say.
absl::StatusOr<BridgeOptions> OptionsFromFlags() {
  BridgeOptions options;
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  REFIR_ASSIGN_OR_RETURN(options.journal, ParseJournalKind(absl::GetFlag(FLAGS_journal)));
  options.jetstream.connection.servers =
      absl::StrSplit(absl::GetFlag(FLAGS_nats_servers), ',', absl::SkipWhitespace());
  for (std::string& server : options.jetstream.connection.servers) {
    server = std::string(absl::StripAsciiWhitespace(server));
  }
  options.jetstream.connection.user = absl::GetFlag(FLAGS_nats_user);
  options.jetstream.connection.tls_ca_file = absl::GetFlag(FLAGS_nats_tls_ca_file);
  options.jetstream.password_file = absl::GetFlag(FLAGS_nats_password_file);
  options.jetstream.token_file = absl::GetFlag(FLAGS_nats_token_file);
  options.jetstream.stream = absl::GetFlag(FLAGS_jetstream_stream);
  options.jetstream.subject_prefix = absl::GetFlag(FLAGS_jetstream_subject_prefix);
  options.jetstream.replicas = absl::GetFlag(FLAGS_jetstream_replicas);
  options.jetstream.publish_timeout = absl::GetFlag(FLAGS_jetstream_publish_timeout);
  options.jetstream.advertised_grpc_address = absl::GetFlag(FLAGS_advertise_grpc_address);
  options.jetstream.group_lease = absl::GetFlag(FLAGS_group_lease);
  if (absl::GetFlag(FLAGS_max_journal_bytes) < 0) {
    return absl::InvalidArgumentError("--max_journal_bytes must not be negative (0: no limit)");
  }
  if (absl::GetFlag(FLAGS_journal_cache_bytes) < 0) {
    return absl::InvalidArgumentError("--journal_cache_bytes must not be negative (0: off)");
  }
  options.journal_cache_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_journal_cache_bytes));
  options.retention.retention = absl::GetFlag(FLAGS_retention);
  options.retention.max_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_journal_bytes));
  options.retention.check_interval = absl::GetFlag(FLAGS_retention_check_interval);
  options.retention.ignore_pending = absl::GetFlag(FLAGS_retention_ignore_pending);

  REFIR_ASSIGN_OR_RETURN(const HeadLimits head_limits, HeadLimitsFromFlags());
  options.http.address = absl::GetFlag(FLAGS_http_address);
  options.http.port = absl::GetFlag(FLAGS_http_port);
  options.http.tls_cert_file = absl::GetFlag(FLAGS_http_tls_cert_file);
  options.http.tls_key_file = absl::GetFlag(FLAGS_http_tls_key_file);
  options.http.worker_threads = CountFromFlag(absl::GetFlag(FLAGS_http_threads));
  options.http.max_connections = CountFromFlag(absl::GetFlag(FLAGS_http_max_connections));
  options.http.request_timeout = absl::GetFlag(FLAGS_http_request_timeout);
  options.http.keep_alive_timeout = absl::GetFlag(FLAGS_http_keep_alive_timeout);
  options.http.keep_alive_max_requests =
      CountFromFlag(absl::GetFlag(FLAGS_http_keep_alive_max_requests));
  options.http.read_timeout = absl::GetFlag(FLAGS_http_read_timeout);
  options.http.write_timeout = absl::GetFlag(FLAGS_http_write_timeout);
  options.http.access_log.enabled = absl::GetFlag(FLAGS_access_log);
  options.http.access_log.include_body = absl::GetFlag(FLAGS_log_webhook_bodies);
  options.http.head_limits = head_limits;
  options.http.max_inflight_body_bytes =
      CountFromFlag(absl::GetFlag(FLAGS_http_max_inflight_body_bytes));
  REFIR_ASSIGN_OR_RETURN(SourceConfig source, DefaultSourceFromFlags());
  options.sources.push_back(std::move(source));

  options.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  options.grpc_port = absl::GetFlag(FLAGS_grpc_port);
  options.grpc_security.tls_cert_file = absl::GetFlag(FLAGS_grpc_tls_cert_file);
  options.grpc_security.tls_key_file = absl::GetFlag(FLAGS_grpc_tls_key_file);
  options.grpc_security.tls_client_ca_file = absl::GetFlag(FLAGS_grpc_tls_client_ca_file);
  options.grpc_security.tokens_file = absl::GetFlag(FLAGS_grpc_tokens_file);
  options.grpc_security.allow_insecure_remote = absl::GetFlag(FLAGS_grpc_allow_insecure_remote);
  options.grpc_max_concurrent_streams = absl::GetFlag(FLAGS_grpc_max_concurrent_streams);
  // Saturates rather than wraps, so Validate() refuses an absurd value.
  const size_t memory_mib = CountFromFlag(absl::GetFlag(FLAGS_grpc_memory_limit_mib));
  options.grpc_memory_limit_bytes = memory_mib > (SIZE_MAX >> 20) ? SIZE_MAX : memory_mib << 20;
  options.grpc_max_consumer_groups = CountFromFlag(absl::GetFlag(FLAGS_grpc_max_consumer_groups));
  options.group_idle_expiry = absl::GetFlag(FLAGS_group_idle_expiry);

  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  options.shutdown_drain = absl::GetFlag(FLAGS_shutdown_drain);
  options.admin_enabled = absl::GetFlag(FLAGS_admin_port) != -1;
  options.admin.address = absl::GetFlag(FLAGS_admin_address);
  options.admin.port = absl::GetFlag(FLAGS_admin_port);
  options.admin.head_limits = head_limits;
  options.inspector.enabled = absl::GetFlag(FLAGS_inspector);
  options.inspector.token_file = absl::GetFlag(FLAGS_inspector_token_file);
  return options;
}

// SIGINT and SIGTERM: blocked in every thread of the bridge (main() blocks
// them before any thread starts, the log's flusher included); Run() waits
// for them with sigwait. So a second SIGTERM during the shutdown is not
// fatal: it stays pending.
sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// `config_origins` names the config file line of a bad value the file set.
int Run(const ConfigOrigins& config_origins) {
  if (absl::Status logging = SetUpLogging(); !logging.ok()) {
    LogError(absl::StrCat("bad flag: ", config_origins.Attribute(logging).message()));
    return 2;
  }
  absl::StatusOr<BridgeOptions> parsed = OptionsFromFlags();
  absl::Status valid = parsed.ok() ? parsed->Validate() : parsed.status();
  if (!valid.ok()) {
    LogError(absl::StrCat("bad flag: ", config_origins.Attribute(valid).message()));
    return 2;
  }
  BridgeOptions options = *std::move(parsed);
  absl::StatusOr<int> connections =
      FitConnectionsToFileLimit(static_cast<int>(options.http.max_connections),
                                static_cast<int>(options.http.worker_threads));
  if (!connections.ok()) {
    LogError(absl::StrCat("bad flag: ", config_origins.Attribute(connections.status()).message()));
    return 2;
  }
  options.http.max_connections = static_cast<size_t>(*connections);
  signal(SIGPIPE, SIG_IGN);

  if (absl::Status secrets =
          CheckSecretFlagFiles(options, absl::GetFlag(FLAGS_refuse_insecure_secret_files));
      !secrets.ok()) {
    LogError(absl::StrCat("insecure secret file: ", secrets.message()));
    return 2;
  }
  if (absl::Status sources = LoadSourcesFileFromFlags(&options); !sources.ok()) {
    LogError(absl::StrCat("bad --sources_file: ", sources.message()));
    return 2;
  }
  absl::StatusOr<std::unique_ptr<BridgeServer>> server = BridgeServer::Start(options);
  if (!server.ok()) {
    LogError(absl::StrCat("cannot start: ", server.status().ToString()));
    return 1;
  }
  const std::string ports_file = absl::GetFlag(FLAGS_ports_file);
  if (!ports_file.empty()) {
    if (absl::Status written = WritePortsFile(ports_file, (*server)->http_port(),
                                              (*server)->grpc_port(), (*server)->admin_port());
        !written.ok()) {
      LogError(written.ToString());
      (*server)->Shutdown();
      return 1;
    }
  }
  int signal_number = 0;
  const sigset_t stop_signals = StopSignals();
  sigwait(&stop_signals, &signal_number);
  LogInfo("received signal", {{"signal", signal_number}});
  (*server)->Shutdown();
  return 0;
}

}  // namespace
}  // namespace refir::bridge

extern char** environ;

int main(int argc, char** argv) {
  // Files the bridge creates (journal, groups, ports file) are private:
  // webhook bodies hold personal data.
  umask(077);
  // The client commands (send, tail, groups, dead-letters, replay) talk to a
  // bridge. `refir-bridge serve [flags]` and `refir-bridge [flags]` run the
  // bridge; any other first word that is not a flag is refused.
  if (std::optional<int> exit_code = refir::bridge::cli::RunClientCommand(argc, argv)) {
    return *exit_code;
  }
  // Serving: before anything can start a thread (the log's flusher starts
  // with the first line), so every thread inherits the mask.
  const sigset_t stop_signals = refir::bridge::StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::vector<char*> args(argv, argv + argc);
  if (args.size() > 1 && args[1][0] != '-') {
    const absl::string_view command = args[1];
    if (command != "serve") {
      refir::bridge::LogError(absl::StrCat("unknown command \"", command, "\" (commands: ",
                                           refir::bridge::cli::CommandNames(), ")"));
      refir::bridge::FlushLogs();
      return 2;
    }
    args.erase(args.begin() + 1);
  }
  args.push_back(nullptr);  // argv[argc] is null, as for main's own
  argc = static_cast<int>(args.size()) - 1;
  argv = args.data();
  // --help lists the bridge's own flags (those defined under bridge/).
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "bridge/");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  usage_config.normalize_filename = [](absl::string_view file) {
    const size_t start = file.rfind("bridge/");
    return std::string(start == absl::string_view::npos ? file : file.substr(start));
  };
  absl::SetFlagsUsageConfig(usage_config);
  absl::SetProgramUsageMessage(
      "Receives Refir webhooks over HTTP, stores them durably, and streams them over gRPC.\n"
      "Usage: refir-bridge [serve] [--flag=value ...]\n"
      "       refir-bridge send|tail|groups|dead-letters|replay ... (each has --help)\n"
      "Every flag --name can also be set by the environment variable REFIR_BRIDGE_NAME or by\n"
      "a `name = value` line in the file named by --config. Precedence, lowest first:\n"
      "default, config file, environment, command line.");
  // Until Run() reads --log_format, lines follow its `auto` rule (JSON
  // unless stderr is a terminal): so are the errors of these two checks.
  if (absl::Status checked = refir::bridge::CheckCommandLineFlags(argc, argv); !checked.ok()) {
    refir::bridge::LogError(absl::StrCat("bad flag: ", checked.message()));
    refir::bridge::FlushLogs();
    return 2;
  }
  absl::StatusOr<refir::bridge::ConfigOrigins> config_origins =
      refir::bridge::ApplyConfigFileAndEnvironment(argc, argv, environ);
  if (!config_origins.ok()) {
    refir::bridge::LogError(absl::StrCat("bad configuration: ", config_origins.status().message()));
    refir::bridge::FlushLogs();
    return 2;
  }
  absl::ParseCommandLine(argc, argv);
#ifdef NDEBUG
  // Debian's abseil checks every Mutex acquisition for lock-order cycles
  // (GraphCycles showed up in the ingest profile). Release builds skip that
  // cost; the Debug build the sanitizer suite runs keeps the check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  const int exit_code = refir::bridge::Run(*config_origins);
  refir::bridge::FlushLogs();
  return exit_code;
}
