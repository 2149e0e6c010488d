// Metrics: the bridge's Prometheus metrics (prometheus-cpp core), rendered in
// the text exposition format for GET /metrics on the admin listener.
//
// Two kinds:
//  - Recorded as things happen, through small handles that components keep:
//    WebhookMetrics (per source: requests by status, request latency, bodies
//    kept unparsed) and
//    JournalMetrics (append latency, group-commit batch size and duration).
//    Recording is lock-free apart from prometheus-cpp's own histogram lock.
//  - Computed at scrape time from ScrapeSources callbacks (journal head and
//    size, consumer groups, connected subscribers), so they are never stale
//    and a deleted consumer group disappears from the next scrape.
//
// Components see only this header; none of them includes prometheus-cpp.
// Dependencies point one way: http_edge, journal, ... -> metrics.
#ifndef REFIR_BRIDGE_METRICS_METRICS_H_
#define REFIR_BRIDGE_METRICS_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace refir::bridge {

// The webhooks of one source. Thread-safe.
class WebhookMetrics {
 public:
  // One answered request: its HTTP status and the time from receipt to reply.
  void Record(int status, absl::Duration latency);
  // One body stored as "<source>.unparsed" (a source with invalid_body
  // "keep"); not for duplicates.
  void RecordUnparsed();

 private:
  friend class Metrics;
  WebhookMetrics(prometheus::Family<prometheus::Counter>* received, std::string source,
                 prometheus::Histogram* latency, prometheus::Counter* unparsed);
  // The counter of `status`, created on first use (statuses outside
  // 100..599 share slot 0).
  prometheus::Counter& CounterFor(int status);

  prometheus::Family<prometheus::Counter>* const received_;
  const std::string source_;
  prometheus::Histogram* const latency_;
  prometheus::Counter* const unparsed_;
  std::array<std::atomic<prometheus::Counter*>, 600> by_status_{};
};

// The journal's appends and commits. Thread-safe.
class JournalMetrics {
 public:
  // One Append, from the call to its durable result.
  void RecordAppend(absl::Duration latency);
  // One group commit of `events` appends that took `duration`.
  void RecordCommit(size_t events, absl::Duration duration);

 private:
  friend class Metrics;
  JournalMetrics(prometheus::Histogram* append_latency, prometheus::Histogram* batch_events,
                 prometheus::Histogram* commit_duration);

  prometheus::Histogram* const append_latency_;
  prometheus::Histogram* const batch_events_;
  prometheus::Histogram* const commit_duration_;
};

// One consumer group at scrape time. Counts and ages as Prometheus values.
struct ConsumerGroupStats {
  std::string name;
  double lag = 0;
  double pending = 0;
  double redeliveries = 0;
  double dead_letters = 0;
  double subscribers = 0;
  // Seconds since the oldest pending event was received; 0 when none is.
  double oldest_unacked_age_seconds = 0;
  // Seconds since the last ack (since creation when none yet).
  double seconds_since_last_ack = 0;
  // Seconds since a stream was last attached; 0 while one is.
  double seconds_since_last_attach = 0;
  // 1 while the group keeps events retention would otherwise delete.
  double holding_journal = 0;
};

// The webhook listener's connections at scrape time.
struct HttpConnectionStats {
  uint64_t open = 0;
  // Answered 503 too_many_connections at --http_max_connections.
  uint64_t refused_total = 0;
  // Cut off with 408 at --http_request_timeout.
  uint64_t request_timeouts_total = 0;
  // Refused for the request line or headers: over a limit (414/431) or
  // ambiguous framing (400).
  uint64_t refused_heads_total = 0;
  // HTTPS handshakes that failed or did not finish in time.
  uint64_t tls_handshake_failures_total = 0;
  // Request body bytes taken from --http_max_inflight_body_bytes now.
  uint64_t inflight_body_bytes = 0;
};

// Read at every scrape. Any may be empty: its metrics are then left out. A
// callback that fails is logged and its metrics left out of that scrape.
struct ScrapeSources {
  std::function<uint64_t()> journal_head_sequence;
  std::function<absl::StatusOr<uint64_t>()> journal_size_bytes;
  std::function<absl::StatusOr<std::vector<ConsumerGroupStats>>()> consumer_groups;
  // Consumer groups deleted for being idle, since startup.
  std::function<uint64_t()> consumer_groups_expired_total;
  // Every open Subscribe stream, in a consumer group or not.
  std::function<uint64_t()> subscribers_connected;
  // Consumer-group calls and Subscribe streams a standby forwarded to the
  // replica serving the groups, since startup (JetStream only).
  std::function<uint64_t()> group_calls_forwarded_total;
  std::function<HttpConnectionStats()> http_connections;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();

  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The handle of `source`, created on first call; lives as long as this.
  WebhookMetrics* ForSource(absl::string_view source);
  JournalMetrics* journal() { return journal_.get(); }

  // Replaces the scrape-time callbacks. They must stay callable until the
  // last Scrape (stop the admin listener first).
  void SetScrapeSources(ScrapeSources sources);

  // Every metric in the Prometheus text format (version 0.0.4).
  std::string Scrape() const;

 private:
  std::unique_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* webhooks_received_ = nullptr;
  prometheus::Family<prometheus::Histogram>* webhook_latency_ = nullptr;
  prometheus::Family<prometheus::Counter>* webhooks_unparsed_ = nullptr;
  std::unique_ptr<JournalMetrics> journal_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<WebhookMetrics>> sources_ ABSL_GUARDED_BY(mu_);
  ScrapeSources scrape_sources_ ABSL_GUARDED_BY(mu_);
};

// Content-Type of Scrape()'s output.
inline constexpr char kPrometheusTextContentType[] = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_METRICS_METRICS_H_
