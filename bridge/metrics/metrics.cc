#include "bridge/metrics/metrics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "bridge/common/log.h"
#include "prometheus/client_metric.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace refir::bridge {
namespace {

// Request and append latencies: 0.5 ms (a group commit's fsync) to 10 s.
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// Events per group commit: powers of two up to the journal's max batch.
prometheus::Histogram::BucketBoundaries BatchBuckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
}

double Seconds(absl::Duration duration) { return absl::ToDoubleSeconds(duration); }

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

prometheus::ClientMetric GaugeSample(double value) {
  prometheus::ClientMetric metric;
  metric.gauge.value = value;
  return metric;
}

prometheus::MetricFamily SingleGauge(std::string name, std::string help, double value) {
  prometheus::MetricFamily family =
      Family(std::move(name), std::move(help), prometheus::MetricType::Gauge);
  family.metric.push_back(GaugeSample(value));
  return family;
}

prometheus::MetricFamily SingleCounter(std::string name, std::string help, double value) {
  prometheus::MetricFamily family =
      Family(std::move(name), std::move(help), prometheus::MetricType::Counter);
  prometheus::ClientMetric metric;
  metric.counter.value = value;
  family.metric.push_back(metric);
  return family;
}

// One family per consumer-group metric, one sample per group.
void AppendGroupFamilies(const std::vector<ConsumerGroupStats>& groups,
                         std::vector<prometheus::MetricFamily>* out) {
  using prometheus::MetricType;
  struct Column {
    const char* name;
    const char* help;
    MetricType type;
    double ConsumerGroupStats::*field;
  };
  static constexpr Column kColumns[] = {
      {"refir_bridge_consumer_group_lag",
       "Stored events not yet delivered to the consumer group (head - cursor + 1).",
       MetricType::Gauge, &ConsumerGroupStats::lag},
      {"refir_bridge_consumer_group_pending",
       "Events delivered to the consumer group and not yet acked, including those waiting "
       "for redelivery.",
       MetricType::Gauge, &ConsumerGroupStats::pending},
      {"refir_bridge_consumer_group_redeliveries_total",
       "Deliveries after the first (deadline expiries, RETRY nacks, restarts) since the "
       "consumer group was created.",
       MetricType::Counter, &ConsumerGroupStats::redeliveries},
      {"refir_bridge_consumer_group_dead_letters",
       "Events in the consumer group's dead letters now.", MetricType::Gauge,
       &ConsumerGroupStats::dead_letters},
      {"refir_bridge_consumer_group_subscribers_connected",
       "Subscribe streams connected to the consumer group.", MetricType::Gauge,
       &ConsumerGroupStats::subscribers},
      {"refir_bridge_consumer_group_oldest_unacked_age_seconds",
       "Seconds since the oldest event pending in the consumer group was received; 0 when "
       "nothing is pending.",
       MetricType::Gauge, &ConsumerGroupStats::oldest_unacked_age_seconds},
      {"refir_bridge_consumer_group_seconds_since_last_ack",
       "Seconds since the consumer group last received an ack (since its creation when never).",
       MetricType::Gauge, &ConsumerGroupStats::seconds_since_last_ack},
      {"refir_bridge_consumer_group_seconds_since_last_attach",
       "Seconds since a stream was last attached to the consumer group; 0 while one is.",
       MetricType::Gauge, &ConsumerGroupStats::seconds_since_last_attach},
      {"refir_bridge_consumer_group_holding_journal",
       "1 while the consumer group keeps events that --retention or --max_journal_bytes would "
       "otherwise delete.",
       MetricType::Gauge, &ConsumerGroupStats::holding_journal},
  };
  for (const Column& column : kColumns) {
    prometheus::MetricFamily family = Family(column.name, column.help, column.type);
    for (const ConsumerGroupStats& group : groups) {
      prometheus::ClientMetric metric;
      metric.label.push_back({"consumer_group", group.name});
      const double value = group.*column.field;
      if (column.type == MetricType::Counter) {
        metric.counter.value = value;
      } else {
        metric.gauge.value = value;
      }
      family.metric.push_back(std::move(metric));
    }
    out->push_back(std::move(family));
  }
}

}  // namespace

WebhookMetrics::WebhookMetrics(prometheus::Family<prometheus::Counter>* received,
                               std::string source, prometheus::Histogram* latency,
                               prometheus::Counter* unparsed)
    : received_(received), source_(std::move(source)), latency_(latency), unparsed_(unparsed) {}

prometheus::Counter& WebhookMetrics::CounterFor(int status) {
  const size_t slot = status >= 100 && static_cast<size_t>(status) < by_status_.size()
                          ? static_cast<size_t>(status)
                          : 0;
  prometheus::Counter* counter = by_status_[slot].load(std::memory_order_acquire);
  if (counter != nullptr) return *counter;
  // First request with this status: Family::Add returns the existing
  // counter when another thread got here first.
  counter =
      &received_->Add({{"source", source_}, {"status", absl::StrCat(slot == 0 ? 0 : status)}});
  by_status_[slot].store(counter, std::memory_order_release);
  return *counter;
}

void WebhookMetrics::Record(int status, absl::Duration latency) {
  CounterFor(status).Increment();
  latency_->Observe(Seconds(latency));
}

void WebhookMetrics::RecordUnparsed() { unparsed_->Increment(); }

JournalMetrics::JournalMetrics(prometheus::Histogram* append_latency,
                               prometheus::Histogram* batch_events,
                               prometheus::Histogram* commit_duration)
    : append_latency_(append_latency),
      batch_events_(batch_events),
      commit_duration_(commit_duration) {}

void JournalMetrics::RecordAppend(absl::Duration latency) {
  append_latency_->Observe(Seconds(latency));
}

void JournalMetrics::RecordCommit(size_t events, absl::Duration duration) {
  batch_events_->Observe(static_cast<double>(events));
  commit_duration_->Observe(Seconds(duration));
}

Metrics::Metrics() : registry_(std::make_unique<prometheus::Registry>()) {
  webhooks_received_ = &prometheus::BuildCounter()
                            .Name("refir_bridge_webhooks_received_total")
                            .Help("Webhook requests answered, by source and HTTP status.")
                            .Register(*registry_);
  webhook_latency_ =
      &prometheus::BuildHistogram()
           .Name("refir_bridge_webhook_request_duration_seconds")
           .Help("Time from receiving a webhook request (body read) to its answer, by source.")
           .Register(*registry_);
  webhooks_unparsed_ =
      &prometheus::BuildCounter()
           .Name("refir_bridge_webhooks_unparsed_total")
           .Help(
               "Webhook bodies that were not a JSON object, stored as <source>.unparsed "
               "(sources with invalid_body keep), by source; duplicates not counted.")
           .Register(*registry_);
  auto& append = prometheus::BuildHistogram()
                     .Name("refir_bridge_journal_append_duration_seconds")
                     .Help("Time for one journal append to become durable (queueing + commit).")
                     .Register(*registry_);
  auto& batch = prometheus::BuildHistogram()
                    .Name("refir_bridge_journal_commit_batch_events")
                    .Help("Appends written per journal group commit (one fsync).")
                    .Register(*registry_);
  auto& commit = prometheus::BuildHistogram()
                     .Name("refir_bridge_journal_commit_duration_seconds")
                     .Help("Time to write and commit one journal group commit.")
                     .Register(*registry_);
  journal_ = std::unique_ptr<JournalMetrics>(new JournalMetrics(&append.Add({}, LatencyBuckets()),
                                                                &batch.Add({}, BatchBuckets()),
                                                                &commit.Add({}, LatencyBuckets())));
}

Metrics::~Metrics() = default;

WebhookMetrics* Metrics::ForSource(absl::string_view source) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<WebhookMetrics>& slot = sources_[source];
  if (slot == nullptr) {
    prometheus::Histogram* latency =
        &webhook_latency_->Add({{"source", std::string(source)}}, LatencyBuckets());
    prometheus::Counter* unparsed = &webhooks_unparsed_->Add({{"source", std::string(source)}});
    slot = std::unique_ptr<WebhookMetrics>(
        new WebhookMetrics(webhooks_received_, std::string(source), latency, unparsed));
    // Present from the start, so rate() over the success count works.
    slot->CounterFor(200);
  }
  return slot.get();
}

void Metrics::SetScrapeSources(ScrapeSources sources) {
  absl::MutexLock lock(&mu_);
  scrape_sources_ = std::move(sources);
}

std::string Metrics::Scrape() const {
  ScrapeSources sources;
  {
    absl::MutexLock lock(&mu_);
    sources = scrape_sources_;
  }
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  if (sources.journal_head_sequence) {
    families.push_back(SingleGauge("refir_bridge_journal_head_sequence",
                                   "Sequence of the newest durable event in the journal.",
                                   static_cast<double>(sources.journal_head_sequence())));
  }
  if (sources.journal_size_bytes) {
    absl::StatusOr<uint64_t> size = sources.journal_size_bytes();
    if (size.ok()) {
      families.push_back(SingleGauge("refir_bridge_journal_size_bytes",
                                     "Size of the journal's files on disk (database and WAL).",
                                     static_cast<double>(*size)));
    } else {
      LogWarning("metrics: cannot read the journal size", {{"error", size.status().ToString()}});
    }
  }
  if (sources.subscribers_connected) {
    families.push_back(SingleGauge("refir_bridge_subscribers_connected",
                                   "Open Subscribe streams, in consumer groups or not.",
                                   static_cast<double>(sources.subscribers_connected())));
  }
  if (sources.http_connections) {
    const HttpConnectionStats http = sources.http_connections();
    families.push_back(SingleGauge("refir_bridge_http_connections_open",
                                   "Open connections on the webhook listener.",
                                   static_cast<double>(http.open)));
    families.push_back(
        SingleCounter("refir_bridge_http_connections_refused_total",
                      "Connections answered 503 too_many_connections at --http_max_connections.",
                      static_cast<double>(http.refused_total)));
    families.push_back(SingleCounter(
        "refir_bridge_http_request_timeouts_total",
        "Requests cut off with 408 because they did not arrive within --http_request_timeout.",
        static_cast<double>(http.request_timeouts_total)));
    families.push_back(SingleCounter(
        "refir_bridge_http_refused_heads_total",
        "Requests refused for their line or headers: over a size limit (414/431) or ambiguous "
        "framing (400).",
        static_cast<double>(http.refused_heads_total)));
    families.push_back(SingleCounter("refir_bridge_http_tls_handshake_failures_total",
                                     "HTTPS handshakes that failed or did not finish in time.",
                                     static_cast<double>(http.tls_handshake_failures_total)));
    families.push_back(
        SingleGauge("refir_bridge_http_inflight_body_bytes",
                    "Request body bytes in progress, of --http_max_inflight_body_bytes.",
                    static_cast<double>(http.inflight_body_bytes)));
  }
  if (sources.group_calls_forwarded_total) {
    families.push_back(SingleCounter(
        "refir_bridge_group_calls_forwarded_total",
        "Consumer-group calls and Subscribe streams this standby forwarded to the replica "
        "serving the groups, since the bridge started.",
        static_cast<double>(sources.group_calls_forwarded_total())));
  }
  if (sources.consumer_groups_expired_total) {
    families.push_back(
        SingleCounter("refir_bridge_consumer_groups_expired_total",
                      "Consumer groups deleted because no stream was attached for their idle "
                      "expiry, since the bridge started.",
                      static_cast<double>(sources.consumer_groups_expired_total())));
  }
  if (sources.consumer_groups) {
    absl::StatusOr<std::vector<ConsumerGroupStats>> groups = sources.consumer_groups();
    if (groups.ok()) {
      AppendGroupFamilies(*groups, &families);
    } else {
      LogWarning("metrics: cannot describe the consumer groups",
                 {{"error", groups.status().ToString()}});
    }
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace refir::bridge
