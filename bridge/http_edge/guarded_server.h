// GuardedServer: cpp-httplib's server with its connection loop replaced, so
// hostile clients cannot hold a listener (webhook or admin, plain HTTP or
// TLS) or exhaust memory:
//  - TLS, when given a context, is done here (transport.h): the handshake is
//    bounded by the request deadline;
//  - each request head (line and headers) is read by the server itself
//    within the limits of request_head.h (414/431 beyond them), checked for
//    ambiguous framing (400), and handed to httplib in a canonical form;
//  - each request must arrive completely within `request_timeout` from its
//    first byte (slow-loris); else 408 (if nothing was answered yet) and close;
//  - idle keep-alive connections wait in poll(), and a stopping server wakes
//    them at once;
//  - a connection the ElasticTaskQueue refuses (at --http_max_connections)
//    gets a canned 503 too_many_connections written without blocking (over
//    TLS after a handshake of at most kRefusalHandshake), then is closed, all
//    on the accept thread.
// Every refusal carries a JSON body and Connection: close; the connection is
// then drained briefly and closed. Requests with a good head are parsed and
// routed by httplib.
#ifndef REFIR_BRIDGE_HTTP_EDGE_GUARDED_SERVER_H_
#define REFIR_BRIDGE_HTTP_EDGE_GUARDED_SERVER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "bridge/http_edge/http_reply.h"
#include "bridge/http_edge/request_head.h"
#include "bridge/http_edge/transport.h"
#include "httplib.h"

namespace refir::bridge {

class ConnectionStream;

struct GuardedServerOptions {
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  size_t keep_alive_max_requests = 1000;
  absl::Duration read_timeout = absl::Seconds(5);
  absl::Duration write_timeout = absl::Seconds(5);
  HeadLimits head_limits;
  // TLS with this context; plain HTTP when null. Not owned; must outlive the
  // server.
  const TlsContext* tls = nullptr;
  // The detail of the 503 too_many_connections answer.
  std::string connection_limit_detail = "the webhook listener is at --http_max_connections";
};

class GuardedServer final : public httplib::Server {
 public:
  explicit GuardedServer(const GuardedServerOptions& options);
  ~GuardedServer() override;

  // After binding: httplib listens with a backlog of 5, so a burst of
  // connects overflows it and the kernel drops SYNs (clients retry after
  // 1 s, 3 s, 7 s...). listen() again on Linux only changes the backlog.
  bool SetListenBacklog(int backlog);

  // Wakes every connection waiting on a client, then stops like stop().
  void Shutdown();

  int64_t open_connections() const { return open_connections_.load(); }
  int64_t refused_connections() const { return refused_connections_.load(); }
  int64_t request_timeouts() const { return request_timeouts_.load(); }
  // Requests refused for their head: over a size limit or bad framing.
  int64_t refused_heads() const { return refused_heads_.load(); }
  // TLS handshakes that failed or did not finish in time.
  int64_t failed_handshakes() const { return failed_handshakes_.load(); }

 private:
  bool process_and_close_socket(int sock) override;
  void Refuse(int fd);
  // Serves requests on `stream` until the connection ends; false on error.
  bool ServeConnection(ConnectionStream& stream);
  // Reads the next request head into `stream` (Unread, canonical). False
  // when the connection is done: closed, timed out (408 sent), or refused.
  bool ReadHead(ConnectionStream& stream, bool* ret);

  const GuardedServerOptions options_;
  // An eventfd, readable once Shutdown() ran.
  const int stop_fd_;
  std::atomic<int64_t> open_connections_{0};
  std::atomic<int64_t> refused_connections_{0};
  std::atomic<int64_t> request_timeouts_{0};
  std::atomic<int64_t> refused_heads_{0};
  std::atomic<int64_t> failed_handshakes_{0};
  const std::string too_many_connections_;
  // Accept thread only (Refuse): until then, TLS connections over the limit
  // are closed without a handshake, as a recent refusal handshake stalled.
  absl::Time polite_tls_refusals_resume_ = absl::InfinitePast();
};

// The one way both listeners turn an HttpReply into httplib's response:
// status, extra headers, body and its content type.
void WriteReply(const HttpReply& reply, httplib::Response& res);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_GUARDED_SERVER_H_
