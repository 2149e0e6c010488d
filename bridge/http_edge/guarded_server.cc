#include "bridge/http_edge/guarded_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "bridge/http_edge/connection_stream.h"
#include "bridge/http_edge/elastic_task_queue.h"
#include "bridge/http_edge/http_reply.h"

namespace refir::bridge {
namespace {

std::string CannedResponse(const HttpReply& reply, absl::string_view reason) {
  std::string response =
      absl::StrCat("HTTP/1.1 ", reply.status, " ", reason,
                   "\r\nContent-Type: application/json\r\nContent-Length: ", reply.body.size(),
                   "\r\nConnection: close\r\n");
  for (const auto& [name, value] : reply.headers)
    absl::StrAppend(&response, name, ": ", value, "\r\n");
  absl::StrAppend(&response, "\r\n", reply.body);
  return response;
}

const std::string& TooManyConnections() {
  static const std::string* const kResponse = [] {
    HttpReply reply = JsonErrorReply(503, "too_many_connections",
                                     "the webhook listener is at --http_max_connections");
    reply.headers.emplace_back("Retry-After", "1");
    return new std::string(CannedResponse(reply, "Service Unavailable"));
  }();
  return *kResponse;
}

const std::string& RequestTimeout() {
  static const std::string* const kResponse = [] {
    return new std::string(CannedResponse(
        JsonErrorReply(408, "request_timeout",
                       "the request did not arrive completely within --http_request_timeout"),
        "Request Timeout"));
  }();
  return *kResponse;
}

// Reads and drops what the peer has sent, waiting at most `wait` for more,
// until it closes: closing with unread input would send a reset that can
// destroy the answer before the peer reads it.
void Drain(int fd, absl::Duration wait) {
  const absl::Time until = absl::Now() + wait;
  char sink[1024];
  for (int reads = 0; reads < 64; ++reads) {
    const ssize_t got = ::recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
    if (got == 0) return;
    if (got < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
      const absl::Duration left = until - absl::Now();
      if (left <= absl::ZeroDuration()) return;
      ConnectionStream waiter(fd, -1, left, left);
      if (waiter.WaitForRequest(left) != ConnectionStream::Wait::kRequest) return;
    }
  }
}

}  // namespace

GuardedServer::GuardedServer(const GuardedServerOptions& options)
    : options_(options), stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

GuardedServer::~GuardedServer() {
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

bool GuardedServer::SetListenBacklog(int backlog) {
  const int sock = svr_sock_;
  return sock != INVALID_SOCKET && ::listen(sock, backlog) == 0;
}

void GuardedServer::Shutdown() {
  if (stop_fd_ >= 0) {
    const uint64_t one = 1;
    // Level-triggered: stays readable, so every waiting connection wakes.
    [[maybe_unused]] const ssize_t written = ::write(stop_fd_, &one, sizeof(one));
  }
  stop();
}

void GuardedServer::Refuse(int fd) {
  refused_connections_.fetch_add(1);
  const std::string& response = TooManyConnections();
  // Never blocks: a fresh socket's send buffer takes this whole.
  [[maybe_unused]] const ssize_t sent =
      ::send(fd, response.data(), response.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  Drain(fd, absl::ZeroDuration());
  ::close(fd);
}

bool GuardedServer::process_and_close_socket(int sock) {
  if (ElasticTaskQueue::Refusing()) {
    Refuse(sock);
    return true;
  }
  open_connections_.fetch_add(1);
  // Each response goes out in one send (ConnectionStream::Flush); without
  // Nagle off, a response following a partly acknowledged one would wait.
  const int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ConnectionStream stream(sock, stop_fd_, options_.read_timeout, options_.write_timeout);
  bool ret = false;
  for (size_t left = options_.keep_alive_max_requests; left > 0; --left) {
    if (stream.WaitForRequest(options_.keep_alive_timeout) != ConnectionStream::Wait::kRequest) {
      break;
    }
    const bool stopping = svr_sock_ == INVALID_SOCKET;
    stream.BeginRequest(absl::Now() + options_.request_timeout);
    bool connection_closed = false;
    ret = process_request(stream, /*close_connection=*/left == 1 || stopping, connection_closed,
                          nullptr);
    if (!stream.Flush()) ret = false;
    if (stream.expired()) {
      request_timeouts_.fetch_add(1);
      if (stream.written() == 0) {
        const std::string& response = RequestTimeout();
        [[maybe_unused]] const ssize_t sent =
            ::send(sock, response.data(), response.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        ::shutdown(sock, SHUT_WR);
        Drain(sock, absl::Seconds(1));
      }
      ret = false;
      break;
    }
    if (!ret || connection_closed || stopping || stream.response_closes()) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  open_connections_.fetch_sub(1);
  return ret;
}

}  // namespace refir::bridge
