#include "bridge/journal/jetstream/jetstream_follower.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/jetstream/nats_status.h"

namespace refir::bridge::jetstream {

absl::StatusOr<std::unique_ptr<JetStreamFollower>> JetStreamFollower::Start(
    natsConnection* connection, const std::string& stream, const std::string& subject_prefix,
    uint64_t start_sequence, EventCallback on_event) {
  auto follower = std::make_unique<JetStreamFollower>(std::move(on_event));
  jsCtx* js = nullptr;
  REFIR_RETURN_IF_ERROR(
      NatsStatus(natsConnection_JetStream(&js, connection, nullptr), "JetStream context"));
  follower->js_.reset(js);

  jsSubOptions options;
  REFIR_RETURN_IF_ERROR(NatsStatus(jsSubOptions_Init(&options), "jsSubOptions_Init"));
  options.Stream = stream.c_str();
  options.Ordered = true;
  options.Config.DeliverPolicy = js_DeliverByStartSequence;
  options.Config.OptStartSeq = start_sequence;
  const std::string subject = absl::StrCat(subject_prefix, ".>");
  natsSubscription* subscription = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus status =
      js_Subscribe(&subscription, js, subject.c_str(), &JetStreamFollower::OnMessage,
                   follower.get(), nullptr, &options, &js_error);
  follower->subscription_.reset(subscription);
  REFIR_RETURN_IF_ERROR(
      NatsStatus(status, absl::StrCat("following JetStream stream ", stream), js_error));
  // Events arrive at the pace they are appended; never drop one for a slow
  // callback (the ordered consumer would then restart anyway).
  REFIR_RETURN_IF_ERROR(NatsStatus(natsSubscription_SetPendingLimits(subscription, -1, -1),
                                   "follower pending limits"));
  return follower;
}

void JetStreamFollower::OnMessage(natsConnection* /*connection*/,
                                  natsSubscription* /*subscription*/, natsMsg* msg, void* closure) {
  NatsMsgPtr owned(msg);
  jsMsgMetaData* raw_meta = nullptr;
  if (natsMsg_GetMetaData(&raw_meta, msg) != NATS_OK) return;  // heartbeats, flow control
  JsMsgMetaDataPtr meta(raw_meta);
  const char* data = natsMsg_GetData(msg);
  const int length = natsMsg_GetDataLength(msg);
  static_cast<JetStreamFollower*>(closure)->on_event_(
      meta->Sequence.Stream,
      absl::string_view(data == nullptr ? "" : data, static_cast<size_t>(length < 0 ? 0 : length)));
}

void JetStreamFollower::Stop() {
  if (subscription_ == nullptr) return;
  // A drain lets the callback finish what was delivered, and the wait
  // returns once the callback thread is done with this follower. Without a
  // connection there is nothing to drain: unsubscribe.
  if (natsSubscription_Drain(subscription_.get()) != NATS_OK ||
      natsSubscription_WaitForDrainCompletion(subscription_.get(), 5000) != NATS_OK) {
    (void)natsSubscription_Unsubscribe(subscription_.get());
  }
  subscription_.reset();
  js_.reset();
}

}  // namespace refir::bridge::jetstream
