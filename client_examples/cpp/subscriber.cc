// refir_subscriber: a small EventStream.Subscribe client. Prints one line per
// event on stdout, reconnects with backoff when the bridge restarts, and
// resumes after the last event it printed. See README.md for the line format.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "gRPC address of the bridge (host:port)");
ABSL_FLAG(std::string, start, "latest",
          "Where to start: earliest, latest, a sequence number, or an RFC3339 time");
ABSL_FLAG(int32_t, max_batch, 100, "Most events per DeliveryBatch (1 to 1000)");
ABSL_FLAG(std::string, client_id, "cpp-example", "Name sent in SubscribeInit");
ABSL_FLAG(int64_t, max_events, 0, "Exit 0 after printing this many events; 0 runs until stopped");

namespace {

namespace v1 = refir::bridge::v1;
using google::protobuf::util::TimeUtil;

constexpr std::chrono::milliseconds kInitialBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

// Parses --start. Returns nullopt (after printing why) when it is invalid.
std::optional<v1::StartPosition> ParseStart(const std::string& text) {
  v1::StartPosition start;
  if (text == "earliest") {
    start.mutable_earliest();
    return start;
  }
  if (text == "latest") {
    start.mutable_latest();
    return start;
  }
  uint64_t sequence = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, sequence);
  if (!text.empty() && ec == std::errc() && ptr == end) {
    start.set_sequence(sequence);
    return start;
  }
  if (TimeUtil::FromString(text, start.mutable_time())) return start;
  std::cerr << "invalid --start=" << text
            << ": want earliest, latest, a sequence number or an RFC3339 time\n";
  return std::nullopt;
}

// True when `value` can be printed without quotes.
bool IsBare(std::string_view value) {
  if (value.empty()) return false;
  return std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == ':' || c == '@' || c == '+' || c == '/';
  });
}

// Appends `value` in double quotes with backslash escapes, so that it stays on
// one line. Bytes >= 0x80 (UTF-8) pass through unchanged.
void AppendQuoted(std::string_view value, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          out->append("\\x");
          out->push_back(kHex[byte >> 4]);
          out->push_back(kHex[byte & 0xf]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Appends " key=value", quoting the value unless `always_quote` is false and
// it is made of safe characters only.
void AppendField(std::string_view key, std::string_view value, bool always_quote,
                 std::string* out) {
  out->push_back(' ');
  out->append(key);
  out->push_back('=');
  if (!always_quote && IsBare(value)) {
    out->append(value);
  } else {
    AppendQuoted(value, out);
  }
}

std::string FormatEvent(const v1::Event& event) {
  const v1::RefirPayload& refir = event.refir();
  std::string line = "event sequence=" + std::to_string(event.sequence());
  AppendField("id", event.id(), false, &line);
  AppendField("type", event.type(), false, &line);
  AppendField("source", event.source(), false, &line);
  AppendField("received_at", TimeUtil::ToString(event.received_at()), false, &line);
  AppendField("lead.id", refir.lead().id(), false, &line);
  AppendField("lead.email", refir.lead().email(), false, &line);
  AppendField("lead.name", refir.lead().name(), true, &line);
  AppendField("referrer.id", refir.referrer().id(), false, &line);
  AppendField("referrer.email", refir.referrer().email(), false, &line);
  AppendField("message", refir.message(), true, &line);
  AppendField("campaign.id", refir.campaign().id(), false, &line);
  AppendField("body", event.body(), true, &line);
  return line;
}

std::string FormatConfirm(const v1::SubscribeConfirm& confirm) {
  std::string line = "confirm";
  AppendField("client_id", confirm.client_id(), false, &line);
  line += " start_sequence=" + std::to_string(confirm.start_sequence());
  line += " head_sequence=" + std::to_string(confirm.head_sequence());
  line += " max_batch=" + std::to_string(confirm.max_batch());
  return line;
}

void PrintLine(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// Shared between the main loop and the signal thread: the context of the
// stream in progress (to cancel it) and the stop flag (to end the backoff).
class StopState {
 public:
  // Registers the context of a new stream; false if a stop was requested.
  bool SetContext(grpc::ClientContext* context) {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = context;
    return !stopped_;
  }
  void ClearContext() {
    std::lock_guard<std::mutex> lock(mu_);
    context_ = nullptr;
  }
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    if (context_ != nullptr) context_->TryCancel();
    cv_.notify_all();
  }
  bool stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }
  // Sleeps for `delay` or until Stop(); returns true if stopped.
  bool SleepFor(std::chrono::milliseconds delay) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, delay, [this] { return stopped_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  grpc::ClientContext* context_ = nullptr;
  bool stopped_ = false;
};

enum class StreamEnd { kDone, kReconnect, kFailed };

class Subscriber {
 public:
  Subscriber(std::shared_ptr<grpc::Channel> channel, v1::StartPosition start, StopState* stop)
      : stub_(v1::EventStream::NewStub(std::move(channel))),
        initial_start_(std::move(start)),
        stop_(stop) {}

  // Subscribes, reconnecting on UNAVAILABLE (and server-side CANCELLED). Returns the process exit
  // code.
  int Run() {
    std::chrono::milliseconds backoff = kInitialBackoff;
    while (true) {
      bool confirmed = false;
      const StreamEnd end = RunStream(&confirmed);
      if (end == StreamEnd::kDone) return 0;
      if (end == StreamEnd::kFailed) return 1;
      if (confirmed) backoff = kInitialBackoff;
      std::cerr << "reconnecting in " << backoff.count() << " ms\n";
      if (stop_->SleepFor(backoff)) return 0;
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

 private:
  // One Subscribe stream, from open to end.
  StreamEnd RunStream(bool* confirmed) {
    grpc::ClientContext context;
    if (!stop_->SetContext(&context)) return StreamEnd::kDone;
    std::unique_ptr<grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>> stream =
        stub_->Subscribe(&context);

    v1::SubscribeRequest request;
    v1::SubscribeInit* init = request.mutable_init();
    init->set_client_id(absl::GetFlag(FLAGS_client_id));
    init->set_max_batch(absl::GetFlag(FLAGS_max_batch));
    // After the first confirm, resume where this process left off so that no
    // event is printed twice or skipped.
    if (next_sequence_ > 0) {
      init->mutable_start()->set_sequence(next_sequence_);
    } else {
      *init->mutable_start() = initial_start_;
    }
    // A failed write means the stream is already broken: Finish() says why.
    if (stream->Write(request)) stream->WritesDone();

    const int64_t max_events = absl::GetFlag(FLAGS_max_events);
    bool done = false;
    v1::SubscribeResponse response;
    while (!done && stream->Read(&response)) {
      switch (response.kind_case()) {
        case v1::SubscribeResponse::kConfirm:
          *confirmed = true;
          if (next_sequence_ == 0) next_sequence_ = response.confirm().start_sequence();
          PrintLine(FormatConfirm(response.confirm()));
          break;
        case v1::SubscribeResponse::kBatch:
          for (const v1::Delivery& delivery : response.batch().deliveries()) {
            const v1::Event& event = delivery.event();
            if (event.sequence() < next_sequence_) continue;  // Never print twice.
            PrintLine(FormatEvent(event));
            next_sequence_ = event.sequence() + 1;
            if (max_events > 0 && ++printed_ >= max_events) {
              done = true;
              break;
            }
          }
          break;
        default:
          break;  // A kind this version does not know: ignore it.
      }
    }
    if (done) context.TryCancel();
    const grpc::Status status = stream->Finish();
    stop_->ClearContext();

    if (done || stop_->stopped()) return StreamEnd::kDone;
    // UNAVAILABLE: the bridge is down or shutting down. CANCELLED that this
    // process did not ask for: the bridge's gRPC server cancels calls that
    // arrive while it is still shutting down, so a resubscribe made during a
    // restart can end that way. Both are worth retrying.
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
        status.error_code() == grpc::StatusCode::CANCELLED) {
      std::cerr << "stream ended: code " << static_cast<int>(status.error_code()) << ": "
                << status.error_message() << "\n";
      return StreamEnd::kReconnect;
    }
    if (status.ok()) {
      std::cerr << "the bridge closed the stream without an error\n";
    } else {
      std::cerr << "subscribe failed: code " << static_cast<int>(status.error_code()) << ": "
                << status.error_message() << "\n";
    }
    return StreamEnd::kFailed;
  }

  std::unique_ptr<v1::EventStream::Stub> stub_;
  const v1::StartPosition initial_start_;
  StopState* stop_;
  uint64_t next_sequence_ = 0;  // 0 until the first confirm.
  int64_t printed_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Prints the events of a refir-bridge, one line each.");
  absl::ParseCommandLine(argc, argv);
  const std::optional<v1::StartPosition> start = ParseStart(absl::GetFlag(FLAGS_start));
  if (!start.has_value()) return 2;

  // Block SIGINT and SIGTERM before gRPC starts any thread, so that every
  // thread inherits the mask and only the sigwait thread below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (int rc = pthread_sigmask(SIG_BLOCK, &signals, nullptr); rc != 0) {
    std::cerr << "pthread_sigmask failed: " << rc << "\n";
    return 1;
  }
  StopState stop;
  std::mutex exit_mu;
  bool exiting = false;
  std::thread signal_thread([&] {
    while (true) {
      int signal_number = 0;
      if (sigwait(&signals, &signal_number) != 0) continue;
      std::lock_guard<std::mutex> lock(exit_mu);
      if (exiting) return;  // Woken by main() to end this thread.
      stop.Stop();
    }
  });

  // Let the channel retry connections on the same schedule as our resubscribe
  // loop; the default reconnect backoff grows to two minutes.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, static_cast<int>(kInitialBackoff.count()));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(kInitialBackoff.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(kMaxBackoff.count()));
  Subscriber subscriber(grpc::CreateCustomChannel(absl::GetFlag(FLAGS_target),
                                                  grpc::InsecureChannelCredentials(), args),
                        *start, &stop);
  const int exit_code = subscriber.Run();

  {
    std::lock_guard<std::mutex> lock(exit_mu);
    exiting = true;
  }
  if (int rc = pthread_kill(signal_thread.native_handle(), SIGTERM); rc != 0) {
    std::cerr << "pthread_kill failed: " << rc << "\n";
    signal_thread.detach();
    return exit_code;
  }
  signal_thread.join();
  return exit_code;
}
