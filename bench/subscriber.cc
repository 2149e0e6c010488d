// refir_bench_subscriber: subscribes to the bridge with G consumer groups (one
// stream and thread each), acks every batch as it arrives, counts distinct
// sequences and duplicates per group, and measures end-to-end latency (receive
// time minus the x-request-id send time, CLOCK_MONOTONIC ns). Prints a JSON
// summary on its last stdout line; progress goes to stderr every second.
// Ends when every group has --expect sequences, at --timeout, or on
// SIGINT/SIGTERM (then the summary is printed and the exit code is 0 unless
// --expect was not met).
#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/arena.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

ABSL_FLAG(std::string, target, "", "gRPC address of the bridge (host:port, plaintext)");
ABSL_FLAG(int, groups, 1, "Consumer groups, one stream each");
ABSL_FLAG(std::string, group_prefix, "bench", "Group names are <prefix>-0 .. <prefix>-(G-1)");
ABSL_FLAG(std::string, start, "latest", "Where a new group starts: earliest or latest");
ABSL_FLAG(int64_t, expect, 0, "Stop when every group has this many distinct sequences; 0: never");
ABSL_FLAG(double, timeout, 0, "Give up after this many seconds (exit 1 if --expect unmet)");
ABSL_FLAG(std::string, ready_file, "", "Written once every group's stream is open");
ABSL_FLAG(std::string, latency_out, "", "Optional: one end-to-end latency (µs) per line");

namespace {

namespace v1 = refir::bridge::v1;
using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux.

// First block of each stream's parse arena: a batch of 1,000 stored events
// (~900 bytes each on the wire) parses into a few MiB; larger batches make
// the arena add blocks, which Reset frees again.
constexpr size_t kArenaBlockBytes = size_t{8} << 20;

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Per-group counters. `received` and `duplicates` are read by the progress
// reporter while the group's thread writes them (atomics); the rest is owned
// by the group's thread until it is joined.
struct GroupState {
  std::atomic<int64_t> received{0};
  std::atomic<int64_t> duplicates{0};
  std::vector<uint64_t> seen;  // Bitset over sequences.
  std::vector<uint32_t> latencies_us;
  int64_t first_ns = 0;
  int64_t last_ns = 0;
  bool failed = false;
  std::string error;
};

// Cancels every stream on a stop (signal, timeout); counts open streams.
class Control {
 public:
  explicit Control(int groups) : contexts_(static_cast<size_t>(groups), nullptr) {}
  // False if already stopped.
  bool Register(int group, grpc::ClientContext* context) {
    absl::MutexLock lock(&mu_);
    contexts_[static_cast<size_t>(group)] = context;
    return !stopped_;
  }
  void Unregister(int group) {
    absl::MutexLock lock(&mu_);
    contexts_[static_cast<size_t>(group)] = nullptr;
  }
  void Stop() {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    for (grpc::ClientContext* context : contexts_) {
      if (context != nullptr) context->TryCancel();
    }
  }
  bool stopped() {
    absl::MutexLock lock(&mu_);
    return stopped_;
  }
  // Returns true for the call that made every group open.
  bool MarkOpen() {
    absl::MutexLock lock(&mu_);
    return ++open_ == static_cast<int>(contexts_.size());
  }

 private:
  absl::Mutex mu_;
  std::vector<grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

void WriteReadyFile(const std::string& path) {
  if (path.empty()) return;
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp);
    out << "ready\n";
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::cerr << "cannot write --ready_file=" << path << "\n";
  }
}

void RunGroup(int index, Control* control, GroupState* state) {
  const std::string group = absl::StrCat(absl::GetFlag(FLAGS_group_prefix), "-", index);
  const int64_t expect = absl::GetFlag(FLAGS_expect);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // Own connection per group.
  args.SetMaxReceiveMessageSize(-1);
  std::unique_ptr<v1::EventStream::Stub> stub = v1::EventStream::NewStub(grpc::CreateCustomChannel(
      absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  if (!control->Register(index, &context)) return;
  auto stream = stub->Subscribe(&context);

  v1::SubscribeRequest request;
  v1::SubscribeInit* init = request.mutable_init();
  init->set_consumer_group(group);
  init->set_client_id(group);
  if (absl::GetFlag(FLAGS_start) == "earliest") {
    init->mutable_start()->mutable_earliest();
  } else {
    init->mutable_start()->mutable_latest();
  }
  init->set_max_outstanding(10000);
  init->set_max_batch(1000);
  init->set_ack_deadline_seconds(60);
  bool ok = stream->Write(request);

  v1::SubscribeRequest settle_request;
  v1::Settle* settle = settle_request.mutable_settle();
  // Each response is parsed into an arena that is reset after the batch, so
  // parsing a batch of 1,000 events (headers maps, nested messages, strings)
  // costs no malloc/free per field: with glibc malloc that was about half of
  // this process's CPU time in catch-up (bench/notes.md).
  std::vector<char> arena_block(kArenaBlockBytes);
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = arena_block.data();
  arena_options.initial_block_size = arena_block.size();
  google::protobuf::Arena arena(arena_options);
  bool done = false;
  for (;;) {
    arena.Reset();
    auto* response = google::protobuf::Arena::CreateMessage<v1::SubscribeResponse>(&arena);
    if (!ok || done || !stream->Read(response)) break;
    if (response->kind_case() == v1::SubscribeResponse::kConfirm) {
      if (control->MarkOpen()) WriteReadyFile(absl::GetFlag(FLAGS_ready_file));
      continue;
    }
    if (response->kind_case() != v1::SubscribeResponse::kBatch) continue;
    const int64_t now = NowNanos();
    if (state->first_ns == 0) state->first_ns = now;
    state->last_ns = now;
    settle->clear_ack_ids();
    int64_t received = state->received.load(std::memory_order_relaxed);
    int64_t duplicates = 0;
    for (const v1::Delivery& delivery : response->batch().deliveries()) {
      settle->add_ack_ids(delivery.ack_id());
      const v1::Event& event = delivery.event();
      const uint64_t sequence = event.sequence();
      const size_t word = static_cast<size_t>(sequence >> 6);
      if (word >= state->seen.size())
        state->seen.resize(std::max(word + 1, state->seen.size() * 2));
      const uint64_t bit = uint64_t{1} << (sequence & 63);
      if (state->seen[word] & bit) {
        ++duplicates;
        continue;
      }
      state->seen[word] |= bit;
      ++received;
      const auto header = event.headers().find("x-request-id");
      int64_t sent_ns = 0;
      if (header != event.headers().end() && absl::SimpleAtoi(header->second, &sent_ns) &&
          sent_ns > 0 && sent_ns <= now) {
        state->latencies_us.push_back(
            static_cast<uint32_t>(std::min<int64_t>((now - sent_ns) / 1000, UINT32_MAX)));
      }
    }
    state->received.store(received, std::memory_order_relaxed);
    if (duplicates > 0) state->duplicates.fetch_add(duplicates, std::memory_order_relaxed);
    if (settle->ack_ids_size() > 0) ok = stream->Write(settle_request);
    done = expect > 0 && received >= expect;
  }
  const bool stopped = control->stopped();
  context.TryCancel();  // The bridge keeps the stream open until the client ends it.
  v1::SubscribeResponse drained;
  while (stream->Read(&drained)) continue;
  const grpc::Status status = stream->Finish();
  control->Unregister(index);
  if (!done && !stopped) {
    state->failed = true;
    state->error = absl::StrCat(group, ": stream ended: code ", status.error_code(), " ",
                                status.error_message());
  }
}

uint32_t Percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t index = static_cast<size_t>(p * static_cast<double>(sorted.size()));
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Subscribes with G consumer groups and measures delivery.");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_target).empty()) {
    std::cerr << "missing --target=HOST:PORT\n";
    return 2;
  }
  const int groups = absl::GetFlag(FLAGS_groups);
  if (groups < 1 || groups > 1000) {
    std::cerr << "invalid --groups=" << groups << ": want 1..1000\n";
    return 2;
  }
  const std::string start = absl::GetFlag(FLAGS_start);
  if (start != "earliest" && start != "latest") {
    std::cerr << "invalid --start=" << start << ": want earliest or latest\n";
    return 2;
  }
  const int64_t expect = absl::GetFlag(FLAGS_expect);
  const double timeout = absl::GetFlag(FLAGS_timeout);
  if (expect < 0) {
    std::cerr << "invalid --expect=" << expect << ": want >= 0\n";
    return 2;
  }
  if (!(timeout >= 0)) {
    std::cerr << "invalid --timeout=" << timeout << ": want >= 0\n";
    return 2;
  }

  // Block SIGINT/SIGTERM before gRPC starts threads; a sigwait thread stops.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (int rc = pthread_sigmask(SIG_BLOCK, &signals, nullptr); rc != 0) {
    std::cerr << "pthread_sigmask failed: " << rc << "\n";
    return 1;
  }
  Control control(groups);
  std::atomic<bool> exiting{false};
  std::thread signal_thread([&] {
    while (true) {
      int signal_number = 0;
      if (sigwait(&signals, &signal_number) != 0) continue;
      if (exiting.load()) return;
      std::cerr << "signal " << signal_number << ": stopping\n";
      control.Stop();
    }
  });

  std::vector<GroupState> states(static_cast<size_t>(groups));
  std::vector<std::thread> threads;
  for (int i = 0; i < groups; ++i) {
    threads.emplace_back(RunGroup, i, &control, &states[static_cast<size_t>(i)]);
  }
  // Progress and timeout.
  std::atomic<bool> finished{false};
  bool timed_out = false;
  std::thread monitor([&] {
    const auto begin = Clock::now();
    auto next_report = begin + std::chrono::seconds(1);
    while (!finished.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const auto now = Clock::now();
      if (timeout > 0 && now - begin >= std::chrono::duration<double>(timeout)) {
        timed_out = true;
        control.Stop();
        return;
      }
      if (now >= next_report) {
        next_report += std::chrono::seconds(1);
        int64_t min_received = INT64_MAX;
        for (const GroupState& state : states) {
          min_received = std::min(min_received, state.received.load());
        }
        std::cerr << "progress min_group_received=" << min_received << std::endl;
      }
    }
  });
  for (std::thread& thread : threads) thread.join();
  finished.store(true);
  monitor.join();
  exiting.store(true);
  if (pthread_kill(signal_thread.native_handle(), SIGTERM) == 0) {
    signal_thread.join();
  } else {
    signal_thread.detach();
  }

  int64_t received = 0, min_received = INT64_MAX, duplicates = 0;
  int64_t first_ns = INT64_MAX, last_ns = 0;
  bool failed = false;
  std::vector<uint32_t> latencies;
  for (GroupState& state : states) {
    received += state.received.load();
    min_received = std::min(min_received, state.received.load());
    duplicates += state.duplicates.load();
    if (state.first_ns != 0) first_ns = std::min(first_ns, state.first_ns);
    last_ns = std::max(last_ns, state.last_ns);
    latencies.insert(latencies.end(), state.latencies_us.begin(), state.latencies_us.end());
    if (state.failed) {
      failed = true;
      std::cerr << state.error << "\n";
    }
  }
  const std::string latency_out = absl::GetFlag(FLAGS_latency_out);
  if (!latency_out.empty()) {
    std::ofstream out(latency_out);
    for (uint32_t us : latencies) out << us << '\n';
    if (!out) {
      std::cerr << "cannot write --latency_out=" << latency_out << "\n";
      failed = true;
    }
  }
  std::sort(latencies.begin(), latencies.end());
  const double seconds = last_ns > first_ns ? static_cast<double>(last_ns - first_ns) / 1e9 : 0.0;
  std::cout << absl::StrCat("{\"groups\":", groups, ",\"received\":", received,
                            ",\"min_group_received\":", min_received,
                            ",\"duplicates\":", duplicates, ",\"seconds\":", seconds,
                            ",\"events_per_sec\":",
                            seconds > 0 ? static_cast<double>(received) / seconds : 0,
                            ",\"p50_us\":", Percentile(latencies, 0.5),
                            ",\"p99_us\":", Percentile(latencies, 0.99),
                            ",\"p999_us\":", Percentile(latencies, 0.999),
                            ",\"max_us\":", latencies.empty() ? 0 : latencies.back(), "}")
            << std::endl;
  if (timed_out) std::cerr << "timed out after " << timeout << " s\n";
  if (expect > 0 && min_received < expect) return 1;
  return failed ? 1 : 0;
}
