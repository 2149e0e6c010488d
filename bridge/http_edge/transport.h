// Transport: the byte pipe under a ConnectionStream, plain TCP or TLS
// (OpenSSL), always non-blocking: a call that cannot proceed says which
// readiness of the socket to wait for, and the stream polls for it within
// its own deadlines. TlsContext loads the listener's certificate and key;
// TlsHandshake runs the server side of a handshake within a deadline.
#ifndef REFIR_BRIDGE_HTTP_EDGE_TRANSPORT_H_
#define REFIR_BRIDGE_HTTP_EDGE_TRANSPORT_H_

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace refir::bridge {

class Transport {
 public:
  // What a call that could not proceed waits for; kNone is a failure.
  enum class Want { kNone, kRead, kWrite };
  virtual ~Transport() = default;
  // > 0 bytes moved; 0 the peer closed (reads only); -1 nothing moved, with
  // *want saying what to wait for (kNone: the connection failed).
  virtual ssize_t Read(char* buf, size_t size, Want* want) = 0;
  virtual ssize_t Write(const char* buf, size_t size, Want* want) = 0;
  // Bytes already received and decoded, readable without the socket.
  virtual bool HasBuffered() const { return false; }
  // Tells the peer no more data follows (TLS close_notify), best effort.
  virtual void Close() {}
};

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}
  ssize_t Read(char* buf, size_t size, Want* want) override;
  ssize_t Write(const char* buf, size_t size, Want* want) override;

 private:
  const int fd_;
};

// Owns `ssl`, whose handshake is done.
class TlsTransport final : public Transport {
 public:
  explicit TlsTransport(SSL* ssl) : ssl_(ssl) {}
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  ssize_t Read(char* buf, size_t size, Want* want) override;
  ssize_t Write(const char* buf, size_t size, Want* want) override;
  bool HasBuffered() const override;
  void Close() override;

 private:
  SSL* const ssl_;
};

// A server SSL_CTX from PEM files; TLS 1.2 and later.
class TlsContext {
 public:
  static absl::StatusOr<std::unique_ptr<TlsContext>> Load(const std::string& cert_file,
                                                          const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* const ctx_;
};

// Runs the server handshake on `fd` (made non-blocking) until `deadline`,
// or until `stop_fd` (-1 for none) turns readable. Null on failure.
std::unique_ptr<TlsTransport> TlsHandshake(const TlsContext& context, int fd, int stop_fd,
                                           absl::Time deadline);

// Polls `fd` for `events` (and `stop_fd` for POLLIN, when >= 0) until
// `deadline`; true when `fd` is ready.
bool PollUntil(int fd, short events, int stop_fd, absl::Time deadline);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_HTTP_EDGE_TRANSPORT_H_
