// ConnectionStream: an httplib::Stream over one accepted socket (plain TCP
// or TLS, see transport.h), buffered, that bounds how long one request may take to arrive. Each
// request gets a deadline (BeginRequest); reading the request line, headers
// and body must finish by then, however slowly the bytes trickle in
// (slow-loris), or reads fail and expired() turns true. The wait for the next
// request also ends when `stop_fd` (an eventfd) becomes readable, so a
// stopping server does not wait for idle keep-alive clients; a request
// already started is left to finish (within its deadline). Response bytes
// are collected and sent with one send() by Flush() (httplib writes a head and
// a body separately); reads try the socket before polling it, and the peer's
// and local addresses are looked up once per connection: fewer system calls
// per request on the ingest hot path. Bytes given back with Unread() (the
// checked request head) are read before anything else.
#ifndef REFIR_BRIDGE_HTTP_EDGE_CONNECTION_STREAM_H_
#define REFIR_BRIDGE_HTTP_EDGE_CONNECTION_STREAM_H_

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "bridge/http_edge/transport.h"
#include "httplib.h"

namespace refir::bridge {

class ConnectionStream final : public httplib::Stream {
 public:
  // Neither fd is owned. `stop_fd` may be -1 for none. Reads and writes go
  // through `transport` (plain TCP on `fd` when null).
  ConnectionStream(int fd, int stop_fd, absl::Duration read_timeout, absl::Duration write_timeout,
                   std::unique_ptr<Transport> transport = nullptr);

  enum class Wait { kRequest, kIdle, kStopping };
  // Waits up to `idle` for the first byte of the next request (or a
  // buffered one, or the peer's close, which reads as kRequest too).
  Wait WaitForRequest(absl::Duration idle);
  // Starts a request that must be read completely by `deadline`.
  void BeginRequest(absl::Time deadline);
  // Puts `bytes` before everything not read yet.
  void Unread(std::string bytes);
  // Sends the response bytes written so far; false when the peer is gone or
  // does not read within the write timeout.
  bool Flush();
  // The deadline of the current request passed while reading it.
  bool expired() const { return expired_; }
  absl::Time deadline() const { return deadline_; }
  Transport& transport() { return *transport_; }
  // Response bytes written for the current request (sent or not yet).
  size_t written() const { return written_; }
  // The current response's head said "Connection: close" (httplib's own
  // loop ignores a handler's Connection: close; this one honours it).
  bool response_closes() const { return response_closes_; }

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return fd_; }

 private:
  // Polls for `events` up to `timeout`; false on timeout or error, and on
  // stop when `wake_on_stop`.
  bool PollFor(short events, absl::Duration timeout, bool wake_on_stop = false) const;
  bool Stopping() const;
  bool HasBuffered() const;

  using Address = std::pair<std::string, int>;

  const int fd_;
  const int stop_fd_;
  const absl::Duration read_timeout_;
  const absl::Duration write_timeout_;
  const std::unique_ptr<Transport> transport_;
  absl::Time deadline_ = absl::InfiniteFuture();
  bool expired_ = false;
  size_t written_ = 0;
  bool response_closes_ = false;
  std::string out_;     // Written, not yet sent.
  std::string unread_;  // Given back by Unread(), from unread_begin_.
  size_t unread_begin_ = 0;
  mutable std::optional<Address> remote_;
  mutable std::optional<Address> local_;
  std::array<char, 4096> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_CONNECTION_STREAM_H_
