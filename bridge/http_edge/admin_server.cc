#include "bridge/http_edge/admin_server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/http_edge/bind_listener.h"
#include "bridge/http_edge/elastic_task_queue.h"
#include "bridge/http_edge/guarded_server.h"
#include "bridge/metrics/metrics.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace refir::bridge {
namespace {

HttpReply StatusReply(int status, const std::string& state, const std::string& detail) {
  nlohmann::ordered_json body = {{"status", state}};
  if (!detail.empty()) body["detail"] = detail;
  HttpReply reply;
  reply.status = status;
  reply.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return reply;
}

}  // namespace

HttpReply AdminReply(const std::string& path, const ReadinessCheck& readiness,
                     const ReadinessCheck& groups_readiness) {
  if (path == "/healthz") return StatusReply(200, "ok", "");
  if (path == "/readyz/groups" && groups_readiness) {
    absl::Status ready = groups_readiness();
    if (ready.ok()) return StatusReply(200, "ready", "");
    return StatusReply(503, "not_ready", std::string(ready.message()));
  }
  if (path == "/readyz") {
    absl::Status ready = readiness();
    if (ready.ok()) return StatusReply(200, "ready", "");
    return StatusReply(503, "not_ready", std::string(ready.message()));
  }
  return JsonErrorReply(404, "not_found", absl::StrCat("no endpoint at ", path));
}

namespace {

GuardedServerOptions AdminGuardedOptions(const AdminServerOptions& options) {
  GuardedServerOptions guarded;
  guarded.request_timeout = options.request_timeout;
  guarded.keep_alive_timeout = options.keep_alive_timeout;
  guarded.read_timeout = options.request_timeout;
  guarded.write_timeout = absl::Seconds(5);
  guarded.head_limits = options.head_limits;
  guarded.connection_limit_detail =
      absl::StrCat("the admin listener is at its ", options.max_connections, " connections");
  return guarded;
}

// Extra admin workers exit after this long idle.
constexpr absl::Duration kIdleWorkerExit = absl::Seconds(30);

}  // namespace

AdminServer::AdminServer(const AdminServerOptions& options)
    : server_(std::make_unique<GuardedServer>(AdminGuardedOptions(options))) {}

AdminServer::~AdminServer() { Stop(); }

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(const AdminServerOptions& options,
                                                                ReadinessCheck readiness) {
  std::unique_ptr<AdminServer> admin(new AdminServer(options));
  GuardedServer& server = *admin->server_;
  server.set_tcp_nodelay(true);
  // httplib takes ownership of the queue it gets from this factory.
  server.new_task_queue = [threads = options.worker_threads,
                           max_connections = options.max_connections]() -> httplib::TaskQueue* {
    return new ElasticTaskQueue(threads, max_connections, kIdleWorkerExit,
                                ElasticTaskQueue::AtLimit::kRefuse);
  };
  if (options.metrics) {
    server.Get("/metrics",
               [metrics = options.metrics](const httplib::Request&, httplib::Response& res) {
                 res.status = 200;
                 res.set_content(metrics(), kPrometheusTextContentType);
               });
  }
  if (options.ui) {
    server.Get(R"(/ui(/.*)?)",
               [ui = options.ui](const httplib::Request& req, httplib::Response& res) {
                 AdminRequest request;
                 request.path = req.path;
                 request.params.insert(req.params.begin(), req.params.end());
                 request.authorization = req.get_header_value("Authorization");
                 WriteReply(ui(request), res);
               });
  }
  server.Get(".*", [readiness = std::move(readiness), groups_readiness = options.groups_readiness](
                       const httplib::Request& req, httplib::Response& res) {
    WriteReply(AdminReply(req.path, readiness, groups_readiness), res);
  });
  REFIR_ASSIGN_OR_RETURN(admin->port_,
                         BindListener(server, options.address, options.port, "admin"));
  admin->thread_ = std::thread([server_ptr = admin->server_.get()] {
    if (!server_ptr->listen_after_bind()) LogError("admin listener stopped with an error");
  });
  return admin;
}

void AdminServer::Stop() {
  if (server_ == nullptr) return;
  server_->Shutdown();
  if (thread_.joinable()) thread_.join();
}

}  // namespace refir::bridge
