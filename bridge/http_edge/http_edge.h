// HttpEdge: the webhook listener. Wires cpp-httplib (TCP_NODELAY, a bounded
// worker pool, keep-alive limits, timeouts, body limit) to a WebhookHandler,
// and answers every other case (unknown path, wrong method, body too large,
// malformed request) with a JSON error. Only this folder sees httplib.
#ifndef REFIR_BRIDGE_HTTP_EDGE_HTTP_EDGE_H_
#define REFIR_BRIDGE_HTTP_EDGE_HTTP_EDGE_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/http_edge/webhook_handler.h"
#include "bridge/http_edge/webhook_observer.h"
#include "bridge/metrics/metrics.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace refir::bridge {

struct HttpEdgeOptions {
  std::string address = "127.0.0.1";
  // 0 picks a free port; see HttpEdge::port().
  int port = 8080;
  // The POST endpoint.
  std::string webhook_path = "/webhook";
  // Source name stamped on events from this endpoint.
  std::string source = "refir";
  // Larger bodies get 413, refused from Content-Length before being read.
  size_t max_body_bytes = 1024 * 1024;
  // Worker threads. Each keep-alive connection holds one while it is open.
  size_t worker_threads = 32;
  // Accepted connections waiting for a worker before accept() pauses.
  size_t max_queued_connections = 256;
  // Requests served on one keep-alive connection before it is closed.
  size_t keep_alive_max_requests = 1000;
  // Idle time after which a keep-alive connection is closed.
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  absl::Duration read_timeout = absl::Seconds(5);
  absl::Duration write_timeout = absl::Seconds(5);
  // One info line per webhook (see webhook_observer.h).
  AccessLogOptions access_log;
  // Where webhooks are counted and timed; null for none. Not owned; must
  // outlive the edge.
  Metrics* metrics = nullptr;
};

class HttpEdge {
 public:
  // Binds and starts serving on a thread of its own. `handler` must outlive
  // the edge. Fails if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpEdge>> Start(const HttpEdgeOptions& options,
                                                         WebhookHandler* handler);
  ~HttpEdge();

  HttpEdge(const HttpEdge&) = delete;
  HttpEdge& operator=(const HttpEdge&) = delete;

  // The bound port.
  int port() const { return port_; }

  // Stops accepting, finishes the requests in progress, and joins. Idempotent.
  void Stop();

 private:
  HttpEdge(const HttpEdgeOptions& options, WebhookHandler* handler);
  void InstallRoutes();

  const HttpEdgeOptions options_;
  WebhookHandler* const handler_;
  const WebhookObserver observer_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_HTTP_EDGE_H_
