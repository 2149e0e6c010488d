#include "bridge/http_edge/transport.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace refir::bridge {
namespace {

int PollMillis(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(
      absl::ToInt64Milliseconds(timeout + absl::Milliseconds(1) - absl::Nanoseconds(1)), 1 << 30));
}

Transport::Want WantFromErrno() {
  return errno == EAGAIN || errno == EWOULDBLOCK ? Transport::Want::kRead : Transport::Want::kNone;
}

// Maps an SSL_read/SSL_write result <= 0 to -1/0 and what to wait for.
ssize_t SslFailure(SSL* ssl, int result, Transport::Want* want, bool reading) {
  switch (SSL_get_error(ssl, result)) {
    case SSL_ERROR_WANT_READ:
      *want = Transport::Want::kRead;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      *want = Transport::Want::kWrite;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      *want = Transport::Want::kNone;
      return reading ? 0 : -1;
    default:
      *want = Transport::Want::kNone;
      return -1;
  }
}

}  // namespace

bool PollUntil(int fd, short events, int stop_fd, absl::Time deadline) {
  pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
  const nfds_t count = stop_fd < 0 ? 1 : 2;
  while (true) {
    const int ready = ::poll(fds, count, PollMillis(deadline - absl::Now()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    return fds[0].revents != 0;
  }
}

ssize_t PlainTransport::Read(char* buf, size_t size, Want* want) {
  while (true) {
    const ssize_t got = ::recv(fd_, buf, size, MSG_DONTWAIT);
    if (got >= 0) return got;
    if (errno == EINTR) continue;
    *want = WantFromErrno();
    return -1;
  }
}

ssize_t PlainTransport::Write(const char* buf, size_t size, Want* want) {
  while (true) {
    const ssize_t sent = ::send(fd_, buf, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0) return sent;
    if (errno == EINTR) continue;
    *want = WantFromErrno() == Want::kRead ? Want::kWrite : Want::kNone;
    return -1;
  }
}

TlsTransport::~TlsTransport() { SSL_free(ssl_); }

ssize_t TlsTransport::Read(char* buf, size_t size, Want* want) {
  ERR_clear_error();
  const int got = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  if (got > 0) return got;
  return SslFailure(ssl_, got, want, /*reading=*/true);
}

ssize_t TlsTransport::Write(const char* buf, size_t size, Want* want) {
  ERR_clear_error();
  const int sent = SSL_write(ssl_, buf, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  if (sent > 0) return sent;
  return SslFailure(ssl_, sent, want, /*reading=*/false);
}

bool TlsTransport::HasBuffered() const { return SSL_pending(ssl_) > 0; }

void TlsTransport::Close() {
  ERR_clear_error();
  // One attempt: sends close_notify if the socket takes it.
  SSL_shutdown(ssl_);
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::Load(const std::string& cert_file,
                                                             const std::string& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError("cannot create an OpenSSL context");
  std::unique_ptr<TlsContext> context(new TlsContext(ctx));
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
  // No session tickets: webhook senders rarely resume, and a ticket sent
  // after the handshake would only cost memory and a write per connection.
  SSL_CTX_set_num_tickets(ctx, 0);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load the TLS certificate \"", cert_file, "\" and key \"", key_file,
                     "\" (unreadable, not PEM, or the key does not match)"));
  }
  return context;
}

std::unique_ptr<TlsTransport> TlsHandshake(const TlsContext& context, int fd, int stop_fd,
                                           absl::Time deadline) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return nullptr;
  SSL* ssl = SSL_new(context.get());
  if (ssl == nullptr) return nullptr;
  auto transport = std::make_unique<TlsTransport>(ssl);
  if (SSL_set_fd(ssl, fd) != 1) return nullptr;
  while (true) {
    ERR_clear_error();
    const int result = SSL_accept(ssl);
    if (result == 1) return transport;
    short events = 0;
    switch (SSL_get_error(ssl, result)) {
      case SSL_ERROR_WANT_READ:
        events = POLLIN;
        break;
      case SSL_ERROR_WANT_WRITE:
        events = POLLOUT;
        break;
      default:
        ERR_clear_error();
        return nullptr;
    }
    if (!PollUntil(fd, events, stop_fd, deadline)) return nullptr;
  }
}

}  // namespace refir::bridge
