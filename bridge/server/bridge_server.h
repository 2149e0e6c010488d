// BridgeServer: the whole bridge wired together (journal, converter, HTTP
// edge, wake-up hub, gRPC server) with an ordered, graceful shutdown. main.cc
// only parses flags and handles signals; tests can run a BridgeServer
// in-process the same way.
#ifndef REFIR_BRIDGE_SERVER_BRIDGE_SERVER_H_
#define REFIR_BRIDGE_SERVER_BRIDGE_SERVER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "bridge/server/bridge_options.h"

namespace refir::bridge {

// Exit code of a replica that lost the consumer-group lease (JetStream): it
// stops at once so that two replicas never serve the groups together.
inline constexpr int kExitLostGroupLease = 3;

class BridgeServer {
 public:
  // Opens the journal and starts both listeners.
  static absl::StatusOr<std::unique_ptr<BridgeServer>> Start(const BridgeOptions& options);
  ~BridgeServer();

  int http_port() const;
  int grpc_port() const;
  // 0 when the admin listener is disabled.
  int admin_port() const;

  // Stops taking webhooks (in-flight ones are answered), ends subscriber
  // streams with UNAVAILABLE, stops gRPC, closes the journal. Idempotent.
  void Shutdown();

  struct Parts;

 private:
  explicit BridgeServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_SERVER_BRIDGE_SERVER_H_
