#include "bridge/http_edge/connection_stream.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace refir::bridge {
namespace {

// As httplib does: numeric host and port of a socket address.
void IpAndPort(const sockaddr_storage& addr, socklen_t length, std::string& ip, int& port) {
  if (addr.ss_family == AF_INET) {
    port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  } else {
    return;
  }
  char host[NI_MAXHOST] = {};
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), length, host, sizeof(host), nullptr, 0,
                  NI_NUMERICHOST) == 0) {
    ip = host;
  }
}

// Fills `cache` from `lookup` (getpeername or getsockname) the first time.
void LookUpOnce(int fd, int (*lookup)(int, sockaddr*, socklen_t*),
                std::optional<std::pair<std::string, int>>& cache) {
  if (cache) return;
  cache.emplace();
  sockaddr_storage addr = {};
  socklen_t length = sizeof(addr);
  if (lookup(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    IpAndPort(addr, length, cache->first, cache->second);
  }
}

}  // namespace

ConnectionStream::ConnectionStream(int fd, int stop_fd, absl::Duration read_timeout,
                                   absl::Duration write_timeout,
                                   std::unique_ptr<Transport> transport)
    : fd_(fd),
      stop_fd_(stop_fd),
      read_timeout_(read_timeout),
      write_timeout_(write_timeout),
      transport_(transport != nullptr ? std::move(transport)
                                      : std::make_unique<PlainTransport>(fd)) {}

bool ConnectionStream::HasBuffered() const {
  return unread_begin_ < unread_.size() || begin_ < end_ || transport_->HasBuffered();
}

void ConnectionStream::Unread(std::string bytes) {
  bytes.append(unread_, unread_begin_);
  bytes.append(buffer_.data() + begin_, end_ - begin_);
  unread_ = std::move(bytes);
  unread_begin_ = 0;
  begin_ = end_ = 0;
}

bool ConnectionStream::Stopping() const {
  if (stop_fd_ < 0) return false;
  pollfd stop = {stop_fd_, POLLIN, 0};
  return ::poll(&stop, 1, 0) > 0;
}

bool ConnectionStream::PollFor(short events, absl::Duration timeout, bool wake_on_stop) const {
  // A request already arriving is served (the caller closes after it).
  return PollUntil(fd_, events, wake_on_stop ? stop_fd_ : -1, absl::Now() + timeout);
}

ConnectionStream::Wait ConnectionStream::WaitForRequest(absl::Duration idle) {
  if (HasBuffered()) return Wait::kRequest;
  if (PollFor(POLLIN, idle, /*wake_on_stop=*/true)) return Wait::kRequest;
  return Stopping() ? Wait::kStopping : Wait::kIdle;
}

void ConnectionStream::BeginRequest(absl::Time deadline) {
  deadline_ = deadline;
  expired_ = false;
  written_ = 0;
  response_closes_ = false;
}

bool ConnectionStream::is_readable() const {
  if (HasBuffered()) return true;
  if (expired_ || absl::Now() >= deadline_) return false;
  return PollFor(POLLIN, std::min(read_timeout_, deadline_ - absl::Now()));
}

bool ConnectionStream::is_writable() const { return !expired_ && PollFor(POLLOUT, write_timeout_); }

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  if (unread_begin_ < unread_.size()) {
    const size_t n = std::min(size, unread_.size() - unread_begin_);
    std::memcpy(ptr, unread_.data() + unread_begin_, n);
    unread_begin_ += n;
    if (unread_begin_ == unread_.size()) {
      unread_.clear();
      unread_.shrink_to_fit();
      unread_begin_ = 0;
    }
    return static_cast<ssize_t>(n);
  }
  while (begin_ == end_) {
    if (expired_ || absl::Now() >= deadline_) {
      expired_ = true;
      return -1;
    }
    // Usually the bytes are already there: try before polling.
    Transport::Want want = Transport::Want::kNone;
    const ssize_t got = transport_->Read(buffer_.data(), buffer_.size(), &want);
    if (got > 0) {
      begin_ = 0;
      end_ = static_cast<size_t>(got);
      break;
    }
    if (got == 0 || want == Transport::Want::kNone) return got;
    const absl::Duration wait = std::min(read_timeout_, deadline_ - absl::Now());
    if (!PollFor(want == Transport::Want::kRead ? POLLIN : POLLOUT, wait)) {
      if (absl::Now() >= deadline_) expired_ = true;
      return -1;
    }
  }
  const size_t n = std::min(size, end_ - begin_);
  std::memcpy(ptr, buffer_.data() + begin_, n);
  begin_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  constexpr size_t kFlushAt = 64 * 1024;
  if (expired_) return -1;
  // httplib writes a response's status line and headers in one write.
  const absl::string_view data(ptr, size);
  if (absl::StartsWith(data, "HTTP/1.")) {
    const std::string head = absl::AsciiStrToLower(data.substr(0, data.find("\r\n\r\n")));
    response_closes_ = absl::StrContains(head, "\r\nconnection: close");
  }
  out_.append(ptr, size);
  written_ += size;
  if (out_.size() >= kFlushAt && !Flush()) return -1;
  return static_cast<ssize_t>(size);
}

bool ConnectionStream::Flush() {
  size_t offset = 0;
  while (offset < out_.size()) {
    Transport::Want want = Transport::Want::kNone;
    const ssize_t sent = transport_->Write(out_.data() + offset, out_.size() - offset, &want);
    if (sent > 0) {
      offset += static_cast<size_t>(sent);
    } else if (want != Transport::Want::kNone) {
      if (!PollFor(want == Transport::Want::kRead ? POLLIN : POLLOUT, write_timeout_)) break;
    } else {
      break;
    }
  }
  const bool all_sent = offset == out_.size();
  out_.clear();
  return all_sent;
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  LookUpOnce(fd_, ::getpeername, remote_);
  ip = remote_->first;
  port = remote_->second;
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  LookUpOnce(fd_, ::getsockname, local_);
  ip = local_->first;
  port = local_->second;
}

}  // namespace refir::bridge
