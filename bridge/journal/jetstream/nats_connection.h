// NatsConnection: one connection to a NATS cluster for the JetStream journal,
// with the settings operators give (several servers for failover, user and
// password or token, a CA file for TLS). It reconnects forever, logs each
// disconnect and reconnect, and says whether it is connected right now.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_NATS_CONNECTION_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_NATS_CONNECTION_H_

#include <nats/nats.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/journal/jetstream/nats_handles.h"

namespace refir::bridge::jetstream {

struct NatsConnectionOptions {
  // nats://host:port URLs (tls://host:port for TLS); at least one.
  std::vector<std::string> servers;
  // User and password, or a token; empty: none.
  std::string user;
  std::string password;
  std::string token;
  // PEM file of the CA that signed the servers' certificates; set: TLS is
  // required.
  std::string tls_ca_file;
  // The connection's name as the servers show it.
  std::string name = "refir-bridge";
  // How long the first connection may take (per server).
  absl::Duration connect_timeout = absl::Seconds(5);

  // INVALID_ARGUMENT naming the flag: no server, a URL that is not
  // nats:// or tls://, both a password and a token.
  absl::Status Validate() const;
};

class NatsConnection {
 public:
  // Connects to one of the servers (UNAVAILABLE, saying which were tried,
  // when none answers; PERMISSION_DENIED when the credentials are refused).
  static absl::StatusOr<std::unique_ptr<NatsConnection>> Connect(
      const NatsConnectionOptions& options);
  // Takes an open connection (Connect makes one).
  explicit NatsConnection(NatsConnectionPtr connection) : connection_(std::move(connection)) {}
  ~NatsConnection();

  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  natsConnection* get() const { return connection_.get(); }
  // True while connected (false while reconnecting and after Close).
  bool connected() const;
  // Flushes and closes; later calls on the connection fail. Idempotent.
  void Close();

 private:
  NatsConnectionPtr connection_;
};

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_NATS_CONNECTION_H_
