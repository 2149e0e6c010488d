// refir_bench_loadgen: POSTs webhooks over keep-alive HTTP/1.1 connections
// (raw sockets, one thread per connection) open loop at --rate or closed loop,
// and prints a JSON latency summary (see docs/benchmarks.md, the contract).
// Open loop: request k is scheduled at start + k/rate, on connection
// k % connections; latency counts from the scheduled time, so a busy
// connection's delay is measured (no coordinated omission).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, url, "", "http://HOST:PORT/PATH to POST to (plain HTTP only)");
ABSL_FLAG(int, connections, 32, "Keep-alive connections");
ABSL_FLAG(double, rate, 0, "Requests/s in total, open loop; 0: closed loop");
ABSL_FLAG(double, duration, 0, "Seconds to run (with --rate or closed loop)");
ABSL_FLAG(int64_t, requests, 0, "Stop after this many requests (0: use --duration)");
ABSL_FLAG(std::string, body_file, "bench/ingest_body.json", "Request body");
ABSL_FLAG(std::string, latency_out, "", "Optional: one latency (µs) per line");

namespace {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux.

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

struct Target {
  std::string host;
  int port = 80;
  std::string path;
};

bool ParseUrl(const std::string& url, Target* target) {
  constexpr std::string_view kScheme = "http://";
  if (url.compare(0, kScheme.size(), kScheme) != 0) return false;
  std::string rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  target->path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string hostport = rest.substr(0, slash);
  const size_t colon = hostport.rfind(':');
  if (colon != std::string::npos) {
    if (!absl::SimpleAtoi(hostport.substr(colon + 1), &target->port) || target->port <= 0 ||
        target->port > 65535) {
      return false;
    }
    hostport.resize(colon);
  }
  target->host = hostport;
  return !hostport.empty();
}

// What every connection thread shares (read-only, or atomics).
struct Shared {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string head;  // Request line and headers up to the x-request-id value.
  std::string tail;  // "\r\n\r\n" + body.
  int connections = 1;
  double rate = 0;
  // The clock starts once every connection is open (connect time is not a
  // request's latency); start_ns and end_ns are set then, under start_mu.
  std::mutex start_mu;
  std::condition_variable start_cv;
  int connected = 0;     // Threads that have tried to connect.
  bool started = false;  // start_ns and end_ns are set.
  int64_t start_ns = 0;
  int64_t end_ns = 0;                   // 0: no time limit.
  int64_t max_requests = 0;             // 0: no count limit.
  std::atomic<int64_t> next_closed{0};  // Closed loop: request counter.
};

struct Result {
  int64_t requests = 0;
  int64_t ok = 0;
  int64_t errors = 0;
  std::vector<uint32_t> latencies_us;
};

// One keep-alive connection: sends a request, reads one response.
class Connection {
 public:
  explicit Connection(const Shared* shared) : shared_(shared) { buffer_.reserve(4096); }
  ~Connection() { Close(); }

  // Opens the connection ahead of the first request; false on failure (the
  // first request then tries again).
  bool Connect() { return fd_ >= 0 || Open(); }

  // Sends one request and reads its response; *status = HTTP status, or 0 on
  // a transport error (the connection is then closed, and reopened next time).
  void RoundTrip(int* status) {
    *status = 0;
    if (fd_ < 0 && !Open()) return;
    char id[32];
    const int id_len = std::snprintf(id, sizeof id, "%" PRId64, NowNanos());
    request_.assign(shared_->head);
    request_.append(id, id_len);
    request_.append(shared_->tail);
    if (!SendAll(request_) || !ReadResponse(status)) {
      *status = 0;
      Close();
    }
  }

 private:
  bool Open() {
    fd_ = ::socket(shared_->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&shared_->addr), shared_->addr_len) != 0) {
      Close();
      return false;
    }
    buffer_.clear();
    return true;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool SendAll(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }
  bool Fill() {
    char chunk[16384];
    while (true) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }
  // Parses one response (status line, headers, a Content-Length or chunked
  // body) from the socket. nginx's echo module answers chunked.
  bool ReadResponse(int* status) {
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (buffer_.size() > 65536 || !Fill()) return false;
    }
    // "HTTP/1.1 200 OK"
    if (buffer_.compare(0, 5, "HTTP/") != 0) return false;
    const size_t space = buffer_.find(' ');
    if (space == std::string::npos || space + 4 > header_end) return false;
    int code = 0;
    if (!absl::SimpleAtoi(absl::string_view(buffer_.data() + space + 1, 3), &code)) return false;
    int64_t content_length = 0;
    bool close = false;
    bool chunked = false;
    size_t line = buffer_.find("\r\n") + 2;
    while (line < header_end) {
      const size_t eol = buffer_.find("\r\n", line);
      std::string_view header(buffer_.data() + line, eol - line);
      const size_t colon = header.find(':');
      if (colon != std::string_view::npos) {
        std::string name(header.substr(0, colon));
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value = header.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
        if (name == "content-length") {
          if (!absl::SimpleAtoi(absl::string_view(value.data(), value.size()), &content_length) ||
              content_length < 0)
            return false;
        } else if (name == "connection") {
          std::string lower(value);
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          close = lower == "close";
        } else if (name == "transfer-encoding") {
          if (value != "chunked") return false;
          chunked = true;
        }
      }
      line = eol + 2;
    }
    size_t total = header_end + 4 + static_cast<size_t>(content_length);
    if (chunked && !SkipChunkedBody(header_end + 4, &total)) return false;
    while (buffer_.size() < total) {
      if (!Fill()) return false;
    }
    buffer_.erase(0, total);
    *status = code;
    if (close) Close();
    return true;
  }

  // The offset of the line ending at or after `from` (reading more as
  // needed), or npos.
  size_t LineEnd(size_t from) {
    size_t eol;
    while ((eol = buffer_.find("\r\n", from)) == std::string::npos) {
      if (buffer_.size() > (1 << 20) || !Fill()) return std::string::npos;
    }
    return eol;
  }
  // A chunked body from `pos`: sets *end past its last chunk and trailers.
  bool SkipChunkedBody(size_t pos, size_t* end) {
    while (true) {
      const size_t eol = LineEnd(pos);
      if (eol == std::string::npos || eol == pos) return false;
      const std::string size_text = buffer_.substr(pos, eol - pos);
      char* parsed_end = nullptr;
      const unsigned long long size = std::strtoull(size_text.c_str(), &parsed_end, 16);
      if (parsed_end == size_text.c_str() || size > (1u << 20)) return false;
      pos = eol + 2;
      if (size == 0) break;
      pos += static_cast<size_t>(size) + 2;  // data and its CRLF
      while (buffer_.size() < pos) {
        if (!Fill()) return false;
      }
    }
    while (true) {  // trailers, up to the empty line
      const size_t eol = LineEnd(pos);
      if (eol == std::string::npos) return false;
      const bool empty = eol == pos;
      pos = eol + 2;
      if (empty) break;
    }
    *end = pos;
    return true;
  }

  const Shared* shared_;
  int fd_ = -1;
  std::string buffer_;
  std::string request_;
};

void RunConnection(Shared* shared, int index, Result* result) {
  Connection connection(shared);
  result->latencies_us.reserve(1 << 16);
  connection.Connect();
  {
    std::unique_lock<std::mutex> lock(shared->start_mu);
    ++shared->connected;
    shared->start_cv.notify_all();
    shared->start_cv.wait(lock, [shared] { return shared->started; });
  }
  for (int64_t k = index;; k += shared->connections) {
    int64_t scheduled;
    if (shared->rate > 0) {
      if (shared->max_requests > 0 && k >= shared->max_requests) break;
      scheduled =
          shared->start_ns + static_cast<int64_t>(static_cast<double>(k) * 1e9 / shared->rate);
      if (shared->end_ns > 0 && scheduled >= shared->end_ns) break;
      const int64_t now = NowNanos();
      if (scheduled > now) std::this_thread::sleep_for(std::chrono::nanoseconds(scheduled - now));
    } else {
      if (shared->max_requests > 0 &&
          shared->next_closed.fetch_add(1, std::memory_order_relaxed) >= shared->max_requests) {
        break;
      }
      scheduled = NowNanos();
      if (shared->end_ns > 0 && scheduled >= shared->end_ns) break;
    }
    int status = 0;
    connection.RoundTrip(&status);
    const int64_t latency_us = (NowNanos() - scheduled) / 1000;
    ++result->requests;
    if (status >= 200 && status < 300) {
      ++result->ok;
    } else {
      ++result->errors;
      if (status == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    result->latencies_us.push_back(
        static_cast<uint32_t>(std::min<int64_t>(latency_us, UINT32_MAX)));
  }
}

uint32_t Percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t index = static_cast<size_t>(p * static_cast<double>(sorted.size()));
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("POSTs webhooks to an HTTP server and measures latency.");
  absl::ParseCommandLine(argc, argv);
  Target target;
  if (!ParseUrl(absl::GetFlag(FLAGS_url), &target)) {
    std::cerr << "invalid --url=" << absl::GetFlag(FLAGS_url) << ": want http://HOST:PORT/PATH\n";
    return 2;
  }
  const int connections = absl::GetFlag(FLAGS_connections);
  if (connections < 1 || connections > 10000) {
    std::cerr << "invalid --connections=" << connections << ": want 1..10000\n";
    return 2;
  }
  const double rate = absl::GetFlag(FLAGS_rate);
  if (!(rate >= 0)) {
    std::cerr << "invalid --rate=" << rate << ": want >= 0\n";
    return 2;
  }
  const double duration = absl::GetFlag(FLAGS_duration);
  const int64_t max_requests = absl::GetFlag(FLAGS_requests);
  if (!(duration >= 0) || max_requests < 0 || (duration == 0 && max_requests == 0)) {
    std::cerr << "invalid --duration/--requests: give --duration=S > 0 or --requests=N > 0\n";
    return 2;
  }
  std::string body;
  {
    std::ifstream in(absl::GetFlag(FLAGS_body_file), std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    if (!in) {
      std::cerr << "cannot read --body_file=" << absl::GetFlag(FLAGS_body_file) << "\n";
      return 2;
    }
    body = contents.str();
  }

  Shared shared;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* resolved = nullptr;
  if (int rc = ::getaddrinfo(target.host.c_str(), std::to_string(target.port).c_str(), &hints,
                             &resolved);
      rc != 0 || resolved == nullptr) {
    std::cerr << "invalid --url: cannot resolve " << target.host << ": " << gai_strerror(rc)
              << "\n";
    return 2;
  }
  std::memcpy(&shared.addr, resolved->ai_addr, resolved->ai_addrlen);
  shared.addr_len = resolved->ai_addrlen;
  ::freeaddrinfo(resolved);

  shared.head = absl::StrCat(
      "POST ", target.path, " HTTP/1.1\r\nHost: ", target.host, ":", target.port,
      "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(), "\r\nx-request-id: ");
  shared.tail = absl::StrCat("\r\n\r\n", body);
  shared.connections = connections;
  shared.rate = rate;
  shared.max_requests = max_requests;

  std::vector<Result> results(static_cast<size_t>(connections));
  std::vector<std::thread> threads;
  threads.reserve(results.size());
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back(RunConnection, &shared, i, &results[static_cast<size_t>(i)]);
  }
  {
    std::unique_lock<std::mutex> lock(shared.start_mu);
    shared.start_cv.wait(lock, [&shared, connections] { return shared.connected == connections; });
    shared.start_ns = NowNanos();
    if (duration > 0) shared.end_ns = shared.start_ns + static_cast<int64_t>(duration * 1e9);
    shared.started = true;
  }
  shared.start_cv.notify_all();
  for (std::thread& thread : threads) thread.join();
  const double seconds = static_cast<double>(NowNanos() - shared.start_ns) / 1e9;

  Result total;
  for (Result& result : results) {
    total.requests += result.requests;
    total.ok += result.ok;
    total.errors += result.errors;
    total.latencies_us.insert(total.latencies_us.end(), result.latencies_us.begin(),
                              result.latencies_us.end());
  }
  const std::string latency_out = absl::GetFlag(FLAGS_latency_out);
  if (!latency_out.empty()) {
    std::ofstream out(latency_out);
    for (uint32_t us : total.latencies_us) out << us << '\n';
    if (!out) {
      std::cerr << "cannot write --latency_out=" << latency_out << "\n";
      return 1;
    }
  }
  std::sort(total.latencies_us.begin(), total.latencies_us.end());
  const auto& l = total.latencies_us;
  std::cout << absl::StrCat(
                   "{\"requests\":", total.requests, ",\"ok\":", total.ok,
                   ",\"errors\":", total.errors, ",\"seconds\":", seconds,
                   ",\"rps\":", seconds > 0 ? static_cast<double>(total.requests) / seconds : 0,
                   ",\"p50_us\":", Percentile(l, 0.5), ",\"p90_us\":", Percentile(l, 0.9),
                   ",\"p99_us\":", Percentile(l, 0.99), ",\"p999_us\":", Percentile(l, 0.999),
                   ",\"max_us\":", l.empty() ? 0 : l.back(), "}")
            << std::endl;
  return total.errors == 0 && total.requests > 0 ? 0 : 1;
}
