#include "bridge/grpc_api/forwarding_subscribe_reactor.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

namespace refir::bridge {

ForwardingSubscribeReactor::ForwardingSubscribeReactor(Downstream* downstream,
                                                       std::shared_ptr<grpc::Channel> channel,
                                                       std::unique_ptr<grpc::ClientContext> client)
    : downstream_(downstream), channel_(std::move(channel)), client_(std::move(client)) {}

void ForwardingSubscribeReactor::Start(grpc::ByteBuffer* first) {
  static const std::string method =
      absl::StrCat("/", v1::EventStream::service_full_name(), "/Subscribe");
  absl::MutexLock lock(&mu_);
  request_.Swap(first);
  grpc::GenericStub stub(channel_);
  stub.PrepareBidiStreamingCall(client_.get(), method, grpc::StubOptions(), this);
  AddMultipleHolds(2);
  request_hold_ = true;
  response_hold_ = true;
  StartWrite(&request_);
  StartRead(&response_);
  StartCall();
}

void ForwardingSubscribeReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  // !ok: the upstream call ended; its status comes to OnDone.
  if (!ok || cancelled_) {
    ReleaseRequestHoldLocked();
    return;
  }
  if (request_hold_) downstream_->StartRead(&request_);
}

void ForwardingSubscribeReactor::OnDownstreamReadDone(bool ok) {
  absl::MutexLock lock(&mu_);
  if (!request_hold_) return;  // the upstream call is over: nothing more goes up
  if (!ok) {
    // The client half-closed (or its call ended): so does the forwarded one.
    if (!cancelled_) StartWritesDone();
    ReleaseRequestHoldLocked();
    return;
  }
  if (cancelled_) {
    ReleaseRequestHoldLocked();
    return;
  }
  StartWrite(&request_);
}

void ForwardingSubscribeReactor::OnReadDone(bool ok) {
  absl::MutexLock lock(&mu_);
  if (!ok) {
    // The serving replica ended the stream (or it broke): OnDone follows
    // once nothing else is in flight upstream.
    ReleaseRequestHoldLocked();
    ReleaseResponseHoldLocked();
    return;
  }
  downstream_write_in_flight_ = true;
  downstream_->StartWrite(&response_);
}

void ForwardingSubscribeReactor::OnDownstreamWriteDone(bool ok) {
  grpc::Status status;
  {
    absl::MutexLock lock(&mu_);
    downstream_write_in_flight_ = false;
    if (!pending_finish_.has_value()) {
      if (!ok) {
        // The client is gone: end the forwarded call too.
        cancelled_ = true;
        client_->TryCancel();
        ReleaseResponseHoldLocked();
      } else if (response_hold_) {
        StartRead(&response_);
      }
      return;
    }
    status = *pending_finish_;
  }
  downstream_->Finish(status);
}

void ForwardingSubscribeReactor::Cancel(std::optional<grpc::Status> status) {
  absl::MutexLock lock(&mu_);
  if (status.has_value() && !cancel_status_.has_value()) cancel_status_ = std::move(status);
  cancelled_ = true;
  client_->TryCancel();
}

void ForwardingSubscribeReactor::OnDone(const grpc::Status& status) {
  Downstream* const downstream = downstream_;
  grpc::Status final_status;
  {
    absl::MutexLock lock(&mu_);
    final_status = cancel_status_.value_or(status);
    if (downstream_write_in_flight_) {
      pending_finish_ = final_status;
      return;
    }
  }
  // Last use of `this`: once finished, the server half (which owns this
  // reactor) may be destroyed at any moment.
  downstream->Finish(final_status);
}

void ForwardingSubscribeReactor::ReleaseRequestHoldLocked() {
  if (!request_hold_) return;
  request_hold_ = false;
  RemoveHold();
}

void ForwardingSubscribeReactor::ReleaseResponseHoldLocked() {
  if (!response_hold_) return;
  response_hold_ = false;
  RemoveHold();
}

}  // namespace refir::bridge
