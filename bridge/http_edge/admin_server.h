// AdminServer: the operator's HTTP listener, apart from the webhook port:
// GET /healthz (the process is up) and GET /readyz (the journal is writable
// and the bridge is not draining), each answering JSON, GET /metrics
// (Prometheus text format) when given a metrics renderer, and GET /ui and
// /ui/* (the inspector, bridge/inspector/) when given a handler for them. Served by a
// GuardedServer (plain HTTP) with its own small limits, so slow or flooding
// clients cannot keep probes from being answered.
#ifndef REFIR_BRIDGE_HTTP_EDGE_ADMIN_SERVER_H_
#define REFIR_BRIDGE_HTTP_EDGE_ADMIN_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/http_edge/http_reply.h"
#include "bridge/http_edge/request_head.h"

namespace refir::bridge {

class GuardedServer;

// OK when the bridge can take webhooks; otherwise why not.
using ReadinessCheck = std::function<absl::Status()>;
// The body of GET /metrics, in the Prometheus text format.
using MetricsRenderer = std::function<std::string()>;

// A GET under /ui, as the inspector's handler sees it.
struct AdminRequest {
  std::string path;
  // The query's parameters, decoded.
  std::multimap<std::string, std::string> params;
  // The Authorization header; "" when absent.
  std::string authorization;
};
// Answers a GET of /ui or a path under /ui/.
using AdminPages = std::function<HttpReply(const AdminRequest&)>;

// The pure answers, for tests: `path` is the request path of a GET.
// `groups_readiness` answers GET /readyz/groups (404 when unset).
HttpReply AdminReply(const std::string& path, const ReadinessCheck& readiness,
                     const ReadinessCheck& groups_readiness = nullptr);

struct AdminServerOptions {
  std::string address = "127.0.0.1";
  // 0 picks a free port; see AdminServer::port().
  int port = 8081;
  // Serves GET /metrics when set; otherwise /metrics is 404 like any
  // unknown path.
  MetricsRenderer metrics;
  // Serves GET /ui and /ui/* when set; otherwise they are 404 like any
  // unknown path.
  AdminPages ui;
  // Serves GET /readyz/groups when set: ready while this replica serves the
  // consumer groups (what a load balancer in front of consumers checks; a
  // failing journal write does not stop it delivering what is stored).
  ReadinessCheck groups_readiness;
  // Request line and header limits (the webhook listener's flags).
  HeadLimits head_limits;
  // Warm worker threads; the pool grows to max_connections (one thread per
  // open connection); beyond, 503 too_many_connections.
  size_t worker_threads = 4;
  size_t max_connections = 64;
  // A request must arrive completely within this from its first byte.
  absl::Duration request_timeout = absl::Seconds(2);
  absl::Duration keep_alive_timeout = absl::Seconds(5);
};

class AdminServer {
 public:
  // Binds and serves on a thread of its own.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(const AdminServerOptions& options,
                                                            ReadinessCheck readiness);
  ~AdminServer();

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  int port() const { return port_; }
  // Stops serving and joins. Idempotent.
  void Stop();

 private:
  explicit AdminServer(const AdminServerOptions& options);

  std::unique_ptr<GuardedServer> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_ADMIN_SERVER_H_
