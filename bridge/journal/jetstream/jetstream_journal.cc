#include "bridge/journal/jetstream/jetstream_journal.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bridge/common/error_reason.h"
#include "bridge/common/log.h"
#include "bridge/common/proto_time.h"
#include "bridge/common/proto_wire.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/jetstream/end_subscription.h"
#include "bridge/journal/jetstream/jetstream_follower.h"
#include "bridge/journal/jetstream/jetstream_publisher.h"
#include "bridge/journal/jetstream/js_options.h"
#include "bridge/journal/jetstream/nats_handles.h"
#include "bridge/journal/jetstream/nats_status.h"
#include "bridge/journal/jetstream/startup_retry.h"

namespace refir::bridge {
namespace {

using jetstream::JetStreamFollower;
using jetstream::JetStreamPublisher;
using jetstream::NatsConnection;

constexpr int kEventTypeField = 4;
// Reads of at least this many stored events stream them through an ordered
// consumer; shorter ones ask for each by sequence.
constexpr uint64_t kStreamedReadMinimum = 16;

// Nats-Msg-Id of a dedup key: the key itself when it is short printable
// ASCII (readable in the nats CLI), otherwise "sha256:" and its digest, so
// no header value holds a line break or grows without bound.
absl::StatusOr<std::string> MsgIdFor(const std::string& key) {
  if (key.empty()) return std::string();
  const bool plain =
      key.size() <= 200 &&
      std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x21 && c <= 0x7e; }) &&
      key.rfind("sha256:", 0) != 0;
  if (plain) return key;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(key.data(), key.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("SHA-256 of a dedup key failed");
  }
  return absl::StrCat("sha256:", absl::BytesToHexString(absl::string_view(
                                     reinterpret_cast<const char*>(digest), digest_size)));
}

class JetStreamJournal final : public Journal {
 public:
  explicit JetStreamJournal(const JetStreamJournalOptions& options)
      : options_(options), recent_(options.recent_events_bytes) {}

  ~JetStreamJournal() override { Close(); }

  absl::Status Open() {
    REFIR_ASSIGN_OR_RETURN(connection_, NatsConnection::Connect(options_.connection));
    jsCtx* js = nullptr;
    jsOptions js_options = jetstream::JsOptionsWithTimeout(options_.timeout);
    REFIR_RETURN_IF_ERROR(jetstream::NatsStatus(
        natsConnection_JetStream(&js, connection_->get(), &js_options), "JetStream context"));
    js_.reset(js);
    REFIR_ASSIGN_OR_RETURN(jetstream::StreamState state,
                           jetstream::RetryWhileUnavailable(
                               options_.startup_wait, {"stream", options_.stream.name}, [this] {
                                 return jetstream::EnsureStream(js_.get(), options_.stream);
                               }));
    head_.store(state.last_sequence);
    followed_.store(state.last_sequence);
    recent_.CoverAfter(state.last_sequence);

    jetstream::PublisherOptions publisher_options;
    publisher_options.stream = options_.stream.name;
    publisher_options.timeout = options_.timeout;
    publisher_options.max_pending = options_.max_pending;
    REFIR_ASSIGN_OR_RETURN(
        publisher_, JetStreamPublisher::Create(connection_->get(), publisher_options,
                                               [this](uint64_t sequence) { RaiseHead(sequence); }));
    REFIR_ASSIGN_OR_RETURN(
        follower_,
        JetStreamFollower::Start(
            connection_->get(), options_.stream.name, options_.stream.subject_prefix,
            state.last_sequence + 1, jetstream::FollowerLimits(),
            [this](uint64_t sequence, absl::string_view bytes) { OnFollowed(sequence, bytes); }));
    LogInfo("JetStream journal open", {{"stream", options_.stream.name},
                                       {"head", state.last_sequence},
                                       {"first", state.first_sequence},
                                       {"replicas", options_.stream.replicas}});
    return absl::OkStatus();
  }

  absl::StatusOr<AppendResult> Append(v1::Event event, DedupKey dedup) override {
    const absl::Time start = absl::Now();
    if (event.id().empty()) return absl::InvalidArgumentError("event.id must be set");
    if (!event.has_received_at()) *event.mutable_received_at() = ToProtoTimestamp(start);
    event.clear_sequence();
    std::string bytes;
    if (!event.SerializeToString(&bytes)) {
      return absl::InternalError("the event does not serialize");
    }
    REFIR_ASSIGN_OR_RETURN(const std::string msg_id, MsgIdFor(dedup.key));
    REFIR_ASSIGN_OR_RETURN(
        jetstream::Published published,
        publisher_->Publish(jetstream::EventSubject(options_.stream.subject_prefix, event.type()),
                            msg_id, bytes));
    AppendResult result;
    result.sequence = published.sequence;
    result.duplicate = published.duplicate;
    result.id = event.id();
    if (published.duplicate) {
      // The PubAck names the original's sequence; its id is in its bytes.
      absl::StatusOr<v1::Event> original = GetBySequence(published.sequence);
      if (original.ok()) {
        result.id = original->id();
      } else if (!absl::IsNotFound(original.status())) {
        return ErrorWithReason(
            absl::StatusCode::kUnavailable, kJournalUnavailableReason,
            absl::StrCat("reading the original of a duplicate: ", original.status().message()));
      }
    }
    if (options_.metrics != nullptr) options_.metrics->RecordAppend(absl::Now() - start);
    return result;
  }

  absl::StatusOr<std::vector<v1::Event>> Read(uint64_t from_sequence, size_t max_events,
                                              size_t max_bytes) override {
    std::vector<v1::Event> events;
    size_t bytes = 0;
    absl::Status parse_error;
    REFIR_RETURN_IF_ERROR(VisitStored(from_sequence, max_events, [&](const StoredEventView& view) {
      if (!events.empty() && bytes + view.bytes.size() > max_bytes) return false;
      v1::Event event;
      if (!event.ParseFromArray(view.bytes.data(), static_cast<int>(view.bytes.size()))) {
        parse_error = absl::DataLossError(
            absl::StrCat("stored event at sequence ", view.sequence, " does not parse"));
        return false;
      }
      event.set_sequence(view.sequence);
      bytes += view.bytes.size();
      events.push_back(std::move(event));
      return true;
    }));
    REFIR_RETURN_IF_ERROR(parse_error);
    return events;
  }

  absl::Status VisitStored(uint64_t from_sequence, size_t max_events,
                           StoredEventVisitor visit) override {
    if (max_events == 0) return absl::OkStatus();
    from_sequence = std::max<uint64_t>(from_sequence, 1);
    const uint64_t followed = followed_.load(std::memory_order_acquire);
    // The cache holds every event up to `followed` from where it covers;
    // the rest (appended here but not followed yet) is read from the stream.
    if (from_sequence <= followed) {
      const size_t in_cache =
          static_cast<size_t>(std::min<uint64_t>(max_events, followed - from_sequence + 1));
      size_t visited = 0;
      bool stopped = false;
      const bool covered = recent_.Visit(from_sequence, in_cache, [&](const StoredEventView& view) {
        if (!visit(view)) {
          stopped = true;
          return false;
        }
        ++visited;
        return true;
      });
      if (covered) {
        if (stopped || visited < in_cache || visited == max_events) return absl::OkStatus();
        from_sequence = followed + 1;
        max_events -= visited;
      }
    }
    return VisitFromStream(from_sequence, max_events, visit);
  }

  // VisitStored from the stream itself.
  absl::Status VisitFromStream(uint64_t from_sequence, size_t max_events,
                               StoredEventVisitor visit) {
    const uint64_t head = head_.load(std::memory_order_acquire);
    if (from_sequence > head) return absl::OkStatus();
    if (head - from_sequence + 1 >= kStreamedReadMinimum && max_events >= kStreamedReadMinimum) {
      return VisitStreamed(from_sequence, head, max_events, visit);
    }
    uint64_t sequence = from_sequence;
    size_t visited = 0;
    while (sequence <= head && visited < max_events) {
      absl::StatusOr<jetstream::NatsMsgPtr> msg = GetStored(sequence);
      if (absl::IsNotFound(msg.status())) {
        // Deleted by the stream's limits: continue from its first event.
        REFIR_ASSIGN_OR_RETURN(const uint64_t first, FirstSequence());
        sequence = std::max(sequence + 1, first);
        continue;
      }
      REFIR_RETURN_IF_ERROR(msg.status());
      const absl::string_view data = DataOf(msg->get());
      const absl::string_view type = wire::FindLengthDelimitedField(data, kEventTypeField);
      if (!visit(StoredEventView{sequence, type, data})) break;
      ++visited;
      ++sequence;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<v1::Event> GetBySequence(uint64_t sequence) override {
    REFIR_ASSIGN_OR_RETURN(jetstream::NatsMsgPtr msg, GetStored(sequence));
    const absl::string_view data = DataOf(msg.get());
    v1::Event event;
    if (!event.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
      return absl::DataLossError(
          absl::StrCat("stored event at sequence ", sequence, " does not parse"));
    }
    event.set_sequence(sequence);
    return event;
  }

  absl::StatusOr<v1::Event> GetById(absl::string_view /*id*/) override {
    return absl::UnimplementedError(
        "events cannot be looked up by id on the JetStream journal; use their sequence");
  }

  absl::StatusOr<uint64_t> FirstSequenceAtOrAfter(absl::Time time) override {
    // Binary search on received_at, which grows with the sequence (up to
    // the clock differences between replicas).
    REFIR_ASSIGN_OR_RETURN(uint64_t low, FirstSequence());
    uint64_t high = head_.load(std::memory_order_acquire) + 1;
    while (low < high) {
      const uint64_t middle = low + (high - low) / 2;
      absl::StatusOr<v1::Event> event = GetBySequence(middle);
      if (absl::IsNotFound(event.status())) {
        low = middle + 1;  // deleted meanwhile: older than anything left
        continue;
      }
      REFIR_RETURN_IF_ERROR(event.status());
      if (FromProtoTimestamp(event->received_at()) < time) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }

  absl::StatusOr<uint64_t> FirstSequence() override {
    REFIR_ASSIGN_OR_RETURN(jetstream::StreamState state, StreamState());
    return state.first_sequence;
  }

  absl::StatusOr<DeleteResult> DeleteOldest(const DeleteRequest& /*request*/) override {
    // The stream's MaxAge and MaxBytes delete old events (see the header).
    return DeleteResult{};
  }

  absl::StatusOr<uint64_t> StoredBytes() override {
    REFIR_ASSIGN_OR_RETURN(jetstream::StreamState state, StreamState());
    return state.bytes;
  }

  uint64_t HeadSequence() const override { return head_.load(std::memory_order_acquire); }

  bool Writable() const override {
    return !closed_.load() && connection_ != nullptr && connection_->connected() &&
           publisher_ != nullptr && publisher_->healthy();
  }

  void AddAppendListener(AppendListener listener) override {
    absl::MutexLock lock(&listeners_mu_);
    listeners_.push_back(std::move(listener));
  }

  void Close() override {
    if (closed_.exchange(true)) return;
    if (publisher_ != nullptr) publisher_->Close();
    if (follower_ != nullptr) follower_->Stop();
    if (connection_ != nullptr) connection_->Close();
  }

 private:
  static absl::string_view DataOf(natsMsg* msg) {
    const char* data = natsMsg_GetData(msg);
    const int length = natsMsg_GetDataLength(msg);
    if (data == nullptr || length <= 0) return absl::string_view();
    return absl::string_view(data, static_cast<size_t>(length));
  }

  // Visits the stored events from `from` up to `last` (at most
  // `max_events`) through an ephemeral ordered consumer: one request to
  // create it, then the events stream in, instead of one request per event
  // (what a catch-up reads). Events deleted by the stream's limits are
  // skipped, as the consumer does. Unlike the follower, this read cannot
  // skip an event silently when cnats drops one at its pending limits: the
  // read after a drop answers NATS_SLOW_CONSUMER before any later message
  // (cnats 3.4.1 src/sub.c), which ends this read with an error after what
  // was visited, and the caller's next read starts after the last visited
  // event on a new consumer.
  absl::Status VisitStreamed(uint64_t from, uint64_t last, size_t max_events,
                             StoredEventVisitor visit) {
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = options_.stream.name.c_str();
    options.Ordered = true;
    options.Config.DeliverPolicy = js_DeliverByStartSequence;
    options.Config.OptStartSeq = from;
    jsOptions js_options = jetstream::JsOptionsWithTimeout(options_.timeout);
    const std::string subject = absl::StrCat(options_.stream.subject_prefix, ".>");
    natsSubscription* raw = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    const natsStatus status =
        js_SubscribeSync(&raw, js_.get(), subject.c_str(), &js_options, &options, &js_error);
    jetstream::NatsSubscriptionPtr subscription(raw);
    REFIR_RETURN_IF_ERROR(jetstream::NatsStatus(
        status, absl::StrCat("reading JetStream stream ", options_.stream.name), js_error));
    absl::Status result;
    // The consumer's name, as the events carry it, to delete it once read.
    std::string consumer;
    for (size_t visited = 0; visited < max_events;) {
      natsMsg* next = nullptr;
      const natsStatus got = natsSubscription_NextMsg(&next, subscription.get(),
                                                      absl::ToInt64Milliseconds(options_.timeout));
      jetstream::NatsMsgPtr msg(next);
      if (got != NATS_OK) {
        result = jetstream::NatsStatus(
            got, absl::StrCat("reading JetStream stream ", options_.stream.name, " from ", from));
        break;
      }
      jsMsgMetaData* raw_meta = nullptr;
      if (natsMsg_GetMetaData(&raw_meta, msg.get()) != NATS_OK) continue;  // not an event
      jetstream::JsMsgMetaDataPtr meta(raw_meta);
      if (meta->Consumer != nullptr && consumer != meta->Consumer) consumer = meta->Consumer;
      const uint64_t sequence = meta->Sequence.Stream;
      if (sequence > last) break;
      const absl::string_view data = DataOf(msg.get());
      const absl::string_view type = wire::FindLengthDelimitedField(data, kEventTypeField);
      if (!visit(StoredEventView{sequence, type, data})) break;
      ++visited;
      if (sequence == last) break;
    }
    // Deleting the consumer here, by the name its events carry, keeps
    // catch-up reads from leaving one behind on the server for 5 s each.
    jetstream::EndSubscription(connection_->get(), js_.get(), options_.stream.name,
                               std::move(subscription), consumer, options_.timeout);
    return result;
  }

  absl::StatusOr<jetstream::NatsMsgPtr> GetStored(uint64_t sequence) {
    jsOptions js_options = jetstream::JsOptionsWithTimeout(options_.timeout);
    natsMsg* raw = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    const natsStatus status =
        js_GetMsg(&raw, js_.get(), options_.stream.name.c_str(), sequence, &js_options, &js_error);
    jetstream::NatsMsgPtr msg(raw);
    if (status == NATS_NOT_FOUND || js_error == JSNoMessageFoundErr) {
      return absl::NotFoundError(absl::StrCat("no event at sequence ", sequence));
    }
    REFIR_RETURN_IF_ERROR(jetstream::NatsStatus(
        status,
        absl::StrCat("reading sequence ", sequence, " of JetStream stream ", options_.stream.name),
        js_error));
    return msg;
  }

  absl::StatusOr<jetstream::StreamState> StreamState() {
    return jetstream::GetStreamState(js_.get(), options_.stream.name, options_.timeout);
  }

  // Runs on the follower's thread, in sequence order (gaps only where the
  // stream holds no event).
  void OnFollowed(uint64_t sequence, absl::string_view bytes) {
    std::vector<RecentEvents::Entry> entries(1);
    entries[0].sequence = sequence;
    entries[0].type = std::string(wire::FindLengthDelimitedField(bytes, kEventTypeField));
    entries[0].bytes = std::string(bytes);
    recent_.AddCommitted(std::move(entries));
    followed_.store(sequence, std::memory_order_release);
    RaiseHead(sequence);
  }

  // Raises the head to `sequence` when it is higher and tells the listeners
  // (one at a time, so they see the head only rise). Returns once they have
  // heard of `sequence` or a later head, even when another thread (the
  // follower, a publish ack) raised the head first and may not have told
  // them yet: an Append returns only after its listeners were told.
  void RaiseHead(uint64_t sequence) {
    uint64_t head = head_.load(std::memory_order_acquire);
    while (head < sequence &&
           !head_.compare_exchange_weak(head, sequence, std::memory_order_acq_rel)) {
    }
    absl::MutexLock lock(&listeners_mu_);
    const uint64_t now = head_.load(std::memory_order_acquire);
    if (now <= announced_) return;
    announced_ = now;
    for (const AppendListener& listener : listeners_) listener(now);
  }

  const JetStreamJournalOptions options_;
  RecentEvents recent_;
  std::unique_ptr<NatsConnection> connection_;
  jetstream::JsContextPtr js_;
  std::unique_ptr<JetStreamPublisher> publisher_;
  std::unique_ptr<JetStreamFollower> follower_;

  std::atomic<bool> closed_{false};
  // The highest sequence known stored (PubAck'd here or followed).
  std::atomic<uint64_t> head_{0};
  // The highest sequence the follower put in `recent_`.
  std::atomic<uint64_t> followed_{0};

  absl::Mutex listeners_mu_;
  std::vector<AppendListener> listeners_ ABSL_GUARDED_BY(listeners_mu_);
  uint64_t announced_ ABSL_GUARDED_BY(listeners_mu_) = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Journal>> OpenJetStreamJournal(
    const JetStreamJournalOptions& options) {
  auto journal = std::make_unique<JetStreamJournal>(options);
  REFIR_RETURN_IF_ERROR(journal->Open());
  return journal;
}

}  // namespace refir::bridge
