// refir_subscriber: an example consumer-group subscriber of refir-bridge.
// Joins a durable consumer group with EventStream.Subscribe, prints each
// delivered event, "handles" it, and acks it (or nacks it for a retry).
// Reconnects with backoff when the bridge restarts. See README.md.
#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "gRPC address of the bridge (host:port)");
ABSL_FLAG(std::string, group, "cpp-example", "Consumer group to join");
ABSL_FLAG(std::string, client_id, "cpp-example", "Name of this consumer, sent in SubscribeInit");
ABSL_FLAG(std::string, start, "earliest",
          "Where a new group starts: earliest or latest (ignored when the group exists)");
ABSL_FLAG(int64_t, max_events, 0, "Exit 0 once this many distinct sequences were acked; 0: never");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA certificate(s) to trust; when set, connect with TLS (else plaintext)");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM client certificate, for a bridge that requires mutual TLS (with --tls_key_file)");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file");
ABSL_FLAG(std::string, token_file, "",
          "File holding the bearer token (surrounding whitespace ignored); when not set, the "
          "token is taken from $REFIR_SUBSCRIBER_TOKEN, if set. Never pass a token as a flag");
ABSL_FLAG(std::vector<std::string>, fail_sequences, {},
          "Comma-separated sequences whose first delivery fails (and is nacked for a retry)");

namespace {

namespace v1 = refir::bridge::v1;
using Stream = grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>;

constexpr std::chrono::milliseconds kInitialBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

void PrintLine(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// `text` as a JSON string literal (ASCII escapes; other bytes as they are).
std::string JsonQuote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string EventLine(const v1::Delivery& delivery) {
  const v1::Event& event = delivery.event();
  return "event sequence=" + std::to_string(event.sequence()) + " id=" + event.id() +
         " type=" + event.type() + " attempt=" + std::to_string(delivery.delivery_attempt()) +
         " lead.email=" + event.refir().lead().email() +
         " referrer.email=" + event.refir().referrer().email() +
         " message=" + JsonQuote(event.refir().message()) + " body=" + JsonQuote(event.body());
}

std::string StatusText(const grpc::Status& status) {
  // Indexed by grpc::StatusCode.
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int code = static_cast<int>(status.error_code());
  const std::string name = code >= 0 && code <= 16 ? kNames[code] : std::to_string(code);
  return name + ": " + status.error_message();
}

// Shared by the main loop and the signal thread: the stream in progress (to
// cancel it) and whether a stop was asked for (to end a backoff wait).
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
  // Waits for `delay` or until Stop(); true if stopped.
  bool WaitFor(std::chrono::milliseconds delay) {
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

// How to reach the bridge: channel credentials and the bearer token, if any.
struct Connection {
  std::string target;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string token;  // Sent as "authorization: Bearer <token>" when not empty.
};

// The whole of `path` into `contents`; false with a message on stderr.
bool ReadFile(const std::string& flag, const std::string& path, std::string* contents) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in) {
    std::cerr << "cannot read --" << flag << "=" << path << "\n";
    return false;
  }
  *contents = buffer.str();
  return true;
}

// Builds the connection from the flags; false with a message on stderr.
bool MakeConnection(Connection* connection) {
  connection->target = absl::GetFlag(FLAGS_target);
  const std::string ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  const std::string cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key_file = absl::GetFlag(FLAGS_tls_key_file);
  if (cert_file.empty() != key_file.empty() || (!cert_file.empty() && ca_file.empty())) {
    std::cerr << "--tls_cert_file and --tls_key_file go together, and need --tls_ca_file\n";
    return false;
  }
  if (ca_file.empty()) {
    connection->credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions tls;
    if (!ReadFile("tls_ca_file", ca_file, &tls.pem_root_certs)) return false;
    if (!cert_file.empty() && (!ReadFile("tls_cert_file", cert_file, &tls.pem_cert_chain) ||
                               !ReadFile("tls_key_file", key_file, &tls.pem_private_key))) {
      return false;
    }
    connection->credentials = grpc::SslCredentials(tls);
  }
  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  if (!token_file.empty()) {
    if (!ReadFile("token_file", token_file, &connection->token)) return false;
  } else if (const char* token = std::getenv("REFIR_SUBSCRIBER_TOKEN"); token != nullptr) {
    connection->token = token;
  }
  connection->token = std::string(absl::StripAsciiWhitespace(connection->token));
  if (!token_file.empty() && connection->token.empty()) {
    std::cerr << "--token_file=" << token_file << " is empty\n";
    return false;
  }
  return true;
}

class Subscriber {
 public:
  Subscriber(Connection connection, std::set<uint64_t> fail_sequences, StopState* stop)
      : connection_(std::move(connection)),
        fail_sequences_(std::move(fail_sequences)),
        stop_(stop) {}

  // Subscribes until done, reconnecting when the bridge goes away. Returns the
  // process exit code.
  int Run() {
    std::chrono::milliseconds backoff = kInitialBackoff;
    while (true) {
      bool confirmed = false;
      grpc::Status status;
      const StreamEnd end = RunStream(&confirmed, &status);
      if (end == StreamEnd::kDone) return 0;
      if (end == StreamEnd::kFailed) {
        std::cerr << "subscribe failed: " << StatusText(status) << "\n";
        return 1;
      }
      if (confirmed) backoff = kInitialBackoff;
      PrintLine("reconnecting in " + std::to_string(backoff.count()) +
                " ms: " + StatusText(status));
      if (stop_->WaitFor(backoff)) return 0;
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

 private:
  // One Subscribe stream, from open to end.
  StreamEnd RunStream(bool* confirmed, grpc::Status* status) {
    grpc::ClientContext context;
    if (!connection_.token.empty()) {
      context.AddMetadata("authorization", "Bearer " + connection_.token);
    }
    if (!stop_->SetContext(&context)) return StreamEnd::kDone;
    // A new channel for each stream, so that each attempt really connects: a
    // channel whose connection failed fails new calls at once until its own
    // reconnect backoff has passed. (Not shared with other channels' pool.)
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // Keepalive pings every 30 s: the bridge accepts them no more often than
    // every 10 s (see docs/clients.md).
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    std::unique_ptr<v1::EventStream::Stub> stub = v1::EventStream::NewStub(
        grpc::CreateCustomChannel(connection_.target, connection_.credentials, args));
    std::unique_ptr<Stream> stream = stub->Subscribe(&context);

    v1::SubscribeRequest request;
    v1::SubscribeInit* init = request.mutable_init();
    init->set_consumer_group(absl::GetFlag(FLAGS_group));
    init->set_client_id(absl::GetFlag(FLAGS_client_id));
    if (absl::GetFlag(FLAGS_start) == "latest") {
      init->mutable_start()->mutable_latest();
    } else {
      init->mutable_start()->mutable_earliest();
    }
    init->set_max_outstanding(100);
    init->set_ack_deadline_seconds(30);

    // Settle messages written and SettleResults read on this stream: once
    // done, the stream is kept open until the bridge confirmed every settle.
    int settles_sent = 0;
    int settles_confirmed = 0;
    bool done = false;
    bool writable = stream->Write(request);
    v1::SubscribeResponse response;
    while (writable && !(done && settles_confirmed == settles_sent) && stream->Read(&response)) {
      switch (response.kind_case()) {
        case v1::SubscribeResponse::kConfirm:
          *confirmed = true;
          PrintLine("ready group=" + response.confirm().consumer_group() +
                    " client_id=" + response.confirm().client_id());
          break;
        case v1::SubscribeResponse::kBatch:
          for (const v1::Delivery& delivery : response.batch().deliveries()) {
            if (done) break;  // The rest is redelivered to the group.
            if (!(writable = Process(delivery, stream.get()))) break;
            ++settles_sent;
            done = max_events_ > 0 && static_cast<int64_t>(acked_.size()) >= max_events_;
          }
          break;
        case v1::SubscribeResponse::kSettled:
          ++settles_confirmed;
          break;
        default:
          break;  // Heartbeats, and kinds this version does not know.
      }
    }
    if (done) {
      context.TryCancel();  // The bridge keeps a stream open until its client ends it.
    } else if (!writable) {
      // A failed write means the call ended: read up to its status.
      while (stream->Read(&response)) continue;
    }
    *status = stream->Finish();
    stop_->ClearContext();

    if (done || stop_->stopped()) return StreamEnd::kDone;
    // UNAVAILABLE: the bridge shut down, or cannot be reached. CANCELLED that
    // this process did not ask for: the bridge's gRPC server cancels calls
    // that arrive while it is shutting down. Both are worth retrying.
    if (status->error_code() == grpc::StatusCode::UNAVAILABLE ||
        status->error_code() == grpc::StatusCode::CANCELLED) {
      return StreamEnd::kReconnect;
    }
    return StreamEnd::kFailed;
  }

  // Prints the event, runs the handler, then acks or nacks the delivery.
  // False when the stream can no longer be written to.
  bool Process(const v1::Delivery& delivery, Stream* stream) {
    const uint64_t sequence = delivery.event().sequence();
    PrintLine(EventLine(delivery));
    v1::SubscribeRequest request;
    v1::Settle* settle = request.mutable_settle();
    if (Handle(delivery)) {
      settle->add_ack_ids(delivery.ack_id());
      if (!stream->Write(request)) return false;
      acked_.insert(sequence);
      PrintLine("ack sequence=" + std::to_string(sequence));
    } else {
      v1::Nack* nack = settle->add_nacks();
      nack->set_ack_id(delivery.ack_id());
      nack->set_action(v1::Nack::RETRY);
      nack->set_reason("handler failed");
      if (!stream->Write(request)) return false;
      PrintLine("nack sequence=" + std::to_string(sequence));
    }
    return true;
  }

  // The handler: a real one would do its side effect here (idempotently,
  // keyed on event.id). This one fails the first delivery of
  // --fail_sequences.
  bool Handle(const v1::Delivery& delivery) const {
    return !(delivery.delivery_attempt() == 1 &&
             fail_sequences_.count(delivery.event().sequence()) > 0);
  }

  const Connection connection_;
  const std::set<uint64_t> fail_sequences_;
  const int64_t max_events_ = absl::GetFlag(FLAGS_max_events);
  StopState* stop_;
  std::set<uint64_t> acked_;  // Distinct sequences acked, for --max_events.
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Joins a refir-bridge consumer group and acks its events.");
  absl::ParseCommandLine(argc, argv);
  const std::string start = absl::GetFlag(FLAGS_start);
  if (start != "earliest" && start != "latest") {
    std::cerr << "invalid --start=" << start << ": want earliest or latest\n";
    return 2;
  }
  std::set<uint64_t> fail_sequences;
  for (const std::string& text : absl::GetFlag(FLAGS_fail_sequences)) {
    uint64_t sequence = 0;
    if (!absl::SimpleAtoi(text, &sequence)) {
      std::cerr << "invalid --fail_sequences entry: " << text << "\n";
      return 2;
    }
    fail_sequences.insert(sequence);
  }

  // Block SIGINT and SIGTERM before gRPC starts any thread, so that every
  // thread inherits the mask and only the sigwait thread below takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (int rc = pthread_sigmask(SIG_BLOCK, &signals, nullptr); rc != 0) {
    std::cerr << "pthread_sigmask failed: " << rc << "\n";
    return 1;
  }
  // Credentials start gRPC (and its threads): only now that signals are blocked.
  Connection connection;
  if (!MakeConnection(&connection)) return 2;
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

  Subscriber subscriber(std::move(connection), std::move(fail_sequences), &stop);
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
