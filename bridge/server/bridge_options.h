// BridgeOptions: every setting of a BridgeServer, with the check that they
// are usable together. main.cc builds them from flags and calls Validate()
// once; in-process tests fill them directly.
#ifndef REFIR_BRIDGE_SERVER_BRIDGE_OPTIONS_H_
#define REFIR_BRIDGE_SERVER_BRIDGE_OPTIONS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/delivery/consumer_groups.h"
#include "bridge/delivery/retention.h"
#include "bridge/grpc_api/grpc_security.h"
#include "bridge/http_edge/admin_server.h"
#include "bridge/http_edge/http_edge.h"
#include "bridge/inspector/inspector.h"
#include "bridge/journal/jetstream/jetstream_stream.h"
#include "bridge/journal/jetstream/nats_connection.h"
#include "bridge/journal/recent_events.h"
#include "bridge/sources/source_config.h"

namespace refir::bridge {

// Where events are stored: the embedded SQLite file, or a NATS JetStream
// stream shared by replicas (docs/scaling.md).
enum class JournalKind { kSqlite, kJetStream };

// "sqlite" or "jetstream"; INVALID_ARGUMENT naming --journal otherwise.
absl::StatusOr<JournalKind> ParseJournalKind(absl::string_view text);

// The JetStream journal's settings that come from flags (the stream's
// limits and duplicate window come from --retention, --max_journal_bytes
// and the sources' dedup windows).
struct JetStreamSettings {
  // Servers, user and CA file; the password and token are read from
  // password_file and token_file at startup.
  jetstream::NatsConnectionOptions connection;
  std::string password_file;
  std::string token_file;
  std::string stream = "REFIR";
  std::string subject_prefix = "refir.events";
  int replicas = 1;
  absl::Duration publish_timeout = absl::Seconds(5);
  // What a standby tells consumers about the replica serving the groups
  // (host:port of its gRPC listener); empty: --grpc_address:port.
  std::string advertised_grpc_address;
  // The coordinator lease: a standby takes the groups over this long after
  // their replica stopped renewing it.
  absl::Duration group_lease = absl::Seconds(10);
};

struct BridgeOptions;

// The stream the JetStream journal uses under `options`: the names and
// replicas from the flags, --retention as MaxAge, --max_journal_bytes as
// MaxBytes, and the largest dedup window of the sources as the duplicate
// window (JetStream has one window per stream).
jetstream::StreamSettings JetStreamStreamSettings(const BridgeOptions& options);

struct BridgeOptions {
  JournalKind journal = JournalKind::kSqlite;
  // Used when journal is kJetStream.
  JetStreamSettings jetstream;
  // Directory holding the SQLite journal (journal.db) and the consumer
  // groups (groups.db); created if missing.
  std::string data_dir = "./data";
  // Bytes of the newest events the journal keeps in memory for the streams
  // that follow the head (0: every read goes to the file).
  size_t journal_cache_bytes = kDefaultRecentEventsBytes;
  HttpEdgeOptions http;
  // Deleting old events; off by default (keep forever).
  RetentionOptions retention;
  // The webhook sources served on the HTTP edge. Empty: one source "refir"
  // at /webhook without verification. main.cc validates the one source the
  // flags describe, before a --sources_file (validated as it is parsed)
  // replaces it.
  std::vector<SourceConfig> sources;
  // The /healthz and /readyz listener; disabled when admin_enabled is false.
  bool admin_enabled = true;
  AdminServerOptions admin;
  // The live inspector page at /ui on the admin listener; off by default.
  InspectorOptions inspector;
  std::string grpc_address = "127.0.0.1";
  // 0 picks a free port; see BridgeServer::grpc_port().
  int grpc_port = 50051;
  // TLS / mutual TLS and bearer tokens of the gRPC listener; plaintext and
  // open by default.
  GrpcSecurityOptions grpc_security;
  // Resource bounds of the gRPC listener (see docs/api.md, "Limits").
  // Concurrent streams (calls) per HTTP/2 connection.
  int grpc_max_concurrent_streams = 100;
  // grpc::ResourceQuota of the gRPC server: memory gRPC may use for its
  // connections' buffers.
  size_t grpc_memory_limit_bytes = size_t{256} << 20;
  // Largest request message gRPC accepts (gRPC's own default, made explicit).
  int grpc_max_receive_message_bytes = 4 << 20;
  // Most consumer groups; creating one more is RESOURCE_EXHAUSTED.
  size_t grpc_max_consumer_groups = 1000;
  // Idle expiry of groups created without SubscribeInit.idle_expiry; zero:
  // never. At most kMaxIdleExpiry.
  absl::Duration group_idle_expiry = absl::ZeroDuration();
  // How long Shutdown waits for gRPC calls to end before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(5);
  // The first part of Shutdown: for this long the webhook listener still
  // accepts, answers new webhooks 503 shutting_down (requests already past
  // admission finish with their 200) and /readyz 503, so a load balancer
  // stops sending before the listener closes. 0: it closes at once.
  absl::Duration shutdown_drain = absl::Seconds(1);

  // INVALID_ARGUMENT, naming the flag, unless every setting is usable: the
  // members' own Validate(), the ports, each source's path, body limit
  // (within the in-flight budget) and dedup policy, and the gRPC limits.
  absl::Status Validate() const;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_SERVER_BRIDGE_OPTIONS_H_
