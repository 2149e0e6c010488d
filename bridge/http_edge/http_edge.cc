#include "bridge/http_edge/http_edge.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/http_edge/bind_listener.h"
#include "bridge/http_edge/bounded_task_queue.h"
#include "httplib.h"

namespace refir::bridge {
namespace {

void SetTimeout(absl::Duration duration, time_t* seconds, time_t* micros) {
  const int64_t total_us = absl::ToInt64Microseconds(duration);
  *seconds = static_cast<time_t>(total_us / 1000000);
  *micros = static_cast<time_t>(total_us % 1000000);
}

void WriteReply(const HttpReply& reply, httplib::Response& res) {
  res.status = reply.status;
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  res.set_content(reply.body, "application/json");
}

// JSON bodies for the answers httplib makes itself (no route, body too
// large, malformed request line, ...).
HttpReply ReplyForLibraryStatus(int status, const httplib::Request& req) {
  switch (status) {
    case 400:
      return JsonErrorReply(400, "bad_request", "malformed HTTP request");
    case 404:
      return JsonErrorReply(404, "not_found", absl::StrCat("no endpoint at ", req.path));
    case 413:
      return JsonErrorReply(413, "payload_too_large", "request body exceeds the size limit");
    case 414:
      return JsonErrorReply(414, "uri_too_long", "request URI is too long");
    default:
      return JsonErrorReply(status, "http_error", absl::StrCat("HTTP status ", status));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpEdge>> HttpEdge::Start(const HttpEdgeOptions& options,
                                                          WebhookHandler* handler) {
  std::unique_ptr<HttpEdge> edge(new HttpEdge(options, handler));
  edge->InstallRoutes();
  httplib::Server& server = *edge->server_;
  REFIR_ASSIGN_OR_RETURN(edge->port_, BindListener(server, options.address, options.port, "HTTP"));
  edge->thread_ = std::thread([server_ptr = edge->server_.get()] {
    if (!server_ptr->listen_after_bind()) LogError("HTTP listener stopped with an error");
  });
  return edge;
}

HttpEdge::HttpEdge(const HttpEdgeOptions& options, WebhookHandler* handler)
    : options_(options),
      handler_(handler),
      observer_(options.access_log,
                options.metrics == nullptr ? nullptr : options.metrics->ForSource(options.source)),
      server_(std::make_unique<httplib::Server>()) {}

HttpEdge::~HttpEdge() { Stop(); }

void HttpEdge::Stop() {
  if (server_ == nullptr) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpEdge::InstallRoutes() {
  httplib::Server& server = *server_;
  // Responses go out in two writes; without TCP_NODELAY, Nagle's algorithm
  // meets delayed ACKs and every keep-alive request costs ~40 ms.
  server.set_tcp_nodelay(true);
  const size_t threads = options_.worker_threads;
  const size_t max_queued = options_.max_queued_connections;
  // httplib takes ownership of the queue it gets from this factory.
  server.new_task_queue = [threads, max_queued]() -> httplib::TaskQueue* {
    return new BoundedTaskQueue(threads, max_queued);
  };
  server.set_keep_alive_max_count(options_.keep_alive_max_requests);
  server.set_keep_alive_timeout(
      static_cast<time_t>(absl::ToInt64Seconds(options_.keep_alive_timeout)));
  time_t seconds = 0;
  time_t micros = 0;
  SetTimeout(options_.read_timeout, &seconds, &micros);
  server.set_read_timeout(seconds, micros);
  SetTimeout(options_.write_timeout, &seconds, &micros);
  server.set_write_timeout(seconds, micros);
  server.set_payload_max_length(options_.max_body_bytes);

  const std::string source = options_.source;
  server.Post(options_.webhook_path,
              [this, source](const httplib::Request& req, httplib::Response& res) {
                WebhookRequest request;
                request.received_at = absl::Now();
                request.source = source;
                request.body = req.body;
                request.content_type = req.get_header_value("Content-Type");
                request.headers.reserve(req.headers.size());
                for (const auto& [name, value] : req.headers)
                  request.headers.emplace_back(name, value);
                request.remote_addr = absl::StrCat(req.remote_addr, ":", req.remote_port);
                const HttpReply reply = handler_->Handle(request);
                WriteReply(reply, res);
                observer_.Observe(request, reply, absl::Now());
              });

  auto method_not_allowed = [](const httplib::Request& req, httplib::Response& res) {
    HttpReply reply = JsonErrorReply(405, "method_not_allowed",
                                     absl::StrCat(req.method, " is not allowed; use POST"));
    reply.headers.emplace_back("Allow", "POST");
    WriteReply(reply, res);
  };
  server.Get(options_.webhook_path, method_not_allowed);
  server.Put(options_.webhook_path, method_not_allowed);
  server.Patch(options_.webhook_path, method_not_allowed);
  server.Delete(options_.webhook_path, method_not_allowed);
  server.Options(options_.webhook_path, method_not_allowed);

  httplib::Server::HandlerWithResponse error_handler = [](const httplib::Request& req,
                                                          httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    WriteReply(ReplyForLibraryStatus(res.status, req), res);
    return httplib::Server::HandlerResponse::Handled;
  };
  server.set_error_handler(std::move(error_handler));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        WriteReply(JsonErrorReply(500, "internal", "unexpected error"), res);
      });
}

}  // namespace refir::bridge
