#include "bridge/grpc_api/subscribe_reactor.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/common/log.h"
#include "bridge/common/proto_time.h"
#include "bridge/grpc_api/clip_for_log.h"
#include "bridge/grpc_api/grpc_status.h"

namespace refir::bridge {
namespace {

// Replies (settle results) queued before the stream stops reading requests.
constexpr size_t kMaxQueuedReplies = 64;

}  // namespace

SubscribeReactor::SubscribeReactor(Journal* journal, WakeupHub* hub, FeedFactory factory,
                                   std::string peer, const StreamLimits& limits,
                                   std::function<void(SubscribeReactor*)> on_done,
                                   ProxyFactory proxy_factory)
    : journal_(journal),
      hub_(hub),
      factory_(std::move(factory)),
      peer_(std::move(peer)),
      limits_(limits),
      on_done_(std::move(on_done)),
      proxy_factory_(std::move(proxy_factory)) {
  StartRead(&read_buffer_);
}

void SubscribeReactor::Abort(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  if (proxy_ != nullptr) {
    proxy_->Cancel(status);
    return;
  }
  FinishLocked(status);
}

ForwardingSubscribeReactor* SubscribeReactor::Proxy() {
  absl::MutexLock lock(&mu_);
  return proxy_.get();
}

void SubscribeReactor::Wake() {
  absl::MutexLock lock(&mu_);
  Pump();
}

void SubscribeReactor::OnReadDone(bool ok) {
  if (ForwardingSubscribeReactor* proxy = Proxy()) {
    proxy->OnDownstreamReadDone(ok);
    return;
  }
  absl::MutexLock lock(&mu_);
  // !ok: the client half-closed or the call ended. A subscriber that stops
  // sending keeps receiving until it cancels, so there is nothing to do.
  if (!ok || finish_called_ || pending_finish_.has_value()) return;
  if (feed_ == nullptr && proxy_factory_) first_request_ = read_buffer_;
  if (!grpc::SerializationTraits<v1::SubscribeRequest>::Deserialize(&read_buffer_, &request_)
           .ok()) {
    FinishLocked(ToGrpcStatus(absl::InvalidArgumentError("SubscribeRequest does not parse")));
    return;
  }
  HandleRequestLocked();
  if (proxy_ != nullptr || finish_called_ || pending_finish_.has_value()) return;
  if (!OutboxFullLocked()) {
    StartRead(&read_buffer_);
  } else {
    reading_paused_ = true;
  }
  Pump();
}

void SubscribeReactor::HandleRequestLocked() {
  const absl::Time now = absl::Now();
  if (request_.kind_case() == v1::SubscribeRequest::kInit) {
    if (feed_ != nullptr) {
      FinishLocked(
          ToGrpcStatus(absl::InvalidArgumentError("init may be sent only once per stream")));
      return;
    }
    if (MaybeProxyLocked()) return;
    absl::StatusOr<FeedSetup> setup = factory_(request_.init(), this, peer_);
    if (!setup.ok()) {
      FinishLocked(ToGrpcStatus(setup.status()));
      return;
    }
    feed_ = std::move(setup->feed);
    heartbeat_interval_ = setup->heartbeat_interval;
    LogInfo(absl::StrCat("subscribe: client_id=\"", ClipForLog(setup->confirm.client_id()),
                         "\" group=\"", setup->confirm.consumer_group(), "\" peer=", peer_,
                         " start_sequence=", setup->confirm.start_sequence()));
    v1::SubscribeResponse& reply = outbox_.emplace_back();
    *reply.mutable_confirm() = std::move(setup->confirm);
    outbox_bytes_ += reply.ByteSizeLong();
    return;
  }
  if (feed_ == nullptr) {
    FinishLocked(
        ToGrpcStatus(absl::InvalidArgumentError("the first SubscribeRequest must carry init")));
    return;
  }
  switch (request_.kind_case()) {
    case v1::SubscribeRequest::kSettle: {
      const int ids = request_.settle().ack_ids_size() + request_.settle().nacks_size();
      if (ids > limits_.max_ack_ids_per_message) {
        FinishLocked(ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
            "Settle carries ", ids, " ack ids; the limit is ", limits_.max_ack_ids_per_message))));
        return;
      }
      v1::SettleResult result;
      feed_->Settle(request_.settle(), now, &result);
      QueueResultLocked(std::move(result));
      return;
    }
    case v1::SubscribeRequest::kExtend: {
      if (request_.extend().seconds() < 1 || request_.extend().seconds() > 3600) {
        FinishLocked(ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
            "extend.seconds must be between 1 and 3600, got ", request_.extend().seconds()))));
        return;
      }
      const int ids = request_.extend().ack_ids_size();
      if (ids > limits_.max_ack_ids_per_message) {
        FinishLocked(ToGrpcStatus(absl::InvalidArgumentError(
            absl::StrCat("ExtendDeadline carries ", ids, " ack ids; the limit is ",
                         limits_.max_ack_ids_per_message))));
        return;
      }
      v1::SettleResult result;
      feed_->Extend(request_.extend(), now, &result);
      QueueResultLocked(std::move(result));
      return;
    }
    case v1::SubscribeRequest::kFlow: {
      const int max_outstanding = request_.flow().max_outstanding();
      if (max_outstanding < 1 || max_outstanding > limits_.max_max_outstanding) {
        FinishLocked(ToGrpcStatus(absl::InvalidArgumentError(
            absl::StrCat("flow.max_outstanding must be between 1 and ", limits_.max_max_outstanding,
                         ", got ", max_outstanding))));
        return;
      }
      if (absl::Status set = feed_->SetMaxOutstanding(max_outstanding); !set.ok()) {
        FinishLocked(ToGrpcStatus(set));
      }
      return;
    }
    default:
      FinishLocked(ToGrpcStatus(
          absl::InvalidArgumentError("SubscribeRequest carries no init, settle, flow or extend")));
      return;
  }
}

bool SubscribeReactor::MaybeProxyLocked() {
  if (!proxy_factory_) return false;
  grpc::ByteBuffer first;  // the init's bytes, needed only by a proxy
  first.Swap(&first_request_);
  absl::StatusOr<std::unique_ptr<ForwardingSubscribeReactor>> proxy =
      proxy_factory_(request_.init(), this);
  if (!proxy.ok()) {
    FinishLocked(ToGrpcStatus(proxy.status()));
    return true;
  }
  if (*proxy == nullptr) return false;
  LogInfo(absl::StrCat("subscribe: client_id=\"", ClipForLog(request_.init().client_id()),
                       "\" group=\"", ClipForLog(request_.init().consumer_group()),
                       "\" peer=", peer_, " forwarded to the replica serving the groups"));
  proxy_ = *std::move(proxy);
  proxy_->Start(&first);
  return true;
}

void SubscribeReactor::QueueResultLocked(v1::SettleResult result) {
  v1::SubscribeResponse& reply = outbox_.emplace_back();
  *reply.mutable_settled() = std::move(result);
  outbox_bytes_ += reply.ByteSizeLong();
}

bool SubscribeReactor::OutboxFullLocked() const {
  return outbox_.size() >= kMaxQueuedReplies || outbox_bytes_ >= limits_.max_queued_reply_bytes;
}

void SubscribeReactor::WriteLocked() {
  write_in_flight_ = true;
  last_write_ = absl::Now();
  StartWrite(&write_buffer_);
}

void SubscribeReactor::WriteMessageLocked(const v1::SubscribeResponse& response) {
  bool own_buffer = false;
  write_buffer_.Clear();  // the serializer wants an empty buffer
  grpc::Status serialized = grpc::SerializationTraits<v1::SubscribeResponse>::Serialize(
      response, &write_buffer_, &own_buffer);
  if (!serialized.ok()) {
    FinishLocked(ToGrpcStatus(absl::InternalError(
        absl::StrCat("reply does not serialize: ", serialized.error_message()))));
    return;
  }
  WriteLocked();
}

void SubscribeReactor::Pump() {
  if (finish_called_ || pending_finish_.has_value() || write_in_flight_) return;
  if (!outbox_.empty()) {
    const v1::SubscribeResponse reply = std::move(outbox_.front());
    outbox_.pop_front();
    outbox_bytes_ -= std::min(outbox_bytes_, reply.ByteSizeLong());
    // Resume reading once the queue is half drained (by count and bytes).
    if (reading_paused_ && outbox_.size() < kMaxQueuedReplies / 2 &&
        outbox_bytes_ < limits_.max_queued_reply_bytes / 2) {
      reading_paused_ = false;
      StartRead(&read_buffer_);
    }
    WriteMessageLocked(reply);
    return;
  }
  if (feed_ == nullptr) return;
  const absl::Time now = absl::Now();
  batch_.Clear();
  if (absl::Status pulled = feed_->Pull(now, &batch_); !pulled.ok()) {
    LogError(absl::StrCat("subscribe: journal read failed for ", peer_, ": ", pulled.ToString()));
    FinishLocked(ToGrpcStatus(
        absl::UnavailableError(absl::StrCat("journal read failed: ", pulled.message()))));
    return;
  }
  if (!batch_.empty()) {
    grpc_slice slice = grpc_slice_malloc(batch_.EncodedSize());
    batch_.EncodeTo(GRPC_SLICE_START_PTR(slice));
    grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
    write_buffer_ = grpc::ByteBuffer(&owned, 1);
    WriteLocked();
    return;
  }
  const absl::Time heartbeat_due = last_write_ + heartbeat_interval_;
  if (now >= heartbeat_due) {
    v1::SubscribeResponse reply;
    v1::Heartbeat* heartbeat = reply.mutable_heartbeat();
    heartbeat->set_head_sequence(journal_->HeadSequence());
    *heartbeat->mutable_server_time() = ToProtoTimestamp(now);
    WriteMessageLocked(reply);
    return;
  }
  const FeedWait wait = feed_->NextWait(now);
  hub_->Park(this, wait.sequence, std::min(wait.deadline, heartbeat_due));
}

void SubscribeReactor::OnWriteDone(bool ok) {
  if (ForwardingSubscribeReactor* proxy = Proxy()) {
    proxy->OnDownstreamWriteDone(ok);
    return;
  }
  absl::MutexLock lock(&mu_);
  write_in_flight_ = false;
  if (pending_finish_.has_value()) {
    finish_called_ = true;
    Finish(*pending_finish_);
    return;
  }
  if (!ok) {
    // The stream is broken (client gone); OnCancel or OnDone follows.
    FinishLocked(ToGrpcStatus(absl::UnavailableError("write failed")));
    return;
  }
  Pump();
}

void SubscribeReactor::OnCancel() {
  // Under mu_, so that the stream cannot become proxied meanwhile.
  absl::MutexLock lock(&mu_);
  if (proxy_ != nullptr) {
    proxy_->Cancel(std::nullopt);
    return;
  }
  FinishLocked(grpc::Status::CANCELLED);
}

void SubscribeReactor::OnDone() {
  std::unique_ptr<StreamFeed> feed;
  {
    absl::MutexLock lock(&mu_);
    feed = std::move(feed_);
  }
  // Unacked deliveries of this stream become due for redelivery.
  if (feed != nullptr) feed->Close(absl::Now());
  hub_->Unpark(this);
  if (on_done_) on_done_(this);
  delete this;
}

void SubscribeReactor::FinishLocked(const grpc::Status& status) {
  if (finish_called_ || pending_finish_.has_value()) return;
  if (write_in_flight_) {
    pending_finish_ = status;
    return;
  }
  finish_called_ = true;
  Finish(status);
}

}  // namespace refir::bridge
