#include "bridge/metrics/metrics.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace refir::bridge {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(MetricsTest, CountsWebhooksBySourceAndStatus) {
  Metrics metrics;
  WebhookMetrics* refir = metrics.ForSource("refir");
  EXPECT_EQ(metrics.ForSource("refir"), refir);
  WebhookMetrics* other = metrics.ForSource("other");
  refir->Record(200, absl::Milliseconds(2));
  refir->Record(200, absl::Milliseconds(3));
  refir->Record(400, absl::Microseconds(300));
  other->Record(415, absl::Seconds(20));
  refir->Record(99, absl::Milliseconds(1));  // not an HTTP status: slot 0

  const std::vector<std::string> lines = Lines(metrics.Scrape());
  EXPECT_THAT(lines, Contains("# TYPE refir_bridge_webhooks_received_total counter"));
  EXPECT_THAT(lines,
              Contains("refir_bridge_webhooks_received_total{source=\"refir\",status=\"200\"} 2"));
  EXPECT_THAT(lines,
              Contains("refir_bridge_webhooks_received_total{source=\"refir\",status=\"400\"} 1"));
  EXPECT_THAT(lines,
              Contains("refir_bridge_webhooks_received_total{source=\"refir\",status=\"0\"} 1"));
  EXPECT_THAT(lines,
              Contains("refir_bridge_webhooks_received_total{source=\"other\",status=\"415\"} 1"));
  // Each source has a 200 series from the start.
  EXPECT_THAT(lines,
              Contains("refir_bridge_webhooks_received_total{source=\"other\",status=\"200\"} 0"));

  EXPECT_THAT(lines, Contains("# TYPE refir_bridge_webhook_request_duration_seconds histogram"));
  EXPECT_THAT(lines,
              Contains("refir_bridge_webhook_request_duration_seconds_count{source=\"refir\"} 4"));
  // 0.3 ms is under the first bucket; 1, 2 and 3 ms are not.
  EXPECT_THAT(lines,
              Contains("refir_bridge_webhook_request_duration_seconds_bucket{source=\"refir\","
                       "le=\"0.0005\"} 1"));
  EXPECT_THAT(lines,
              Contains("refir_bridge_webhook_request_duration_seconds_bucket{source=\"refir\","
                       "le=\"0.0025\"} 3"));
  // 20 s is above every bound but +Inf.
  EXPECT_THAT(lines,
              Contains("refir_bridge_webhook_request_duration_seconds_bucket{source=\"other\","
                       "le=\"10\"} 0"));
  EXPECT_THAT(lines,
              Contains("refir_bridge_webhook_request_duration_seconds_bucket{source=\"other\","
                       "le=\"+Inf\"} 1"));
}

TEST(MetricsTest, CountsUnparsedBodiesBySource) {
  Metrics metrics;
  WebhookMetrics* raw = metrics.ForSource("raw");
  metrics.ForSource("refir");
  raw->RecordUnparsed();
  raw->RecordUnparsed();
  const std::vector<std::string> lines = Lines(metrics.Scrape());
  EXPECT_THAT(lines, Contains("# TYPE refir_bridge_webhooks_unparsed_total counter"));
  EXPECT_THAT(lines, Contains("refir_bridge_webhooks_unparsed_total{source=\"raw\"} 2"));
  // Present from the start, at 0.
  EXPECT_THAT(lines, Contains("refir_bridge_webhooks_unparsed_total{source=\"refir\"} 0"));
}

TEST(MetricsTest, JournalHistograms) {
  Metrics metrics;
  metrics.journal()->RecordAppend(absl::Milliseconds(4));
  metrics.journal()->RecordCommit(3, absl::Milliseconds(1));
  metrics.journal()->RecordCommit(300, absl::Milliseconds(2));
  const std::vector<std::string> lines = Lines(metrics.Scrape());
  EXPECT_THAT(lines, Contains("refir_bridge_journal_append_duration_seconds_count 1"));
  EXPECT_THAT(lines, Contains("refir_bridge_journal_commit_batch_events_count 2"));
  EXPECT_THAT(lines, Contains("refir_bridge_journal_commit_batch_events_sum 303"));
  EXPECT_THAT(lines, Contains("refir_bridge_journal_commit_batch_events_bucket{le=\"4\"} 1"));
  EXPECT_THAT(lines, Contains("refir_bridge_journal_commit_batch_events_bucket{le=\"512\"} 2"));
  EXPECT_THAT(lines, Contains("refir_bridge_journal_commit_duration_seconds_count 2"));
}

TEST(MetricsTest, ScrapeTimeSourcesAreReadAtEachScrape) {
  Metrics metrics;
  std::vector<ConsumerGroupStats> groups = {{"billing", 5, 2, 7, 1, 2}, {"audit", 0, 0, 0, 0, 0}};
  uint64_t head = 42;
  ScrapeSources sources;
  sources.journal_head_sequence = [&] { return head; };
  sources.journal_size_bytes = []() -> absl::StatusOr<uint64_t> { return 8192; };
  sources.subscribers_connected = [] { return uint64_t{3}; };
  sources.group_calls_forwarded_total = [] { return uint64_t{11}; };
  sources.consumer_groups = [&]() -> absl::StatusOr<std::vector<ConsumerGroupStats>> {
    return groups;
  };
  metrics.SetScrapeSources(sources);

  std::vector<std::string> lines = Lines(metrics.Scrape());
  EXPECT_THAT(lines, Contains("# TYPE refir_bridge_journal_head_sequence gauge"));
  EXPECT_THAT(lines, Contains("refir_bridge_journal_head_sequence 42"));
  EXPECT_THAT(lines, Contains("refir_bridge_journal_size_bytes 8192"));
  EXPECT_THAT(lines, Contains("refir_bridge_subscribers_connected 3"));
  EXPECT_THAT(lines, Contains("# TYPE refir_bridge_group_calls_forwarded_total counter"));
  EXPECT_THAT(lines, Contains("refir_bridge_group_calls_forwarded_total 11"));
  EXPECT_THAT(lines, Contains("refir_bridge_consumer_group_lag{consumer_group=\"billing\"} 5"));
  EXPECT_THAT(lines, Contains("refir_bridge_consumer_group_pending{consumer_group=\"billing\"} 2"));
  EXPECT_THAT(lines, Contains("# TYPE refir_bridge_consumer_group_redeliveries_total counter"));
  EXPECT_THAT(lines, Contains("refir_bridge_consumer_group_redeliveries_total{consumer_group="
                              "\"billing\"} 7"));
  EXPECT_THAT(lines,
              Contains("refir_bridge_consumer_group_dead_letters{consumer_group=\"billing\"} 1"));
  EXPECT_THAT(lines, Contains("refir_bridge_consumer_group_subscribers_connected{consumer_group="
                              "\"billing\"} 2"));
  EXPECT_THAT(lines, Contains("refir_bridge_consumer_group_lag{consumer_group=\"audit\"} 0"));

  // A deleted group is gone from the next scrape; values are current.
  groups.pop_back();
  head = 43;
  const std::string text = metrics.Scrape();
  EXPECT_THAT(text, Not(HasSubstr("audit")));
  EXPECT_THAT(Lines(text), Contains("refir_bridge_journal_head_sequence 43"));
}

TEST(MetricsTest, FailingSourceIsLeftOut) {
  Metrics metrics;
  ScrapeSources sources;
  sources.journal_size_bytes = []() -> absl::StatusOr<uint64_t> {
    return absl::NotFoundError("no file");
  };
  sources.consumer_groups = []() -> absl::StatusOr<std::vector<ConsumerGroupStats>> {
    return absl::UnavailableError("store closed");
  };
  sources.journal_head_sequence = [] { return uint64_t{1}; };
  metrics.SetScrapeSources(sources);
  const std::string text = metrics.Scrape();
  EXPECT_THAT(text, Not(HasSubstr("refir_bridge_journal_size_bytes")));
  EXPECT_THAT(text, Not(HasSubstr("refir_bridge_consumer_group_lag")));
  EXPECT_THAT(text, HasSubstr("refir_bridge_journal_head_sequence 1\n"));
}

TEST(MetricsTest, EveryFamilyHasHelpAndType) {
  Metrics metrics;
  metrics.ForSource("refir");
  const std::vector<std::string> lines = Lines(metrics.Scrape());
  int help = 0;
  int type = 0;
  for (const std::string& line : lines) {
    if (absl::StartsWith(line, "# HELP refir_bridge_")) ++help;
    if (absl::StartsWith(line, "# TYPE refir_bridge_")) ++type;
  }
  EXPECT_EQ(help, 6);  // webhooks, request latency, unparsed, append, batch, commit
  EXPECT_EQ(type, 6);
}

}  // namespace
}  // namespace refir::bridge
