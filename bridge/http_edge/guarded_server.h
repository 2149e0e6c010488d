// GuardedServer: cpp-httplib's plain-HTTP server with its connection loop
// replaced, so hostile clients cannot hold the webhook listener:
//  - each request must arrive completely within `request_timeout` from its
//    first byte (slow-loris); else 408 (if nothing was answered yet) and close;
//  - idle keep-alive connections wait in poll(), and a stopping server wakes
//    them at once;
//  - a connection the ElasticTaskQueue refuses (at --http_max_connections)
//    gets a canned 503 too_many_connections written without blocking, then
//    is closed, all on the accept thread.
// Requests themselves are still parsed and routed by httplib.
#ifndef REFIR_BRIDGE_HTTP_EDGE_GUARDED_SERVER_H_
#define REFIR_BRIDGE_HTTP_EDGE_GUARDED_SERVER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "httplib.h"

namespace refir::bridge {

struct GuardedServerOptions {
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  size_t keep_alive_max_requests = 1000;
  absl::Duration read_timeout = absl::Seconds(5);
  absl::Duration write_timeout = absl::Seconds(5);
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

 private:
  bool process_and_close_socket(int sock) override;
  void Refuse(int fd);

  const GuardedServerOptions options_;
  // An eventfd, readable once Shutdown() ran.
  const int stop_fd_;
  std::atomic<int64_t> open_connections_{0};
  std::atomic<int64_t> refused_connections_{0};
  std::atomic<int64_t> request_timeouts_{0};
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_GUARDED_SERVER_H_
