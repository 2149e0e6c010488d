// HttpEdge: the webhook listener, plain HTTP or HTTPS, on a GuardedServer
// (its own connection loop, TLS, head limits and framing checks). Wires
// cpp-httplib (TCP_NODELAY, a bounded worker pool, keep-alive limits,
// timeouts, body limit, a global budget for bodies in flight) to a
// WebhookHandler: the handler's Admit runs before a body is read, so refused
// requests are never buffered. Answers what httplib
// refuses itself (malformed request, URI too long) with a JSON error. Only
// this folder sees httplib.
#ifndef REFIR_BRIDGE_HTTP_EDGE_HTTP_EDGE_H_
#define REFIR_BRIDGE_HTTP_EDGE_HTTP_EDGE_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/http_edge/body_budget.h"
#include "bridge/http_edge/request_head.h"
#include "bridge/http_edge/transport.h"
#include "bridge/http_edge/webhook_handler.h"
#include "bridge/http_edge/webhook_observer.h"
#include "bridge/metrics/metrics.h"

namespace httplib {
class Server;
class ContentReader;
struct Request;
struct Response;
}  // namespace httplib

namespace refir::bridge {

class GuardedServer;

struct HttpEdgeOptions {
  std::string address = "127.0.0.1";
  // 0 picks a free port; see HttpEdge::port().
  int port = 8080;
  // HTTPS when both are set: PEM certificate chain and private key files.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Warm worker threads. Each open connection holds one; the pool grows
  // up to max_connections and extra threads exit when idle.
  size_t worker_threads = 32;
  // Open connections served at once. The excess is answered 503
  // too_many_connections and closed (HTTPS after a short handshake).
  size_t max_connections = 1024;
  // A request must arrive completely (line, headers, body) within this
  // from its first byte (for HTTPS, the handshake too), else 408 and close.
  absl::Duration request_timeout = absl::Seconds(10);
  // Request line and header limits (414/431 beyond them).
  HeadLimits head_limits;
  // Request body bytes held at once by all requests together: a request
  // whose body would go beyond is answered 503 overloaded.
  size_t max_inflight_body_bytes = 64 * 1024 * 1024;
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

  // INVALID_ARGUMENT (naming the flag) unless the port, the TLS file pair,
  // the worker, connection, timeout and head limits are usable.
  absl::Status Validate() const;
};

class HttpEdge {
 public:
  // Binds and starts serving every path of `handler` on a thread of its
  // own. `handler` must outlive the edge. Fails if the address cannot be
  // bound or the TLS certificate or key cannot be loaded.
  static absl::StatusOr<std::unique_ptr<HttpEdge>> Start(const HttpEdgeOptions& options,
                                                         WebhookHandler* handler);
  ~HttpEdge();

  HttpEdge(const HttpEdge&) = delete;
  HttpEdge& operator=(const HttpEdge&) = delete;

  // The bound port.
  int port() const { return port_; }
  bool tls() const { return !options_.tls_cert_file.empty(); }

  // Open, refused and timed-out connections, refused heads.
  HttpConnectionStats connection_stats() const;

  // Stops accepting, finishes the requests in progress, and joins. Idempotent.
  void Stop();

 private:
  HttpEdge(const HttpEdgeOptions& options, WebhookHandler* handler,
           std::unique_ptr<TlsContext> tls_context);
  void InstallRoutes();
  // POST/PUT/PATCH/DELETE: Admit, then read the body (capped at the
  // source's limit), then Process.
  void ServeWithBody(const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& content_reader);

  const HttpEdgeOptions options_;
  WebhookHandler* const handler_;
  // Writes `reply` and hands both to the observer of the request's source.
  void Answer(const WebhookRequest& request, const HttpReply& reply, httplib::Response& res) const;

  // One per source (metrics labelled with its name), and one without
  // metrics for requests no source serves; all write the access log.
  absl::flat_hash_map<std::string, std::unique_ptr<WebhookObserver>> observers_;
  WebhookObserver unmatched_observer_;
  // Loaded before server_, which uses it, for HTTPS; null for plain HTTP.
  std::unique_ptr<TlsContext> tls_context_;
  std::unique_ptr<GuardedServer> server_;
  BodyBudget body_budget_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_HTTP_EDGE_H_
