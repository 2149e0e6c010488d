#include "bridge/http_edge/guarded_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "bridge/http_edge/connection_stream.h"
#include "bridge/http_edge/elastic_task_queue.h"
#include "bridge/http_edge/http_reply.h"

namespace refir::bridge {
namespace {

// A TLS connection refused at the connection limit gets at most this long
// for its handshake, on the accept thread, before it is closed unanswered.
constexpr absl::Duration kRefusalHandshake = absl::Milliseconds(100);
// After a refusal handshake that failed, TLS refusals close at once for this
// long: a client that stalls its handshakes costs the accept thread at most
// kRefusalHandshake per kRefusalBackoff (10%), not every accept.
constexpr absl::Duration kRefusalBackoff = absl::Seconds(1);

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string CannedResponse(const HttpReply& reply) {
  std::string response =
      absl::StrCat("HTTP/1.1 ", reply.status, " ", ReasonPhrase(reply.status),
                   "\r\nContent-Type: application/json\r\nContent-Length: ", reply.body.size(),
                   "\r\nConnection: close\r\n");
  for (const auto& [name, value] : reply.headers)
    absl::StrAppend(&response, name, ": ", value, "\r\n");
  absl::StrAppend(&response, "\r\n", reply.body);
  return response;
}

std::string TooManyConnections(const std::string& detail) {
  HttpReply reply = JsonErrorReply(503, "too_many_connections", detail);
  reply.headers.emplace_back("Retry-After", "1");
  return CannedResponse(reply);
}

const std::string& RequestTimeout() {
  static const std::string* const kResponse = [] {
    return new std::string(CannedResponse(
        JsonErrorReply(408, "request_timeout",
                       "the request did not arrive completely within the request deadline "
                       "(--http_request_timeout on the webhook listener)")));
  }();
  return *kResponse;
}

// Reads and drops what the peer has sent, waiting at most `wait` for more,
// until it closes: closing with unread input would send a reset that can
// destroy the answer before the peer reads it. Raw bytes, TLS or not.
void Drain(int fd, absl::Duration wait) {
  const absl::Time until = absl::Now() + wait;
  char sink[4096];
  for (int reads = 0; reads < 64; ++reads) {
    const ssize_t got = ::recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
    if (got == 0) return;
    if (got < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
      if (absl::Now() >= until || !PollUntil(fd, POLLIN, -1, until)) return;
    }
  }
}

// Sends `response` as the last answer on `stream` and ends the connection's
// sending side, then drains.
void AnswerAndClose(ConnectionStream& stream, int sock, const std::string& response) {
  // Clears an expired request's state: the answer is written regardless.
  stream.BeginRequest(absl::InfiniteFuture());
  [[maybe_unused]] const ssize_t written = stream.write(response.data(), response.size());
  [[maybe_unused]] const bool sent = stream.Flush();
  stream.transport().Close();
  ::shutdown(sock, SHUT_WR);
  Drain(sock, absl::Seconds(1));
}

}  // namespace

GuardedServer::GuardedServer(const GuardedServerOptions& options)
    : options_(options),
      stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      too_many_connections_(TooManyConnections(options.connection_limit_detail)) {}

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
  if (options_.tls != nullptr) {
    const absl::Time now = absl::Now();
    std::unique_ptr<TlsTransport> tls;
    if (now >= polite_tls_refusals_resume_) {
      tls = TlsHandshake(*options_.tls, fd, stop_fd_, now + kRefusalHandshake);
      if (tls == nullptr) polite_tls_refusals_resume_ = absl::Now() + kRefusalBackoff;
    }
    if (tls != nullptr) {
      Transport::Want want = Transport::Want::kNone;
      // A fresh connection's buffers take this whole; never waits.
      [[maybe_unused]] const ssize_t sent =
          tls->Write(too_many_connections_.data(), too_many_connections_.size(), &want);
      tls->Close();
    }
  } else {
    // Never blocks: a fresh socket's send buffer takes this whole.
    [[maybe_unused]] const ssize_t sent =
        ::send(fd, too_many_connections_.data(), too_many_connections_.size(),
               MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  ::shutdown(fd, SHUT_WR);
  Drain(fd, absl::ZeroDuration());
  ::close(fd);
}

bool GuardedServer::ReadHead(ConnectionStream& stream, bool* ret) {
  HeadScanner scanner(options_.head_limits);
  std::string head;
  char chunk[4096];
  while (true) {
    const ssize_t got = stream.read(chunk, sizeof(chunk));
    if (got <= 0) {
      if (stream.expired()) {
        request_timeouts_.fetch_add(1);
        AnswerAndClose(stream, stream.socket(), RequestTimeout());
      }
      *ret = false;
      return false;
    }
    head.append(chunk, static_cast<size_t>(got));
    HeadScanner::Result scanned = scanner.Feed(head);
    if (std::holds_alternative<HeadScanner::NeedMore>(scanned)) continue;
    if (auto* refused = std::get_if<HttpReply>(&scanned)) {
      refused_heads_.fetch_add(1);
      AnswerAndClose(stream, stream.socket(), CannedResponse(*refused));
      *ret = true;
      return false;
    }
    const size_t head_bytes = std::get<HeadScanner::Complete>(scanned).head_bytes;
    auto checked = CanonicalizeHead(absl::string_view(head).substr(0, head_bytes));
    if (auto* refused = std::get_if<HttpReply>(&checked)) {
      refused_heads_.fetch_add(1);
      AnswerAndClose(stream, stream.socket(), CannedResponse(*refused));
      *ret = true;
      return false;
    }
    std::string canonical = std::move(std::get<CanonicalHead>(checked).text);
    canonical.append(head, head_bytes, std::string::npos);
    stream.Unread(std::move(canonical));
    return true;
  }
}

bool GuardedServer::ServeConnection(ConnectionStream& stream) {
  bool ret = false;
  for (size_t left = options_.keep_alive_max_requests; left > 0; --left) {
    if (stream.WaitForRequest(options_.keep_alive_timeout) != ConnectionStream::Wait::kRequest) {
      break;
    }
    const bool stopping = svr_sock_ == INVALID_SOCKET;
    stream.BeginRequest(absl::Now() + options_.request_timeout);
    if (!ReadHead(stream, &ret)) break;
    bool connection_closed = false;
    ret = process_request(stream, /*close_connection=*/left == 1 || stopping, connection_closed,
                          nullptr);
    if (!stream.Flush()) ret = false;
    if (stream.expired()) {
      request_timeouts_.fetch_add(1);
      if (stream.written() == 0) AnswerAndClose(stream, stream.socket(), RequestTimeout());
      ret = false;
      break;
    }
    if (!ret || connection_closed || stopping || stream.response_closes()) break;
  }
  stream.transport().Close();
  return ret;
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
  bool ret = false;
  std::unique_ptr<Transport> transport;
  if (options_.tls != nullptr) {
    transport =
        TlsHandshake(*options_.tls, sock, stop_fd_,
                     absl::Now() + std::min(options_.request_timeout, options_.read_timeout));
    if (transport == nullptr) failed_handshakes_.fetch_add(1);
  } else {
    transport = std::make_unique<PlainTransport>(sock);
  }
  if (transport != nullptr) {
    ConnectionStream stream(sock, stop_fd_, options_.read_timeout, options_.write_timeout,
                            std::move(transport));
    ret = ServeConnection(stream);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  open_connections_.fetch_sub(1);
  return ret;
}

void WriteReply(const HttpReply& reply, httplib::Response& res) {
  res.status = reply.status;
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  res.set_content(reply.body, reply.content_type);
}

}  // namespace refir::bridge
