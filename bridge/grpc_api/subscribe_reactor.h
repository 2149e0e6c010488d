// SubscribeReactor: the server side of one EventStream.Subscribe stream
// (gRPC callback API). Takes the init, then loops: send queued replies
// (confirm, settle results), else one batch from its StreamFeed, else a
// heartbeat when one is owed, else park on the WakeupHub until new events,
// a deadline, or a settle. Exactly one write is in flight; reading pauses
// while too many replies (by count or bytes) are queued, so a client that
// sends settles without reading the results gets backpressure instead of
// growing the bridge's memory. A Settle or ExtendDeadline with more than
// StreamLimits::max_ack_ids_per_message ids ends the stream.
// The method is raw (grpc::ByteBuffer both ways): requests are parsed here,
// and a batch is written from its OutgoingBatch encoding, so stored events
// reach the wire without being parsed and serialized again.
// On a standby replica, an init that joins a consumer group may instead be
// proxied to the replica serving the groups (ProxyFactory): from then on the
// stream's events go to its ForwardingSubscribeReactor, which ends it.
#ifndef REFIR_BRIDGE_GRPC_API_SUBSCRIBE_REACTOR_H_
#define REFIR_BRIDGE_GRPC_API_SUBSCRIBE_REACTOR_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bridge/delivery/outgoing_batch.h"
#include "bridge/delivery/stream_feed.h"
#include "bridge/delivery/wakeup_hub.h"
#include "bridge/grpc_api/forwarding_subscribe_reactor.h"
#include "bridge/grpc_api/stream_limits.h"
#include "bridge/journal/journal.h"
#include "grpc/slice.h"
#include "grpcpp/grpcpp.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

namespace refir::bridge {

// What an accepted init produces: the feed and the confirm to send.
struct FeedSetup {
  std::unique_ptr<StreamFeed> feed;
  v1::SubscribeConfirm confirm;
  // From SubscribeInit.heartbeat_seconds or StreamLimits' default.
  absl::Duration heartbeat_interval;
};

// Validates an init and builds the stream's feed. `wakeable` is the stream,
// valid until the feed is closed.
using FeedFactory = std::function<absl::StatusOr<FeedSetup>(
    const v1::SubscribeInit& init, Wakeable* wakeable, const std::string& peer)>;

// Decides whether a stream whose init is `init` is proxied to another
// replica: a proxy for `downstream` (not started yet), null to serve the
// stream here, or an error to end it with.
using ProxyFactory = std::function<absl::StatusOr<std::unique_ptr<ForwardingSubscribeReactor>>(
    const v1::SubscribeInit& init,
    grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* downstream)>;

class SubscribeReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                               public Wakeable {
 public:
  // `on_done` runs in OnDone, just before the reactor deletes itself.
  // `proxy_factory` may be empty (never proxy).
  SubscribeReactor(Journal* journal, WakeupHub* hub, FeedFactory factory, std::string peer,
                   const StreamLimits& limits, std::function<void(SubscribeReactor*)> on_done,
                   ProxyFactory proxy_factory = nullptr);

  // Ends the stream with `status` (after the write in flight, if any; a
  // proxied stream once its forwarded call is cancelled).
  // Thread-safe; later calls are ignored.
  void Abort(const grpc::Status& status);

  // Wakeable: something the stream waits for may have happened.
  void Wake() override;

 private:
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  // The proxy, once the stream is proxied; null before and otherwise.
  ForwardingSubscribeReactor* Proxy() ABSL_LOCKS_EXCLUDED(mu_);
  void HandleRequestLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Proxies the stream if proxy_factory_ says so; true when it did or
  // ended the stream.
  bool MaybeProxyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts writing `write_buffer_`.
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Serializes `response` into `write_buffer_` and writes it.
  void WriteMessageLocked(const v1::SubscribeResponse& response) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a settle result, counting its bytes.
  void QueueResultLocked(v1::SettleResult result) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True while the queued replies are over the count or byte bound.
  bool OutboxFullLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Journal* const journal_;
  WakeupHub* const hub_;
  const FeedFactory factory_;
  const std::string peer_;
  const StreamLimits limits_;
  std::function<void(SubscribeReactor*)> on_done_;
  const ProxyFactory proxy_factory_;

  absl::Mutex mu_;
  grpc::ByteBuffer read_buffer_;  // Owned by the read in flight.
  v1::SubscribeRequest request_ ABSL_GUARDED_BY(mu_);
  // The first request's bytes, kept for a proxy (parsing empties read_buffer_).
  grpc::ByteBuffer first_request_ ABSL_GUARDED_BY(mu_);
  // Set once, when the stream is proxied; lives until OnDone.
  std::unique_ptr<ForwardingSubscribeReactor> proxy_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer write_buffer_ ABSL_GUARDED_BY(mu_);  // Owned by the write in flight.
  OutgoingBatch batch_ ABSL_GUARDED_BY(mu_);            // Reused by every Pull.
  std::unique_ptr<StreamFeed> feed_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::SubscribeResponse> outbox_ ABSL_GUARDED_BY(mu_);
  size_t outbox_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // Serialized size of outbox_.
  // Set with feed_ (FeedSetup).
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_);
  absl::Time last_write_ ABSL_GUARDED_BY(mu_);
  bool reading_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> pending_finish_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_SUBSCRIBE_REACTOR_H_
