#include "bridge/server/bridge_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bridge/common/log.h"
#include "bridge/common/log_setup.h"
#include "bridge/common/read_small_file.h"
#include "bridge/common/status_macros.h"
#include "bridge/delivery/group_registry.h"
#include "bridge/delivery/wakeup_hub.h"
#include "bridge/grpc_api/event_stream_service.h"
#include "bridge/grpc_api/group_forwarder.h"
#include "bridge/journal/jetstream/group_coordinator.h"
#include "bridge/journal/jetstream/jetstream_group_store.h"
#include "bridge/journal/jetstream/jetstream_journal.h"
#include "bridge/journal/jetstream/nats_connection.h"
#include "bridge/journal/sqlite/sqlite_group_store.h"
#include "bridge/journal/sqlite/sqlite_journal.h"
#include "bridge/metrics/metrics.h"
#include "bridge/server/health_watcher.h"
#include "bridge/server/metrics_sources.h"
#include "bridge/server/replica_identity.h"
#include "bridge/server/served_groups.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"

namespace refir::bridge {

// How often gRPC health checking re-reads the journal's writability.
constexpr absl::Duration kHealthCheckInterval = absl::Milliseconds(250);

struct BridgeServer::Parts {
  BridgeOptions options;
  // First, so it is destroyed last: the journal and the edge record into it.
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<Journal> journal;
  // JetStream: this replica's id and the lock on its data directory.
  std::unique_ptr<ReplicaIdentity> replica;
  // JetStream: the groups' own NATS connection (the store and the lease).
  std::unique_ptr<jetstream::NatsConnection> group_connection;
  std::unique_ptr<GroupStore> group_store;
  std::unique_ptr<WakeupHub> hub;
  std::unique_ptr<ServedGroups> groups;
  // JetStream: decides whether this replica serves the groups.
  std::unique_ptr<jetstream::GroupCoordinator> coordinator;
  std::unique_ptr<Retention> retention;
  std::unique_ptr<WebhookHandler> handler;
  std::unique_ptr<HttpEdge> http;
  std::unique_ptr<Inspector> inspector;
  std::unique_ptr<AdminServer> admin;
  std::unique_ptr<TokenAuthorizer> authorizer;
  // JetStream with plaintext gRPC: a standby forwards group calls.
  std::unique_ptr<GroupForwarder> forwarder;
  std::unique_ptr<EventStreamService> service;
  std::unique_ptr<grpc::Server> grpc_server;
  int grpc_port = 0;
  std::unique_ptr<HealthWatcher> health_watcher;
  bool shut_down = false;
};

namespace {

absl::Status EnsureDirectory(const std::string& path) {
  if (mkdir(path.c_str(), 0750) == 0 || errno == EEXIST) {
    struct stat info;
    if (stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("data_dir \"", path, "\" exists and is not a directory"));
    }
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("cannot create data_dir \"", path, "\": ", std::strerror(errno)));
}

// The SQLite journal's file; empty on JetStream.
std::string SqliteJournalPath(const BridgeOptions& options) {
  if (options.journal != JournalKind::kSqlite) return "";
  return absl::StrCat(options.data_dir, "/journal.db");
}

// Where events are stored, for the ready line.
std::string JournalDescription(const BridgeOptions& options) {
  if (options.journal == JournalKind::kSqlite) return SqliteJournalPath(options);
  return absl::StrCat("JetStream stream ", options.jetstream.stream, " on ",
                      absl::StrJoin(options.jetstream.connection.servers, ","));
}

// The first line of a secret file (a password or token), without its line
// break; errors name the flag.
absl::StatusOr<std::string> ReadSecretLine(const std::string& path, absl::string_view flag) {
  absl::StatusOr<std::string> content = ReadSmallFile(path, 4096);
  if (!content.ok()) {
    return absl::Status(content.status().code(),
                        absl::StrCat(flag, " ", path, ": ", content.status().message()));
  }
  std::string line(absl::StripTrailingAsciiWhitespace(*content));
  if (line.empty() || line.find('\n') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, " must hold one non-empty line"));
  }
  return line;
}

// Fills the NATS password and token from their files.
absl::Status ReadNatsSecrets(const BridgeOptions& options,
                             jetstream::NatsConnectionOptions* connection) {
  if (!options.jetstream.password_file.empty()) {
    REFIR_ASSIGN_OR_RETURN(connection->password,
                           ReadSecretLine(options.jetstream.password_file, "--nats_password_file"));
  }
  if (!options.jetstream.token_file.empty()) {
    REFIR_ASSIGN_OR_RETURN(connection->token,
                           ReadSecretLine(options.jetstream.token_file, "--nats_token_file"));
  }
  return absl::OkStatus();
}

GroupDefaults GroupDefaultsFor(const BridgeOptions& options) {
  GroupDefaults defaults;
  defaults.max_groups = options.grpc_max_consumer_groups;
  defaults.idle_expiry = options.group_idle_expiry;
  return defaults;
}

// JetStream: starts competing for the coordinator lease; the replica that
// holds it opens the group registry and serves the groups.
absl::Status StartCoordinator(const BridgeOptions& options, BridgeServer::Parts* parts) {
  jetstream::CoordinatorOptions coordinator_options;
  coordinator_options.bucket = jetstream::GroupBucketName(options.jetstream.stream);
  coordinator_options.replica_id = parts->replica->id();
  coordinator_options.advertised_address =
      options.jetstream.advertised_grpc_address.empty()
          ? absl::StrCat(options.grpc_address, ":", parts->grpc_port)
          : options.jetstream.advertised_grpc_address;
  coordinator_options.lease = options.jetstream.group_lease;
  auto on_acquired = [parts, defaults = GroupDefaultsFor(options)]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<GroupRegistry>> registry = GroupRegistry::Open(
        parts->journal.get(), parts->group_store.get(), parts->hub.get(), defaults);
    if (!registry.ok()) {
      const absl::Status& error = registry.status();
      // NATS electing a leader, or the former holder still saving: the
      // coordinator gives the lease back and tries again.
      if (absl::IsUnavailable(error) || absl::IsDeadlineExceeded(error) || absl::IsAborted(error)) {
        return error;
      }
      LogError(absl::StrCat("cannot load the consumer groups: ", error.ToString()));
      FlushLogs();
      _exit(1);
    }
    parts->groups->Serve(*std::move(registry));
    return absl::OkStatus();
  };
  auto on_lost = [] {
    FlushLogs();
    _exit(kExitLostGroupLease);
  };
  REFIR_ASSIGN_OR_RETURN(
      parts->coordinator,
      jetstream::GroupCoordinator::Start(parts->group_connection->get(),
                                         std::move(coordinator_options), on_acquired, on_lost));
  if (parts->forwarder != nullptr) {
    jetstream::GroupCoordinator* coordinator = parts->coordinator.get();
    parts->forwarder->SetServingAddress([coordinator]() -> std::string {
      return coordinator->holds_lease() ? "" : coordinator->holder_address();
    });
  }
  if (!parts->coordinator->holds_lease()) {
    LogInfo("standby for consumer groups", {{"served_by", parts->coordinator->holder()},
                                            {"forwards_group_calls", parts->forwarder != nullptr}});
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Journal>> OpenJournal(const BridgeOptions& options,
                                                     JournalMetrics* metrics) {
  if (options.journal == JournalKind::kJetStream) {
    JetStreamJournalOptions journal_options;
    journal_options.connection = options.jetstream.connection;
    REFIR_RETURN_IF_ERROR(ReadNatsSecrets(options, &journal_options.connection));
    journal_options.stream = JetStreamStreamSettings(options);
    journal_options.timeout = options.jetstream.publish_timeout;
    journal_options.metrics = metrics;
    journal_options.recent_events_bytes = options.journal_cache_bytes;
    return OpenJetStreamJournal(journal_options);
  }
  SqliteJournalOptions journal_options;
  journal_options.path = SqliteJournalPath(options);
  journal_options.metrics = metrics;
  journal_options.recent_events_bytes = options.journal_cache_bytes;
  return OpenSqliteJournal(journal_options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<BridgeServer>> BridgeServer::Start(const BridgeOptions& options) {
  auto parts = std::make_unique<Parts>();
  parts->options = options;
  // Certificates, keys and tokens first: a bad file stops startup before anything is opened.
  REFIR_ASSIGN_OR_RETURN(GrpcSecurity security,
                         LoadGrpcSecurity(options.grpc_security, options.grpc_address));
  parts->authorizer = std::move(security.authorizer);
  std::string inspector_token;
  if (options.inspector.enabled && !options.inspector.token_file.empty()) {
    REFIR_ASSIGN_OR_RETURN(inspector_token, LoadInspectorToken(options.inspector.token_file));
  }
  REFIR_RETURN_IF_ERROR(EnsureDirectory(options.data_dir));

  parts->metrics = std::make_unique<Metrics>();
  REFIR_ASSIGN_OR_RETURN(parts->journal, OpenJournal(options, parts->metrics->journal()));
  parts->hub = std::make_unique<WakeupHub>(parts->journal->HeadSequence());
  WakeupHub* hub = parts->hub.get();
  parts->journal->AddAppendListener([hub](uint64_t head) { hub->OnHeadAdvanced(head); });
  Parts* raw_parts = parts.get();
  parts->groups = std::make_unique<ServedGroups>([raw_parts]() -> std::string {
    return raw_parts->coordinator == nullptr ? "" : raw_parts->coordinator->holder();
  });
  if (options.journal == JournalKind::kSqlite) {
    REFIR_ASSIGN_OR_RETURN(parts->group_store,
                           OpenSqliteGroupStore(absl::StrCat(options.data_dir, "/groups.db")));
    REFIR_ASSIGN_OR_RETURN(std::unique_ptr<GroupRegistry> registry,
                           GroupRegistry::Open(parts->journal.get(), parts->group_store.get(), hub,
                                               GroupDefaultsFor(options)));
    parts->groups->Serve(std::move(registry));
    // On JetStream the stream's own limits delete old events.
    if (options.retention.enabled()) {
      parts->retention = std::make_unique<Retention>(options.retention, parts->journal.get(),
                                                     parts->groups->registry());
      parts->retention->Start();
    }
  } else {
    REFIR_ASSIGN_OR_RETURN(parts->replica, ReplicaIdentity::Claim(options.data_dir));
    jetstream::NatsConnectionOptions connection = options.jetstream.connection;
    REFIR_RETURN_IF_ERROR(ReadNatsSecrets(options, &connection));
    connection.name = "refir-bridge groups";
    REFIR_ASSIGN_OR_RETURN(parts->group_connection, jetstream::NatsConnection::Connect(connection));
    jetstream::GroupStoreSettings store_settings;
    store_settings.stream = JetStreamStreamSettings(options);
    store_settings.timeout = options.jetstream.publish_timeout;
    REFIR_ASSIGN_OR_RETURN(parts->group_store, jetstream::OpenJetStreamGroupStore(
                                                   parts->group_connection->get(), store_settings));
  }

  std::vector<SourceConfig> sources = options.sources;
  if (sources.empty()) sources.emplace_back();
  REFIR_ASSIGN_OR_RETURN(parts->handler, WebhookHandler::Create(sources, parts->journal.get()));

  // A standby forwards group calls to the serving replica over plaintext
  // only: with TLS there is no CA to verify a peer's certificate (and no
  // client certificate for mutual TLS), so it keeps answering UNAVAILABLE.
  if (options.journal == JournalKind::kJetStream && options.grpc_security.tls_cert_file.empty()) {
    parts->forwarder =
        std::make_unique<GroupForwarder>(parts->replica->id(), grpc::InsecureChannelCredentials());
  }
  parts->service = std::make_unique<EventStreamService>(
      parts->journal.get(), hub, parts->groups.get(), StreamLimits{}, parts->authorizer.get(),
      parts->forwarder.get());
  // grpc.health.v1.Health (SERVING until shutdown starts) and server
  // reflection, so grpcurl and grpc_cli can list and call the API.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(options.grpc_address, ":", options.grpc_port),
                           security.credentials, &parts->grpc_port);
  builder.RegisterService(parts->service.get());
  // Subscribers are long-lived: ping idle connections so dead peers are found.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Hostile or broken clients: a bound on streams per connection, on the
  // memory gRPC spends on buffers, and on one request's size.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.grpc_max_concurrent_streams);
  builder.SetMaxReceiveMessageSize(options.grpc_max_receive_message_bytes);
  grpc::ResourceQuota quota("refir-bridge-grpc");
  quota.Resize(options.grpc_memory_limit_bytes);
  builder.SetResourceQuota(quota);
  parts->grpc_server = builder.BuildAndStart();
  if (parts->grpc_server == nullptr || parts->grpc_port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot bind gRPC listener on ",
                                               options.grpc_address, ":", options.grpc_port,
                                               " (in use, or address not local?)"));
  }

  // One readiness rule for /readyz and gRPC health checking: the journal's
  // last commit succeeded and the bridge is not draining.
  Journal* journal = parts->journal.get();
  WebhookHandler* handler = parts->handler.get();
  auto readiness = [journal, handler]() -> absl::Status {
    if (handler->draining()) return absl::UnavailableError("shutting down");
    if (!journal->Writable()) return absl::UnavailableError("the journal's last commit failed");
    return absl::OkStatus();
  };
  if (grpc::HealthCheckServiceInterface* health = parts->grpc_server->GetHealthCheckService()) {
    parts->health_watcher = std::make_unique<HealthWatcher>(
        [readiness] { return readiness().ok(); },
        [health](bool serving) {
          health->SetServingStatus(v1::EventStream::service_full_name(), serving);
          health->SetServingStatus(serving);
          if (!serving) LogWarning("gRPC health: NOT_SERVING (the journal cannot write)");
        },
        kHealthCheckInterval);
  }
  HttpEdgeOptions http_options = options.http;
  http_options.metrics = parts->metrics.get();
  REFIR_ASSIGN_OR_RETURN(parts->http, HttpEdge::Start(http_options, parts->handler.get()));
  ScrapeSources scrape_sources = BridgeScrapeSources(
      parts->journal.get(), parts->groups.get(), parts->service.get(), SqliteJournalPath(options));
  scrape_sources.http_connections = [http = parts->http.get()] { return http->connection_stats(); };
  if (parts->forwarder != nullptr) {
    scrape_sources.group_calls_forwarded_total = [forwarder = parts->forwarder.get()] {
      return forwarder->forwarded();
    };
  }
  parts->metrics->SetScrapeSources(std::move(scrape_sources));
  if (options.admin_enabled) {
    AdminServerOptions admin_options = options.admin;
    admin_options.metrics = [metrics = parts->metrics.get()] { return metrics->Scrape(); };
    if (options.inspector.enabled) {
      REFIR_ASSIGN_OR_RETURN(
          parts->inspector,
          Inspector::Create(parts->journal.get(), parts->groups.get(), inspector_token));
      admin_options.ui = [inspector = parts->inspector.get()](const AdminRequest& request) {
        return inspector->Serve(request);
      };
    }
    admin_options.groups_readiness = [groups = parts->groups.get(), handler]() -> absl::Status {
      if (handler->draining()) return absl::UnavailableError("shutting down");
      return groups->ServingStatus();
    };
    REFIR_ASSIGN_OR_RETURN(parts->admin, AdminServer::Start(admin_options, readiness));
  }
  if (options.journal == JournalKind::kJetStream) {
    REFIR_RETURN_IF_ERROR(StartCoordinator(options, parts.get()));
  }
  std::vector<std::string> endpoints;
  for (const SourceConfig& source : sources) {
    endpoints.push_back(absl::StrCat(source.path, " (", source.name, ")"));
  }
  LogInfo(absl::StrCat(
      "refir-bridge ready: webhooks on ", parts->http->tls() ? "https://" : "http://",
      options.http.address, ":", parts->http->port(), " at ", absl::StrJoin(endpoints, ", "),
      ", gRPC on ", options.grpc_address, ":", parts->grpc_port, " (", security.description, ")",
      ", journal ", JournalDescription(options), " (head sequence ", parts->journal->HeadSequence(),
      ")",
      parts->admin == nullptr
          ? std::string()
          : absl::StrCat(", probes on http://", options.admin.address, ":", parts->admin->port(),
                         "/healthz and /readyz",
                         parts->inspector == nullptr ? "" : ", inspector at /ui")));
  return std::unique_ptr<BridgeServer>(new BridgeServer(std::move(parts)));
}

BridgeServer::BridgeServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

BridgeServer::~BridgeServer() { Shutdown(); }

int BridgeServer::http_port() const { return parts_->http->port(); }
int BridgeServer::grpc_port() const { return parts_->grpc_port; }
int BridgeServer::admin_port() const {
  return parts_->admin == nullptr ? 0 : parts_->admin->port();
}

void BridgeServer::Shutdown() {
  if (parts_ == nullptr || parts_->shut_down) return;
  parts_->shut_down = true;
  // Stopped first, so it cannot publish SERVING again.
  if (parts_->health_watcher != nullptr) parts_->health_watcher->Stop();
  if (grpc::HealthCheckServiceInterface* health = parts_->grpc_server->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  // New webhooks get 503 shutting_down + Retry-After (and /readyz 503) for
  // the drain period, while a load balancer notices; those already admitted
  // finish their append and are answered 200. Then the listener stops,
  // after the requests in progress are answered.
  parts_->handler->StartDraining();
  LogInfo("shutting down: answering new webhooks 503 shutting_down",
          {{"drain_ms", absl::ToInt64Milliseconds(parts_->options.shutdown_drain)}});
  absl::SleepFor(parts_->options.shutdown_drain);
  LogInfo("shutting down: closing the HTTP listener");
  parts_->http->Stop();
  LogInfo("shutting down: ending subscriber streams");
  parts_->service->BeginShutdown();
  // Streams end as soon as their last write drains (a client that stopped
  // reading holds its stream until the grace runs out). Then shut down with
  // a short deadline: waiting longer would only wait for idle client
  // connections to notice GOAWAY, which some clients poll for every 5 s.
  const absl::Time grace_end = absl::Now() + parts_->options.shutdown_grace;
  if (!parts_->service->WaitForNoStreams(grace_end)) {
    LogWarning("shutting down: cancelling subscriber streams still open after the grace period");
  }
  parts_->grpc_server->Shutdown(
      absl::ToChronoTime(std::min(grace_end, absl::Now() + absl::Milliseconds(500))));
  parts_->grpc_server->Wait();
  if (parts_->retention != nullptr) parts_->retention->Stop();
  // Every stream is gone: checkpoint the groups one last time.
  parts_->groups->Shutdown();
  // Then let a standby take the groups over at once.
  if (parts_->coordinator != nullptr) parts_->coordinator->Stop();
  parts_->hub->Shutdown();
  parts_->journal->Close();
  // Last: probes keep answering (not ready) while the rest stops.
  if (parts_->admin != nullptr) parts_->admin->Stop();
  LogInfo("shutdown complete");
}

}  // namespace refir::bridge
