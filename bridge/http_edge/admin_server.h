// AdminServer: the operator's HTTP listener, apart from the webhook port:
// GET /healthz (the process is up) and GET /readyz (the journal is writable
// and the bridge is not draining), each answering JSON, and GET /metrics
// (Prometheus text format) when given a metrics renderer.
#ifndef REFIR_BRIDGE_HTTP_EDGE_ADMIN_SERVER_H_
#define REFIR_BRIDGE_HTTP_EDGE_ADMIN_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bridge/http_edge/http_reply.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace refir::bridge {

// OK when the bridge can take webhooks; otherwise why not.
using ReadinessCheck = std::function<absl::Status()>;
// The body of GET /metrics, in the Prometheus text format.
using MetricsRenderer = std::function<std::string()>;

// The pure answers, for tests: `path` is the request path of a GET.
HttpReply AdminReply(const std::string& path, const ReadinessCheck& readiness);

struct AdminServerOptions {
  std::string address = "127.0.0.1";
  // 0 picks a free port; see AdminServer::port().
  int port = 8081;
  // Serves GET /metrics when set; otherwise /metrics is 404 like any
  // unknown path.
  MetricsRenderer metrics;
};

class AdminServer {
 public:
  // Binds and serves on a thread of its own (two workers: probes are light).
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(const AdminServerOptions& options,
                                                            ReadinessCheck readiness);
  ~AdminServer();

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  int port() const { return port_; }
  // Stops serving and joins. Idempotent.
  void Stop();

 private:
  AdminServer();

  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_ADMIN_SERVER_H_
