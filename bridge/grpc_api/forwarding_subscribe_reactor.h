// ForwardingSubscribeReactor: a Subscribe stream that a standby replica
// proxies to the replica serving the consumer groups. It is the client half
// (a callback ClientBidiReactor on the peer channel); the server half is the
// SubscribeReactor that read the init, which hands its stream events here.
// Messages pass through as bytes, unparsed, both ways, with one read and one
// write in flight per direction: a message read from one side is read again
// only after it was written to the other, so a slow side slows the other
// and memory stays at one message per direction.
//
// Endings: the downstream client's half-close is passed on (WritesDone);
// its cancellation cancels the upstream call. The stream ends with the
// upstream call's status unchanged (UNAVAILABLE when the serving replica
// dies or is unreachable), or with the status given to Cancel.
//
// Lifetime: owned by the server half, which must not be destroyed before
// the downstream is finished; the downstream is finished only from here,
// after the upstream call is done, so both halves end in order.
#ifndef REFIR_BRIDGE_GRPC_API_FORWARDING_SUBSCRIBE_REACTOR_H_
#define REFIR_BRIDGE_GRPC_API_FORWARDING_SUBSCRIBE_REACTOR_H_

#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/client_callback.h"

namespace refir::bridge {

class ForwardingSubscribeReactor final
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  using Downstream = grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>;

  // `downstream` is the server half; `client` the forwarded call's context.
  ForwardingSubscribeReactor(Downstream* downstream, std::shared_ptr<grpc::Channel> channel,
                             std::unique_ptr<grpc::ClientContext> client);

  ForwardingSubscribeReactor(const ForwardingSubscribeReactor&) = delete;
  ForwardingSubscribeReactor& operator=(const ForwardingSubscribeReactor&) = delete;

  // Starts the upstream call, sending `first` (the init message the
  // downstream already read; taken, left empty) as its first message. Once.
  void Start(grpc::ByteBuffer* first) ABSL_LOCKS_EXCLUDED(mu_);

  // The server half's events, passed on by it.
  void OnDownstreamReadDone(bool ok) ABSL_LOCKS_EXCLUDED(mu_);
  void OnDownstreamWriteDone(bool ok) ABSL_LOCKS_EXCLUDED(mu_);
  // Cancels the upstream call; the downstream then ends with `status`, or
  // with the upstream's status when none is given. Thread-safe.
  void Cancel(std::optional<grpc::Status> status) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // ClientBidiReactor: the upstream call's events.
  void OnReadDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnDone(const grpc::Status& status) override ABSL_LOCKS_EXCLUDED(mu_);

  // Holds keep the upstream call open while the downstream side may still
  // start upstream operations: one for the request direction (writes and
  // WritesDone), one for the response direction (reads).
  void ReleaseRequestHoldLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseResponseHoldLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Downstream* const downstream_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<grpc::ClientContext> client_;

  // Each is owned by the one operation in flight in its direction:
  // downstream read, then upstream write (requests); upstream read, then
  // downstream write (responses).
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;

  absl::Mutex mu_;
  bool request_hold_ ABSL_GUARDED_BY(mu_) = false;
  bool response_hold_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool downstream_write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  // Given to Cancel: the downstream's status instead of the upstream's.
  std::optional<grpc::Status> cancel_status_ ABSL_GUARDED_BY(mu_);
  // The upstream is done; the downstream is finished with this once its
  // write in flight, if any, is done.
  std::optional<grpc::Status> pending_finish_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_FORWARDING_SUBSCRIBE_REACTOR_H_
