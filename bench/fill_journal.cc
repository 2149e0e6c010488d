// refir_bench_fill_journal: writes N realistic events straight into a
// bridge data directory through the bridge's own SQLite journal library, so
// a large backlog takes seconds instead of minutes of HTTP. The event is the
// bridge's conversion of --body_file (as the webhook path would store it);
// each copy gets its own UUIDv7 id and receive time. Many appending threads
// keep the journal's group commit writing large transactions.
//
// Prints one JSON summary line on stdout: {"events":N,"seconds":S,
// "head_sequence":N}. Exit 0 on success, 1 when writing failed, 2 on bad
// flags. See bench-contract (issue 7) and docs/benchmarks.md.
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_webhook_request.h"
#include "bridge/common/proto_time.h"
#include "bridge/common/read_small_file.h"
#include "bridge/common/uuid7.h"
#include "bridge/convert/webhook_converter.h"
#include "bridge/journal/sqlite/sqlite_journal.h"

ABSL_FLAG(std::string, data_dir, "", "Bridge data directory (created if missing); required");
ABSL_FLAG(int64_t, events, 1000000, "Events to append");
ABSL_FLAG(std::string, body_file, "bench/ingest_body.json", "Webhook body converted to the event");

namespace refir::bridge {
namespace {

// Appending threads: each Append blocks until its commit is durable, so the
// committer's transactions hold about this many events.
constexpr int kWriterThreads = 256;
constexpr size_t kMaxBodyBytes = 1024 * 1024;

int BadFlag(const std::string& message) {
  std::cerr << "refir_bench_fill_journal: " << message << "\n";
  return 2;
}

int Run() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const int64_t total = absl::GetFlag(FLAGS_events);
  if (data_dir.empty()) return BadFlag("--data_dir is required");
  if (total < 1) return BadFlag("--events must be at least 1");
  absl::StatusOr<std::string> body = ReadSmallFile(absl::GetFlag(FLAGS_body_file), kMaxBodyBytes);
  if (!body.ok()) return BadFlag(absl::StrCat("--body_file: ", body.status().message()));
  if (mkdir(data_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return BadFlag(
        absl::StrCat("--data_dir: cannot create '", data_dir, "': ", std::strerror(errno)));
  }

  // The event as the webhook path stores it (what refir_bench_loadgen sends).
  const WebhookRequest request = bench::BenchWebhookRequest(
      *std::move(body),
      {{"content-type", "application/json"}, {"user-agent", "refir-bench-fill-journal"}});
  absl::StatusOr<v1::Event> converted = WebhookConverter().Convert(request);
  if (!converted.ok()) {
    return BadFlag(absl::StrCat("--body_file: ", converted.status().message()));
  }
  const v1::Event templ = *std::move(converted);

  SqliteJournalOptions options;
  options.path = absl::StrCat(data_dir, "/journal.db");
  options.max_batch = 4096;
  options.max_pending = 8192;
  absl::StatusOr<std::unique_ptr<Journal>> journal = OpenSqliteJournal(options);
  if (!journal.ok()) {
    std::cerr << "cannot open the journal: " << journal.status() << "\n";
    return 1;
  }

  std::atomic<int64_t> next{0};
  std::atomic<int64_t> written{0};
  absl::Mutex error_mu;
  absl::Status error;
  const absl::Time started = absl::Now();
  std::vector<std::thread> writers;
  writers.reserve(kWriterThreads);
  for (int t = 0; t < kWriterThreads; ++t) {
    writers.emplace_back([&] {
      v1::Event event = templ;
      while (next.fetch_add(1) < total) {
        const absl::Time now = absl::Now();
        event.set_id(NewUuidV7(now));
        *event.mutable_received_at() = ToProtoTimestamp(now);
        absl::StatusOr<AppendResult> result = (*journal)->Append(event, DedupKey{});
        if (!result.ok()) {
          absl::MutexLock lock(&error_mu);
          if (error.ok()) error = result.status();
          next.store(total);
          return;
        }
        const int64_t done = written.fetch_add(1) + 1;
        if (done % 100000 == 0) std::cerr << done << " events\n";
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - started);
  const uint64_t head = (*journal)->HeadSequence();
  (*journal)->Close();
  {
    absl::MutexLock lock(&error_mu);
    if (!error.ok()) {
      std::cerr << "append failed: " << error << "\n";
      std::cout << "{\"events\":" << written.load() << ",\"seconds\":" << seconds
                << ",\"head_sequence\":" << head << "}" << std::endl;
      return 1;
    }
  }
  std::cout << "{\"events\":" << written.load() << ",\"seconds\":" << seconds
            << ",\"head_sequence\":" << head << "}" << std::endl;
  return 0;
}

}  // namespace
}  // namespace refir::bridge

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes --events realistic events into --data_dir's journal (see docs/benchmarks.md)");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "refir_bench_fill_journal: unexpected argument '" << rest[1] << "'\n";
    return 2;
  }
  return refir::bridge::Run();
}
