#include "tests/nats/nats_server_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace refir::bridge::testing {
namespace {

bool PortAccepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return ok;
}

// The client port in nats-server's ports file ({"nats":["nats://h:P"],...}).
int ReadClientPort(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  const std::string marker = "\"nats\":[\"";
  const size_t at = content.find(marker);
  if (at == std::string::npos) return 0;
  const size_t end = content.find('"', at + marker.size());
  const std::string url = content.substr(at + marker.size(), end - at - marker.size());
  const size_t colon = url.rfind(':');
  if (colon == std::string::npos) return 0;
  return std::atoi(url.c_str() + colon + 1);
}

}  // namespace

int PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

bool HaveNatsServer() { return std::system("command -v nats-server >/dev/null 2>&1") == 0; }

NatsServerProcess::~NatsServerProcess() { Stop(); }

std::string NatsServerProcess::url() const {
  return absl::StrCat("nats://127.0.0.1:", options_.client_port);
}

absl::Status NatsServerProcess::Start() {
  if (pid_ > 0) return absl::FailedPreconditionError("nats-server already running");
  mkdir(options_.store_dir.c_str(), 0700);
  const std::string ports_dir = absl::StrCat(options_.store_dir, "/ports");
  mkdir(ports_dir.c_str(), 0700);
  std::vector<std::string> args = {
      "nats-server",
      "-js",
      "-a",
      "127.0.0.1",
      "-p",
      options_.client_port == 0 ? "-1" : std::to_string(options_.client_port),
      "-sd",
      options_.store_dir,
      "--server_name",
      options_.server_name,
      "--ports_file_dir",
      ports_dir};
  if (options_.cluster_port != 0) {
    args.insert(args.end(), {"--cluster_name", options_.cluster_name, "--cluster",
                             absl::StrCat("nats://127.0.0.1:", options_.cluster_port), "--routes",
                             absl::StrJoin(options_.routes, ",")});
  }
  if (!options_.user.empty())
    args.insert(args.end(), {"--user", options_.user, "--pass", options_.password});
  if (!options_.token.empty()) args.insert(args.end(), {"--auth", options_.token});

  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string log_path = absl::StrCat(options_.store_dir, "/nats-server.log");
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {
    FILE* log = std::fopen(log_path.c_str(), "a");
    if (log != nullptr) {
      dup2(fileno(log), STDOUT_FILENO);
      dup2(fileno(log), STDERR_FILENO);
    }
    execvp(argv[0], argv.data());
    _exit(127);
  }
  const std::string ports_file = absl::StrCat(ports_dir, "/nats-server_", pid_, ".ports");
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("nats-server exited during startup; see ", log_path));
    }
    if (options_.client_port == 0) options_.client_port = ReadClientPort(ports_file);
    if (options_.client_port != 0 && PortAccepts(options_.client_port)) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill();
  return absl::DeadlineExceededError(absl::StrCat("nats-server did not start; see ", log_path));
}

void NatsServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void NatsServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int status = 0;
  while (absl::Now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill();
}

absl::StatusOr<std::unique_ptr<NatsCluster>> NatsCluster::Start(const std::string& base_dir) {
  auto cluster = std::make_unique<NatsCluster>();
  // Each server makes its own store directory, not the one above it.
  if (mkdir(base_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("cannot make ", base_dir, ": ", std::strerror(errno)));
  }
  std::vector<int> cluster_ports;
  std::vector<std::string> routes;
  for (int i = 0; i < 3; ++i) {
    cluster_ports.push_back(PickFreePort());
    routes.push_back(absl::StrCat("nats://127.0.0.1:", cluster_ports.back()));
  }
  for (int i = 0; i < 3; ++i) {
    NatsServerOptions options;
    options.store_dir = absl::StrCat(base_dir, "/n", i + 1);
    options.server_name = absl::StrCat("n", i + 1);
    options.cluster_name = "refir-test";
    options.cluster_port = cluster_ports[i];
    for (int j = 0; j < 3; ++j) {
      if (j != i) options.routes.push_back(routes[j]);
    }
    cluster->servers_.push_back(std::make_unique<NatsServerProcess>(std::move(options)));
  }
  for (auto& server : cluster->servers_) {
    absl::Status started = server->Start();
    if (!started.ok()) return started;
  }
  return cluster;
}

std::string NatsCluster::urls() const {
  std::vector<std::string> urls;
  for (const auto& server : servers_) urls.push_back(server->url());
  return absl::StrJoin(urls, ",");
}

}  // namespace refir::bridge::testing
