// The floor under the CPU-per-webhook row (bench/notes.md, issue 19): the
// CPU one fsync'd commit costs this process at a paced rate, with nothing
// else in the way (no HTTP, no threads), for
//   --mode=raw     a 4 KiB pwrite + fdatasync into a preallocated file;
//   --mode=journal one ~900-byte row per transaction into a SQLite table
//                  with the journal's schema (WAL, synchronous=FULL);
//   --mode=bare    the same row into a table without indexes or
//                  AUTOINCREMENT (one page per commit instead of ~4).
// Prints utime+stime per commit (getrusage) and the wall time of the commits
// (p50, p99, p99.9, max): the latency floor under the end-to-end rows. Example:
//   build/bench/refir_bench_commit_floor --mode=journal --rate=500 --path=/tmp/floor.db
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/process_cpu.h"

ABSL_FLAG(std::string, mode, "journal", "raw, journal or bare");
ABSL_FLAG(int, rate, 500, "commits per second (paced)");
ABSL_FLAG(int, commits, 3000, "commits to time");
ABSL_FLAG(std::string, path, "/tmp/refir-commit-floor.db", "file to write (replaced)");

namespace {

using refir::bridge::bench::ProcessCpuMicros;

constexpr int kPageBytes = 4096;
constexpr int kRawPages = 2048;  // the raw file cycles over 8 MiB
constexpr int kRowBytes = 890;   // a stored bench webhook

constexpr char kJournalSchema[] =
    "CREATE TABLE events (sequence INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
    " received_at_us INTEGER NOT NULL, type TEXT NOT NULL, event BLOB NOT NULL);"
    "CREATE INDEX events_received_at ON events(received_at_us);";
constexpr char kBareSchema[] =
    "CREATE TABLE events (sequence INTEGER PRIMARY KEY, id TEXT NOT NULL,"
    " received_at_us INTEGER NOT NULL, type TEXT NOT NULL, event BLOB NOT NULL);";

// Wall time of each commit, for the latency percentiles.
class CommitTimes {
 public:
  explicit CommitTimes(int commits) { millis_.reserve(static_cast<size_t>(commits)); }
  void Add(absl::Duration took) { millis_.push_back(absl::ToDoubleMilliseconds(took)); }
  // " latency_ms p50=... p99=... p999=... max=..." (sorts the samples).
  std::string Summary() {
    if (millis_.empty()) return "";
    std::sort(millis_.begin(), millis_.end());
    auto at = [this](double q) {
      return millis_[std::min(millis_.size() - 1, static_cast<size_t>(q * millis_.size()))];
    };
    return absl::StrFormat(" latency_ms p50=%.2f p99=%.2f p999=%.2f max=%.2f", at(0.5), at(0.99),
                           at(0.999), millis_.back());
  }

 private:
  std::vector<double> millis_;
};

// Sleeps until commit `i` is due, so the commits are paced at `rate`.
void WaitTurn(absl::Time start, int i, int rate) {
  absl::SleepFor(start + absl::Seconds(1) * i / rate - absl::Now());
}

bool Fail(const std::string& what) {
  std::fprintf(stderr, "commit_floor: %s\n", what.c_str());
  return false;
}

bool RunRaw(const std::string& path, int rate, int commits) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return Fail(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  const std::vector<char> page(kPageBytes, 'x');
  bool ok = true;
  for (int i = 0; i < kRawPages && ok; ++i) {
    ok = pwrite(fd, page.data(), page.size(), static_cast<off_t>(i) * kPageBytes) == kPageBytes;
  }
  ok = ok && fsync(fd) == 0;
  CommitTimes times(commits);
  const double cpu_before = ProcessCpuMicros();
  const absl::Time start = absl::Now();
  for (int i = 0; i < commits && ok; ++i) {
    WaitTurn(start, i, rate);
    const absl::Time began = absl::Now();
    const off_t offset = static_cast<off_t>(i % kRawPages) * kPageBytes;
    ok = pwrite(fd, page.data(), page.size(), offset) == kPageBytes && fdatasync(fd) == 0;
    times.Add(absl::Now() - began);
  }
  const double cpu_us = ProcessCpuMicros() - cpu_before;
  close(fd);
  if (!ok) return Fail(absl::StrCat("write or fdatasync: ", std::strerror(errno)));
  std::printf("mode=raw rate=%d commits=%d cpu_us_per_commit=%.1f%s\n", rate, commits,
              cpu_us / commits, times.Summary().c_str());
  return true;
}

bool Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) == SQLITE_OK) return true;
  const std::string message = error != nullptr ? error : "unknown error";
  sqlite3_free(error);
  return Fail(absl::StrCat(sql, ": ", message));
}

bool RunSqlite(const std::string& path, bool journal_schema, int rate, int commits) {
  for (const char* suffix : {"", "-wal", "-shm"}) unlink(absl::StrCat(path, suffix).c_str());
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return Fail(absl::StrCat("open ", path));
  }
  sqlite3_stmt* insert = nullptr;
  bool ok = Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") &&
            Exec(db, journal_schema ? kJournalSchema : kBareSchema) &&
            sqlite3_prepare_v2(db,
                               "INSERT INTO events (id, received_at_us, type, event) "
                               "VALUES (?1, ?2, 'refir.referral.created', ?3)",
                               -1, &insert, nullptr) == SQLITE_OK;
  const std::vector<char> row(kRowBytes, 'x');
  CommitTimes times(commits);
  const double cpu_before = ProcessCpuMicros();
  const absl::Time start = absl::Now();
  for (int i = 0; i < commits && ok; ++i) {
    WaitTurn(start, i, rate);
    const absl::Time began = absl::Now();
    // Time-ordered ids, as the bridge's UUIDv7s are.
    const std::string id = absl::StrCat("0193", absl::Hex(absl::ToUnixMicros(absl::Now())), "-", i);
    ok = Exec(db, "BEGIN IMMEDIATE") &&
         sqlite3_bind_text(insert, 1, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT) ==
             SQLITE_OK &&
         sqlite3_bind_int64(insert, 2, absl::ToUnixMicros(absl::Now())) == SQLITE_OK &&
         sqlite3_bind_blob(insert, 3, row.data(), static_cast<int>(row.size()), SQLITE_STATIC) ==
             SQLITE_OK &&
         sqlite3_step(insert) == SQLITE_DONE && sqlite3_reset(insert) == SQLITE_OK &&
         Exec(db, "COMMIT");
    times.Add(absl::Now() - began);
  }
  const double cpu_us = ProcessCpuMicros() - cpu_before;
  if (!ok) Fail(absl::StrCat("insert: ", sqlite3_errmsg(db)));
  sqlite3_finalize(insert);
  sqlite3_close(db);
  if (!ok) return false;
  std::printf("mode=%s rate=%d commits=%d cpu_us_per_commit=%.1f%s\n",
              journal_schema ? "journal" : "bare", rate, commits, cpu_us / commits,
              times.Summary().c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("CPU per fsync'd commit at a paced rate (bench/notes.md)");
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  const int rate = absl::GetFlag(FLAGS_rate);
  const int commits = absl::GetFlag(FLAGS_commits);
  const std::string path = absl::GetFlag(FLAGS_path);
  if (rate <= 0 || commits <= 0) {
    std::fprintf(stderr, "commit_floor: --rate and --commits must be > 0\n");
    return 2;
  }
  bool ok = false;
  if (mode == "raw") {
    ok = RunRaw(path, rate, commits);
  } else if (mode == "journal" || mode == "bare") {
    ok = RunSqlite(path, mode == "journal", rate, commits);
  } else {
    std::fprintf(stderr, "commit_floor: --mode must be raw, journal or bare\n");
    return 2;
  }
  return ok ? 0 : 1;
}
