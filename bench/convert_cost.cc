// The CPU the HTTP edge spends converting one webhook (issue 19's direction
// "JSON DOM where a SAX pass would do"): WebhookConverter::Convert on a body,
// then the Event serialized as the journal stores it, in a loop on one
// thread, with nothing else running. Prints utime+stime per webhook for both
// steps. Example:
//   build/bench/refir_bench_convert_cost --body_file=bench/ingest_body.json

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/bench_webhook_request.h"
#include "bench/process_cpu.h"
#include "bridge/common/read_small_file.h"
#include "bridge/convert/webhook_converter.h"
#include "bridge/convert/webhook_request.h"

ABSL_FLAG(std::string, body_file, "bench/ingest_body.json", "webhook body to convert");
ABSL_FLAG(int, iterations, 200000, "conversions to time");

namespace {

using refir::bridge::WebhookConverter;
using refir::bridge::WebhookRequest;
using refir::bridge::bench::ProcessCpuMicros;

constexpr size_t kMaxBodyBytes = 1024 * 1024;

// Converts the request `iterations` times (and serializes each event when
// `serialize`); returns CPU microseconds per webhook, or -1 on a failure.
double TimeConversions(const WebhookConverter& converter, WebhookRequest& request, int iterations,
                       bool serialize) {
  std::string blob;
  const double cpu_before = ProcessCpuMicros();
  for (int i = 0; i < iterations; ++i) {
    request.received_at = absl::Now();
    absl::StatusOr<refir::bridge::v1::Event> event = converter.Convert(request);
    if (!event.ok()) {
      std::fprintf(stderr, "convert_cost: %s\n", event.status().ToString().c_str());
      return -1;
    }
    if (serialize) {
      blob.clear();
      if (!event->SerializeToString(&blob)) {
        std::fprintf(stderr, "convert_cost: the event does not serialize\n");
        return -1;
      }
    }
  }
  return (ProcessCpuMicros() - cpu_before) / iterations;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("CPU per webhook conversion (bench/notes.md)");
  absl::ParseCommandLine(argc, argv);
  const int iterations = absl::GetFlag(FLAGS_iterations);
  if (iterations <= 0) {
    std::fprintf(stderr, "convert_cost: --iterations must be > 0\n");
    return 2;
  }
  absl::StatusOr<std::string> body =
      refir::bridge::ReadSmallFile(absl::GetFlag(FLAGS_body_file), kMaxBodyBytes);
  if (!body.ok()) {
    std::fprintf(stderr, "convert_cost: --body_file: %s\n", body.status().ToString().c_str());
    return 2;
  }
  // As the webhook path hands it over, with refir_bench_loadgen's headers.
  const std::string content_length = absl::StrCat(body->size());
  WebhookRequest request = refir::bridge::bench::BenchWebhookRequest(
      *std::move(body), {{"Host", "127.0.0.1:8080"},
                         {"Content-Type", "application/json"},
                         {"Content-Length", content_length},
                         {"x-request-id", "convert-cost-1"}});
  const WebhookConverter converter;
  const double convert_us = TimeConversions(converter, request, iterations, false);
  const double with_blob_us = TimeConversions(converter, request, iterations, true);
  if (convert_us < 0 || with_blob_us < 0) return 1;
  std::printf("iterations=%d body_bytes=%zu convert_us=%.2f convert_and_serialize_us=%.2f\n",
              iterations, request.body.size(), convert_us, with_blob_us);
  return 0;
}
