// NatsServerProcess: a real nats-server (Debian's, from $PATH) with
// JetStream on, for tests: loopback only, a client port chosen by the
// kernel, its store in a directory of the test's. NatsCluster starts three
// of them as one JetStream cluster. Kill (SIGKILL) and Restart (same ports,
// same store) are the faults the tests inject.
#ifndef REFIR_BRIDGE_TESTS_NATS_NATS_SERVER_PROCESS_H_
#define REFIR_BRIDGE_TESTS_NATS_NATS_SERVER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace refir::bridge::testing {

struct NatsServerOptions {
  std::string store_dir;  // required; made if missing
  std::string server_name = "n1";
  // Client port; 0: chosen by the kernel at the first start.
  int client_port = 0;
  // Cluster settings; cluster_port 0: no cluster.
  std::string cluster_name;
  int cluster_port = 0;
  std::vector<std::string> routes;  // nats://127.0.0.1:PORT of the peers
  // Client authentication (none when empty).
  std::string user;
  std::string password;
  std::string token;
};

class NatsServerProcess {
 public:
  explicit NatsServerProcess(NatsServerOptions options) : options_(std::move(options)) {}
  ~NatsServerProcess();

  NatsServerProcess(const NatsServerProcess&) = delete;
  NatsServerProcess& operator=(const NatsServerProcess&) = delete;

  // Starts the server and waits (up to 20 s) until its client port accepts.
  // A restart reuses the client port the first start got.
  absl::Status Start();
  // SIGKILL and reap.
  void Kill();
  // SIGTERM and wait (SIGKILL after 10 s).
  void Stop();
  bool running() const { return pid_ > 0; }

  int client_port() const { return options_.client_port; }
  std::string url() const;
  const std::string& name() const { return options_.server_name; }

 private:
  NatsServerOptions options_;
  pid_t pid_ = -1;
};

// Three servers in one JetStream cluster on loopback.
class NatsCluster {
 public:
  // Starts them (stores under `base_dir`, made if missing) and waits until
  // each accepts clients. JetStream elects its meta leader a moment later:
  // until then creating a stream fails (the bridge's startup retries).
  static absl::StatusOr<std::unique_ptr<NatsCluster>> Start(const std::string& base_dir);

  NatsServerProcess& server(int i) { return *servers_[i]; }
  size_t size() const { return servers_.size(); }
  // Every server's URL, comma-separated (the bridge's --nats_servers).
  std::string urls() const;

 private:
  std::vector<std::unique_ptr<NatsServerProcess>> servers_;
};

// A TCP port free on 127.0.0.1 right now (bind to 0, read it, close).
int PickFreePort();

// True when nats-server is on $PATH (tests that need it fail otherwise).
bool HaveNatsServer();

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_NATS_NATS_SERVER_PROCESS_H_
