#include "bridge/journal/jetstream/jetstream_publisher.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/common/error_reason.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/jetstream/js_options.h"
#include "bridge/journal/jetstream/nats_status.h"
#include "bridge/journal/journal.h"

namespace refir::bridge::jetstream {
namespace {

// How much longer than the publish timeout a caller waits for cnats to
// report its publish (cnats times it out itself; this is a backstop).
constexpr absl::Duration kReportGrace = absl::Seconds(2);

// How long a failed publish makes the publisher report itself unhealthy.
// Not until the next success: a load balancer that takes a bridge out while
// it is not ready would then never send the webhook that makes it ready.
constexpr absl::Duration kUnhealthyAfterFailure = absl::Seconds(1);

std::string DescribeFailure(const jsPubAckErr& error) {
  if (error.Err == NATS_TIMEOUT) return "no PubAck from JetStream in time";
  if (error.Err == NATS_NO_RESPONDERS) return "no JetStream stream leader answered";
  std::string text = absl::StrCat("JetStream refused the publish: ", natsStatus_GetText(error.Err));
  if (error.ErrText != nullptr && *error.ErrText != '\0')
    absl::StrAppend(&text, " (", error.ErrText, ")");
  if (error.ErrCode != 0) absl::StrAppend(&text, ", error ", static_cast<int>(error.ErrCode));
  return text;
}

}  // namespace

absl::StatusOr<std::unique_ptr<JetStreamPublisher>> JetStreamPublisher::Create(
    natsConnection* connection, PublisherOptions options, AckedCallback on_acked) {
  auto publisher = std::make_unique<JetStreamPublisher>(std::move(options), std::move(on_acked));
  jsOptions js_options = JsOptionsWithTimeout(publisher->options_.timeout);
  js_options.PublishAsync.MaxPending = static_cast<int64_t>(publisher->options_.max_pending);
  js_options.PublishAsync.StallWait = absl::ToInt64Milliseconds(publisher->options_.timeout);
  js_options.PublishAsync.AckHandler = &JetStreamPublisher::OnPubAck;
  js_options.PublishAsync.AckHandlerClosure = publisher.get();
  jsCtx* js = nullptr;
  REFIR_RETURN_IF_ERROR(
      NatsStatus(natsConnection_JetStream(&js, connection, &js_options), "JetStream context"));
  publisher->js_.reset(js);
  return publisher;
}

absl::Status JetStreamPublisher::Unavailable(absl::string_view why) const {
  return ErrorWithReason(absl::StatusCode::kUnavailable, kJournalUnavailableReason,
                         absl::StrCat(why, " (stream ", options_.stream, ")"));
}

absl::StatusOr<Published> JetStreamPublisher::Publish(const std::string& subject,
                                                      const std::string& msg_id,
                                                      absl::string_view data) {
  natsMsg* raw_msg = nullptr;
  REFIR_RETURN_IF_ERROR(NatsStatus(natsMsg_Create(&raw_msg, subject.c_str(), nullptr, data.data(),
                                                  static_cast<int>(data.size())),
                                   "natsMsg_Create"));
  NatsMsgPtr msg(raw_msg);
  Pending pending;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return Unavailable("the journal is closing");
    ++callers_;
    pending_[raw_msg] = &pending;
  }
  jsPubOptions publish_options;
  jsPubOptions_Init(&publish_options);
  publish_options.MaxWait = absl::ToInt64Milliseconds(options_.timeout);
  publish_options.ExpectStream = options_.stream.c_str();
  if (!msg_id.empty()) publish_options.MsgId = msg_id.c_str();
  natsMsg* handed = msg.release();
  const natsStatus status = js_PublishMsgAsync(js_.get(), &handed, &publish_options);
  // On success cnats owns the message and cleared `handed`; on failure it
  // is still ours.
  msg.reset(handed);

  absl::Status failure;
  // While reconnecting cnats buffers nothing (the reconnect buffer is 0),
  // so a publish then fails at once with NATS_INSUFFICIENT_BUFFER.
  const bool not_connected = status == NATS_INSUFFICIENT_BUFFER || status == NATS_CONNECTION_CLOSED;
  if (status != NATS_OK) {
    failure = not_connected ? Unavailable("not connected to any NATS server (reconnecting)")
                            : Unavailable(NatsStatus(status, "publishing to JetStream").message());
    if (Unregister(raw_msg) == nullptr) {
      // Unreachable by cnats's contract (a failed call keeps the message
      // out of its map), but never leave `pending` referenced.
      pending.done.WaitForNotification();
    }
  } else if (!pending.done.WaitForNotificationWithTimeout(options_.timeout + kReportGrace)) {
    if (Unregister(raw_msg) != nullptr) {
      failure = Unavailable("no PubAck from JetStream in time");
    } else {
      pending.done.WaitForNotification();  // the handler is completing it
    }
  }
  absl::MutexLock lock(&mu_);
  --callers_;
  if (!failure.ok()) {
    // Not being connected is the connection's state to report (healthy()).
    if (!not_connected) last_failure_ = absl::Now();
    return failure;
  }
  if (!pending.status.ok()) last_failure_ = absl::Now();
  if (!pending.status.ok()) return pending.status;
  return pending.result;
}

JetStreamPublisher::Pending* JetStreamPublisher::Unregister(natsMsg* msg) {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(msg);
  if (it == pending_.end()) return nullptr;
  Pending* pending = it->second;
  pending_.erase(it);
  return pending;
}

void JetStreamPublisher::OnPubAck(jsCtx* /*js*/, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error,
                                  void* closure) {
  static_cast<JetStreamPublisher*>(closure)->Complete(msg, ack, error);
  natsMsg_Destroy(msg);
}

void JetStreamPublisher::Complete(natsMsg* msg, const jsPubAck* ack, const jsPubAckErr* error) {
  Pending* pending = Unregister(msg);
  if (pending == nullptr) return;  // its caller gave up already
  if (ack != nullptr) {
    pending->result.sequence = ack->Sequence;
    pending->result.duplicate = ack->Duplicate;
    if (on_acked_) on_acked_(ack->Sequence);
  } else if (error != nullptr) {
    pending->status = Unavailable(DescribeFailure(*error));
  } else {
    pending->status = Unavailable("JetStream answered neither a PubAck nor an error");
  }
  pending->done.Notify();
}

bool JetStreamPublisher::healthy() const {
  absl::MutexLock lock(&mu_);
  return !closed_ && absl::Now() - last_failure_ >= kUnhealthyAfterFailure;
}

void JetStreamPublisher::Close() {
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    closed_ = true;
  }
  if (js_ != nullptr) {
    jsPubOptions complete_options;
    jsPubOptions_Init(&complete_options);
    complete_options.MaxWait = absl::ToInt64Milliseconds(options_.timeout);
    // A timeout here leaves callers to their own timeouts.
    (void)js_PublishAsyncComplete(js_.get(), &complete_options);
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](size_t* callers) { return *callers == 0; }, &callers_));
}

}  // namespace refir::bridge::jetstream
