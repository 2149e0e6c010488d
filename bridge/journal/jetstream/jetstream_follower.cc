#include "bridge/journal/jetstream/jetstream_follower.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/jetstream/end_subscription.h"
#include "bridge/journal/jetstream/nats_status.h"

namespace refir::bridge::jetstream {
namespace {

// How long one read waits before the follower looks at its state again:
// also how long Stop() may wait for a read under way to end (it cannot end
// one by unsubscribing; see end_subscription.h).
constexpr int64_t kReadWaitMillis = 100;
constexpr absl::Duration kFirstRetryWait = absl::Milliseconds(100);
constexpr absl::Duration kLastRetryWait = absl::Seconds(5);
// How long ending a subscription waits for the server (end_subscription.h).
constexpr absl::Duration kEndWait = absl::Seconds(2);

// Messages cnats dropped on `subscription` (0 once it is closed).
int64_t DroppedOn(natsSubscription* subscription) {
  int64_t dropped = 0;
  if (subscription == nullptr || natsSubscription_GetDropped(subscription, &dropped) != NATS_OK) {
    return 0;
  }
  return dropped;
}

}  // namespace

JetStreamFollower::JetStreamFollower(natsConnection* connection, std::string stream,
                                     std::string subject_prefix, FollowerLimits limits,
                                     EventCallback on_event)
    : connection_(connection),
      stream_(std::move(stream)),
      subject_prefix_(std::move(subject_prefix)),
      limits_(limits),
      on_event_(std::move(on_event)) {}

absl::StatusOr<std::unique_ptr<JetStreamFollower>> JetStreamFollower::Start(
    natsConnection* connection, const std::string& stream, const std::string& subject_prefix,
    uint64_t start_sequence, FollowerLimits limits, EventCallback on_event) {
  if (limits.messages < 1) return absl::InvalidArgumentError("follower pending messages < 1");
  // One event of the largest size the server takes must always fit.
  const int64_t max_payload = natsConnection_GetMaxPayload(connection);
  limits.bytes = static_cast<int>(std::max<int64_t>(limits.bytes, 2 * max_payload));
  auto follower = std::make_unique<JetStreamFollower>(connection, stream, subject_prefix, limits,
                                                      std::move(on_event));
  jsCtx* js = nullptr;
  REFIR_RETURN_IF_ERROR(
      NatsStatus(natsConnection_JetStream(&js, connection, nullptr), "JetStream context"));
  follower->js_.reset(js);
  REFIR_ASSIGN_OR_RETURN(NatsSubscriptionPtr subscription, follower->Subscribe(start_sequence));
  {
    absl::MutexLock lock(&follower->mu_);
    follower->subscription_ = std::move(subscription);
  }
  follower->thread_ = std::thread([f = follower.get(), start_sequence] { f->Run(start_sequence); });
  return follower;
}

absl::StatusOr<NatsSubscriptionPtr> JetStreamFollower::Subscribe(uint64_t start_sequence) {
  jsSubOptions options;
  REFIR_RETURN_IF_ERROR(NatsStatus(jsSubOptions_Init(&options), "jsSubOptions_Init"));
  options.Stream = stream_.c_str();
  options.Ordered = true;
  options.Config.DeliverPolicy = js_DeliverByStartSequence;
  options.Config.OptStartSeq = start_sequence;
  const std::string subject = absl::StrCat(subject_prefix_, ".>");
  natsSubscription* raw = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus status =
      js_SubscribeSync(&raw, js_.get(), subject.c_str(), nullptr, &options, &js_error);
  NatsSubscriptionPtr subscription(raw);
  REFIR_RETURN_IF_ERROR(NatsStatus(
      status, absl::StrCat("following JetStream stream ", stream_, " from ", start_sequence),
      js_error));
  REFIR_RETURN_IF_ERROR(NatsStatus(
      natsSubscription_SetPendingLimits(subscription.get(), limits_.messages, limits_.bytes),
      "follower pending limits"));
  return subscription;
}

natsSubscription* JetStreamFollower::current() const {
  absl::MutexLock lock(&mu_);
  return stopping_ ? nullptr : subscription_.get();
}

void JetStreamFollower::Run(uint64_t next_sequence) {
  Follow(next_sequence);
  End(TakeSubscription());
}

void JetStreamFollower::Follow(uint64_t next_sequence) {
  // The first event of a subscription arrives into an empty buffer, so
  // nothing before it was dropped: a gap there is the stream's own.
  bool first = true;
  while (true) {
    // Only this thread replaces or ends the subscription, so it stays
    // valid while read here.
    natsSubscription* subscription = current();
    if (subscription == nullptr) return;
    natsMsg* raw = nullptr;
    const natsStatus status = natsSubscription_NextMsg(&raw, subscription, kReadWaitMillis);
    NatsMsgPtr msg(raw);
    if (status == NATS_TIMEOUT || status == NATS_SLOW_CONSUMER) {
      // Idle with drops: a dropped event may be the newest one.
      if (status == NATS_TIMEOUT && DroppedOn(subscription) > 0) {
        if (!Resubscribe(next_sequence, "events were dropped while it was behind")) return;
        first = true;
      }
      continue;  // a slow consumer's drops show as a gap below
    }
    if (status != NATS_OK) {
      if (current() == nullptr) return;
      if (!Resubscribe(next_sequence, natsStatus_GetText(status))) return;
      first = true;
      continue;
    }
    jsMsgMetaData* raw_meta = nullptr;
    if (natsMsg_GetMetaData(&raw_meta, msg.get()) != NATS_OK) continue;  // not an event
    JsMsgMetaDataPtr meta(raw_meta);
    if (meta->Consumer != nullptr && consumer_ != meta->Consumer) consumer_ = meta->Consumer;
    const uint64_t sequence = meta->Sequence.Stream;
    if (sequence < next_sequence) continue;  // handed out already
    if (sequence > next_sequence && !first && DroppedOn(subscription) > 0) {
      if (!Resubscribe(next_sequence, "events were dropped while it was behind")) return;
      first = true;
      continue;
    }
    first = false;
    const char* data = natsMsg_GetData(msg.get());
    const int length = natsMsg_GetDataLength(msg.get());
    on_event_(sequence, absl::string_view(data == nullptr ? "" : data,
                                          static_cast<size_t>(length < 0 ? 0 : length)));
    next_sequence = sequence + 1;
  }
}

bool JetStreamFollower::Resubscribe(uint64_t next_sequence, absl::string_view why) {
  restarts_.fetch_add(1, std::memory_order_relaxed);
  LogWarning("JetStream follower subscribes anew",
             {{"stream", stream_}, {"from", next_sequence}, {"why", why}});
  End(TakeSubscription());
  absl::Duration wait = kFirstRetryWait;
  while (true) {
    absl::StatusOr<NatsSubscriptionPtr> fresh = Subscribe(next_sequence);
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      stopping = stopping_;
      if (!stopping && fresh.ok()) {
        subscription_ = *std::move(fresh);
        return true;
      }
    }
    if (stopping) {
      if (fresh.ok()) End(*std::move(fresh));
      return false;
    }
    LogWarning("JetStream follower cannot subscribe; retrying",
               {{"stream", stream_}, {"from", next_sequence}, {"error", fresh.status().message()}});
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait)) return false;
    wait = std::min(wait * 2, kLastRetryWait);
  }
}

NatsSubscriptionPtr JetStreamFollower::TakeSubscription() {
  absl::MutexLock lock(&mu_);
  dropped_before_ += DroppedOn(subscription_.get());
  return std::move(subscription_);
}

void JetStreamFollower::End(NatsSubscriptionPtr subscription) {
  EndSubscription(connection_, js_.get(), stream_, std::move(subscription), consumer_, kEndWait);
  consumer_.clear();
}

int64_t JetStreamFollower::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_before_ + DroppedOn(subscription_.get());
}

void JetStreamFollower::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;  // a read under way ends within kReadWaitMillis
  }
  if (thread_.joinable()) thread_.join();
  End(TakeSubscription());  // none left once the thread ran
}

}  // namespace refir::bridge::jetstream
