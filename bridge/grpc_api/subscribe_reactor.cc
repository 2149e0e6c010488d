#include "bridge/grpc_api/subscribe_reactor.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/common/log.h"
#include "bridge/delivery/start_position.h"
#include "bridge/grpc_api/grpc_status.h"

namespace refir::bridge {

SubscribeReactor::SubscribeReactor(Journal* journal, WakeupHub* hub, StreamLimits limits,
                                   std::string peer,
                                   std::function<void(SubscribeReactor*)> on_done)
    : journal_(journal),
      hub_(hub),
      limits_(limits),
      peer_(std::move(peer)),
      on_done_(std::move(on_done)) {
  StartRead(&request_);
}

void SubscribeReactor::Abort(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  FinishLocked(status);
}

void SubscribeReactor::Wake() {
  absl::MutexLock lock(&mu_);
  Pump();
}

void SubscribeReactor::OnReadDone(bool ok) {
  absl::MutexLock lock(&mu_);
  // !ok: the client half-closed or the call ended. A subscriber that stops
  // sending keeps receiving until it cancels, so there is nothing to do.
  if (!ok || finish_called_) return;
  if (request_.kind_case() != v1::SubscribeRequest::kInit) {
    FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "the first SubscribeRequest must carry init"));
    return;
  }
  if (tail_.has_value()) {
    FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              "init may be sent only once per stream"));
    return;
  }
  HandleInit(request_.init());
  if (!finish_called_) StartRead(&request_);
}

void SubscribeReactor::HandleInit(const v1::SubscribeInit& init) {
  const int max_batch = init.max_batch() == 0 ? limits_.default_batch : init.max_batch();
  if (max_batch < 1 || max_batch > limits_.max_batch) {
    FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              absl::StrCat("init.max_batch must be between 1 and ",
                                           limits_.max_batch, ", got ", init.max_batch())));
    return;
  }
  const uint64_t head = journal_->HeadSequence();
  absl::StatusOr<uint64_t> start = ResolveStartSequence(*journal_, init.start());
  if (!start.ok()) {
    FinishLocked(ToGrpcStatus(start.status()));
    return;
  }
  tail_.emplace(journal_, *start, static_cast<size_t>(max_batch), limits_.max_message_bytes);
  LogInfo(absl::StrCat("subscribe: client_id=\"", init.client_id(), "\" peer=", peer_,
                       " start_sequence=", *start, " max_batch=", max_batch));

  v1::SubscribeConfirm* confirm = response_.mutable_confirm();
  confirm->set_client_id(init.client_id());
  confirm->set_start_sequence(*start);
  confirm->set_head_sequence(head);
  confirm->set_max_batch(max_batch);
  write_in_flight_ = true;
  StartWrite(&response_);
}

void SubscribeReactor::Pump() {
  if (finish_called_ || write_in_flight_ || !tail_.has_value()) return;
  absl::StatusOr<std::vector<v1::Event>> events = tail_->Next();
  if (!events.ok()) {
    LogError(absl::StrCat("subscribe: journal read failed for ", peer_, ": ",
                          events.status().ToString()));
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              absl::StrCat("journal read failed: ", events.status().message())));
    return;
  }
  if (events->empty()) {
    hub_->Park(this, tail_->next_sequence());
    return;
  }
  response_.Clear();
  v1::DeliveryBatch* batch = response_.mutable_batch();
  batch->mutable_deliveries()->Reserve(static_cast<int>(events->size()));
  for (v1::Event& event : *events) {
    v1::Delivery* delivery = batch->add_deliveries();
    delivery->set_delivery_attempt(1);
    *delivery->mutable_event() = std::move(event);
  }
  write_in_flight_ = true;
  StartWrite(&response_);
}

void SubscribeReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  write_in_flight_ = false;
  if (pending_finish_.has_value()) {
    finish_called_ = true;
    Finish(*pending_finish_);
    return;
  }
  if (!ok) {
    // The stream is broken (client gone); OnCancel or OnDone follows.
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
    return;
  }
  Pump();
}

void SubscribeReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  FinishLocked(grpc::Status::CANCELLED);
}

void SubscribeReactor::OnDone() {
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
