#include "bridge/http_edge/http_edge.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/http_edge/bind_listener.h"
#include "bridge/http_edge/elastic_task_queue.h"
#include "bridge/http_edge/guarded_server.h"
#include "httplib.h"

namespace refir::bridge {
namespace {

void SetTimeout(absl::Duration duration, time_t* seconds, time_t* micros) {
  const int64_t total_us = absl::ToInt64Microseconds(duration);
  *seconds = static_cast<time_t>(total_us / 1000000);
  *micros = static_cast<time_t>(total_us % 1000000);
}

// JSON bodies for the answers httplib makes itself (body too large,
// malformed request line, ...).
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

// Everything of the request but its body.
WebhookRequest RequestHead(const httplib::Request& req) {
  WebhookRequest request;
  request.received_at = absl::Now();
  request.method = req.method;
  request.path = req.path;
  for (const auto& [name, value] : req.params) request.query_parameters.emplace_back(name, value);
  request.content_type = req.get_header_value("Content-Type");
  request.headers.reserve(req.headers.size());
  for (const auto& [name, value] : req.headers) request.headers.emplace_back(name, value);
  if (req.has_header("Content-Length")) {
    uint64_t length = 0;
    // An unparsable value is refused by httplib when it reads the body.
    if (absl::SimpleAtoi(req.get_header_value("Content-Length"), &length)) {
      request.content_length = length;
    }
  }
  request.client_ip = req.remote_addr;
  request.remote_addr = absl::StrCat(req.remote_addr, ":", req.remote_port);
  return request;
}

// RFC 9112: a request has a body only with Content-Length or chunked
// Transfer-Encoding. (httplib would otherwise read until the peer closes.)
bool HasBody(const httplib::Request& req) {
  if (req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos) return true;
  if (!req.has_header("Content-Length")) return false;
  uint64_t length = 0;
  // An unparsable length is left to httplib, which refuses it with 400.
  return !absl::SimpleAtoi(req.get_header_value("Content-Length"), &length) || length > 0;
}

// Reads and drops the body of a refused request without buffering it, so
// the keep-alive connection stays in step (as httplib does for its own 413).
// False when the body could not be read to its end.
bool DiscardBody(const httplib::Request& req, const httplib::ContentReader& content_reader) {
  if (!HasBody(req)) return true;
  auto drop = [](const char*, size_t) { return true; };
  if (req.is_multipart_form_data()) {
    return content_reader([](const httplib::MultipartFormData&) { return true; }, drop);
  }
  return content_reader(drop);
}

// Extra worker threads beyond --http_threads exit after this long idle.
constexpr absl::Duration kIdleWorkerExit = absl::Seconds(30);

std::unique_ptr<GuardedServer> MakeServer(const HttpEdgeOptions& options, const TlsContext* tls) {
  GuardedServerOptions guarded;
  guarded.request_timeout = options.request_timeout;
  guarded.keep_alive_timeout = options.keep_alive_timeout;
  guarded.keep_alive_max_requests = options.keep_alive_max_requests;
  guarded.read_timeout = options.read_timeout;
  guarded.write_timeout = options.write_timeout;
  guarded.head_limits = options.head_limits;
  guarded.tls = tls;
  return std::make_unique<GuardedServer>(guarded);
}

HttpReply Overloaded() {
  HttpReply reply = JsonErrorReply(
      503, "overloaded",
      "request bodies in progress are at --http_max_inflight_body_bytes; retry later");
  reply.headers.emplace_back("Retry-After", "1");
  return reply;
}

}  // namespace

absl::Status HttpEdgeOptions::Validate() const {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_port must be between 0 and 65535, got ", port));
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--http_tls_cert_file and --http_tls_key_file must be given together");
  }
  if (worker_threads < 1) return absl::InvalidArgumentError("--http_threads must be at least 1");
  if (max_connections < worker_threads) {
    return absl::InvalidArgumentError("--http_max_connections must be at least --http_threads");
  }
  if (request_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--http_request_timeout must be positive");
  }
  if (keep_alive_max_requests < 1) {
    return absl::InvalidArgumentError("--http_keep_alive_max_requests must be at least 1");
  }
  return head_limits.Validate();
}

absl::StatusOr<std::unique_ptr<HttpEdge>> HttpEdge::Start(const HttpEdgeOptions& options,
                                                          WebhookHandler* handler) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate file and a key file");
  }
  std::unique_ptr<TlsContext> tls_context;
  if (!options.tls_cert_file.empty()) {
    REFIR_ASSIGN_OR_RETURN(tls_context,
                           TlsContext::Load(options.tls_cert_file, options.tls_key_file));
  }
  std::unique_ptr<HttpEdge> edge(new HttpEdge(options, handler, std::move(tls_context)));
  edge->InstallRoutes();
  httplib::Server& server = *edge->server_;
  REFIR_ASSIGN_OR_RETURN(edge->port_, BindListener(server, options.address, options.port,
                                                   edge->tls() ? "HTTPS" : "HTTP"));
  const int backlog = static_cast<int>(std::clamp<size_t>(options.max_connections, 128, 4096));
  if (!edge->server_->SetListenBacklog(backlog)) {
    return absl::InternalError(
        absl::StrCat("cannot set the HTTP listen backlog: ", std::strerror(errno)));
  }
  edge->thread_ = std::thread([server_ptr = edge->server_.get()] {
    if (!server_ptr->listen_after_bind()) LogError("HTTP listener stopped with an error");
  });
  return edge;
}

HttpEdge::HttpEdge(const HttpEdgeOptions& options, WebhookHandler* handler,
                   std::unique_ptr<TlsContext> tls_context)
    : options_(options),
      handler_(handler),
      unmatched_observer_(options.access_log, nullptr),
      tls_context_(std::move(tls_context)),
      server_(MakeServer(options, tls_context_.get())),
      body_budget_(options.max_inflight_body_bytes) {
  for (const std::string& name : handler->SourceNames()) {
    observers_[name] = std::make_unique<WebhookObserver>(
        options.access_log,
        options.metrics == nullptr ? nullptr : options.metrics->ForSource(name));
  }
}

HttpEdge::~HttpEdge() { Stop(); }

HttpConnectionStats HttpEdge::connection_stats() const {
  HttpConnectionStats stats;
  stats.open = static_cast<uint64_t>(server_->open_connections());
  stats.refused_total = static_cast<uint64_t>(server_->refused_connections());
  stats.request_timeouts_total = static_cast<uint64_t>(server_->request_timeouts());
  stats.refused_heads_total = static_cast<uint64_t>(server_->refused_heads());
  stats.tls_handshake_failures_total = static_cast<uint64_t>(server_->failed_handshakes());
  stats.inflight_body_bytes = static_cast<uint64_t>(body_budget_.used());
  return stats;
}

void HttpEdge::Stop() {
  if (server_ == nullptr) return;
  server_->Shutdown();
  if (thread_.joinable()) thread_.join();
}

void HttpEdge::Answer(const WebhookRequest& request, const HttpReply& reply,
                      httplib::Response& res) const {
  WriteReply(reply, res);
  auto it = observers_.find(request.source);
  const WebhookObserver& observer = it == observers_.end() ? unmatched_observer_ : *it->second;
  observer.Observe(request, reply, absl::Now());
}

void HttpEdge::ServeWithBody(const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& content_reader) {
  WebhookRequest request = RequestHead(req);
  if (std::optional<HttpReply> refused = handler_->Admit(&request)) {
    const bool drained = DiscardBody(req, content_reader);
    Answer(request, *refused, res);
    // Whatever is left of the body must not be read as the next request.
    if (!drained) res.set_header("Connection", "close");
    return;
  }
  // Capped at the source's limit as it arrives (a chunked or compressed
  // body has no Content-Length to check up front).
  const size_t limit = handler_->BodyLimit(request.path);
  bool too_large = false;
  bool overloaded = false;
  BodyBudgetLease lease(&body_budget_);
  if (HasBody(req)) {
    // Admit checked Content-Length against `limit`; the whole declared
    // length is taken from the budget before any of it is read.
    if (request.content_length.has_value() && !lease.TryTake(*request.content_length)) {
      handler_->Abandon(request);  // Never read: no source rate token spent.
      Answer(request, Overloaded(), res);
      res.set_header("Connection", "close");
      return;
    }
    // Memory grows with what arrives, not with what is declared.
    constexpr size_t kInitialBody = 16 * 1024;
    request.body.reserve(std::min<size_t>(request.content_length.value_or(0), kInitialBody));
    const bool read = content_reader([&](const char* data, size_t length) {
      if (request.body.size() + length > limit) {
        too_large = true;
        return false;
      }
      // Chunked: taken as it arrives.
      if (!request.content_length.has_value() && request.body.size() + length > lease.taken() &&
          !lease.TryTake(request.body.size() + length - lease.taken())) {
        overloaded = true;
        return false;
      }
      request.body.append(data, length);
      return true;
    });
    if (!read) handler_->Abandon(request);  // Unverified: no source rate token spent.
    if (overloaded) {
      Answer(request, Overloaded(), res);
      res.set_header("Connection", "close");
      return;
    }
    if (too_large) {
      // The rest of the body is still unread: end the connection.
      Answer(request,
             JsonErrorReply(413, "payload_too_large", "request body exceeds the size limit"), res);
      res.set_header("Connection", "close");
      return;
    }
    if (!read) {
      // httplib set 413 or 400 when it refused the body itself.
      Answer(request,
             res.status == 413
                 ? ReplyForLibraryStatus(413, req)
                 : JsonErrorReply(400, "bad_request", "the request body could not be read"),
             res);
      return;
    }
  }
  const HttpReply reply = handler_->Process(&request);
  Answer(request, reply, res);
}

void HttpEdge::InstallRoutes() {
  httplib::Server& server = *server_;
  // Responses go out in two writes; without TCP_NODELAY, Nagle's algorithm
  // meets delayed ACKs and every keep-alive request costs ~40 ms.
  server.set_tcp_nodelay(true);
  const size_t threads = options_.worker_threads;
  const size_t max_connections = options_.max_connections;
  // httplib takes ownership of the queue it gets from this factory.
  server.new_task_queue = [threads, max_connections]() -> httplib::TaskQueue* {
    return new ElasticTaskQueue(threads, max_connections, kIdleWorkerExit,
                                ElasticTaskQueue::AtLimit::kRefuse);
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
  // httplib's one global cap: the largest source limit. Each source's own
  // limit is checked by the handler (Content-Length) and while reading.
  server.set_payload_max_length(handler_->MaxBodyLimit());

  // Every path and method goes to the handler, which routes by path and
  // answers 404/405 itself; methods that may carry a body use a content
  // reader so Admit runs before the body is read.
  constexpr char kAnyPath[] = ".*";
  auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& content_reader) {
    ServeWithBody(req, res, content_reader);
  };
  server.Post(kAnyPath, with_body);
  server.Put(kAnyPath, with_body);
  server.Patch(kAnyPath, with_body);
  server.Delete(kAnyPath, with_body);
  auto without_body = [this](const httplib::Request& req, httplib::Response& res) {
    WebhookRequest request = RequestHead(req);
    std::optional<HttpReply> refused = handler_->Admit(&request);
    Answer(request, refused.has_value() ? *refused : handler_->Process(&request), res);
  };
  server.Get(kAnyPath, without_body);
  server.Options(kAnyPath, without_body);

  httplib::Server::HandlerWithResponse error_handler = [](const httplib::Request& req,
                                                          httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    WriteReply(ReplyForLibraryStatus(res.status, req), res);
    // httplib refused the request before its end was known (malformed
    // line or headers, URI or body too long): what follows cannot be framed.
    res.set_header("Connection", "close");
    return httplib::Server::HandlerResponse::Handled;
  };
  server.set_error_handler(std::move(error_handler));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        WriteReply(JsonErrorReply(500, "internal", "unexpected error"), res);
      });
}

}  // namespace refir::bridge
