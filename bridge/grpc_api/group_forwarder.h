// GroupForwarder: on a standby replica of the JetStream journal, sends
// consumer-group calls on to the replica that serves the groups, so that a
// client may reach any replica. It keeps one gRPC channel to the serving
// replica's advertised address (a new one when the address changes), builds
// the client context of a forwarded call (the caller's deadline and
// cancellation, its `authorization` metadata, and kForwardedByKey), and
// forwards unary calls, finishing them with the serving replica's answer and
// status unchanged. Subscribe streams are proxied by
// ForwardingSubscribeReactor over the same channel.
//
// Loop guard: a call that carries kForwardedByKey is never forwarded again;
// the replica that gets it answers it itself (UNAVAILABLE if it does not
// serve the groups either).
#ifndef REFIR_BRIDGE_GRPC_API_GROUP_FORWARDER_H_
#define REFIR_BRIDGE_GRPC_API_GROUP_FORWARDER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

namespace refir::bridge {

// Metadata key of a forwarded call; its value is the forwarding replica's id.
inline constexpr char kForwardedByKey[] = "x-refir-forwarded-by";

class GroupForwarder {
 public:
  // The stub's callback interface (the class, not the Stub::async() method).
  using AsyncStub = class v1::EventStream::Stub::async;

  // `replica_id` is sent in kForwardedByKey. `credentials` are those of the
  // channels to peers (grpc::InsecureChannelCredentials() when the bridges
  // serve plaintext gRPC).
  GroupForwarder(std::string replica_id, std::shared_ptr<grpc::ChannelCredentials> credentials);

  // Where the serving replica is: its advertised gRPC address when it is
  // another replica, "" when this replica serves the groups or none is
  // known. Until set, nothing is forwarded. Thread-safe.
  void SetServingAddress(std::function<std::string()> serving_address) ABSL_LOCKS_EXCLUDED(mu_);

  // The channel to forward a group call received with `context` on, or null
  // when the call is answered here: it was forwarded already (loop guard),
  // this replica serves the groups, or no serving replica is known.
  std::shared_ptr<grpc::Channel> Target(const grpc::CallbackServerContext& context)
      ABSL_LOCKS_EXCLUDED(mu_);

  // A client context for forwarding the call of `context` (see above).
  std::unique_ptr<grpc::ClientContext> ForwardContext(
      const grpc::CallbackServerContext& context) const;

  // Starts one unary call on `stub` with `client` and `done` (called with
  // the call's status once the response is filled in).
  using UnaryStart = std::function<void(AsyncStub* stub, grpc::ClientContext* client,
                                        std::function<void(grpc::Status)> done)>;
  // Forwards the unary call of `context` on `channel` (from Target) and
  // returns the reactor that finishes it with the peer's status.
  grpc::ServerUnaryReactor* ForwardUnary(grpc::CallbackServerContext* context,
                                         std::shared_ptr<grpc::Channel> channel,
                                         const UnaryStart& start);

  // ForwardUnary for one generated method, e.g.
  //   Forward(context, channel, &v1::EventStream::Stub::async::GetConsumerGroup,
  //           request, response)
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Forward(
      grpc::CallbackServerContext* context, std::shared_ptr<grpc::Channel> channel,
      void (v1::EventStream::Stub::async::*method)(grpc::ClientContext*, const Request*, Response*,
                                                   std::function<void(grpc::Status)>),
      const Request* request, Response* response) {
    return ForwardUnary(context, std::move(channel),
                        [method, request, response](AsyncStub* stub, grpc::ClientContext* client,
                                                    std::function<void(grpc::Status)> done) {
                          (stub->*method)(client, request, response, std::move(done));
                        });
  }

  // Counts one forwarded call or stream.
  void CountForwarded() { forwarded_.fetch_add(1, std::memory_order_relaxed); }
  // Calls and streams forwarded so far.
  uint64_t forwarded() const { return forwarded_.load(std::memory_order_relaxed); }

 private:
  const std::string replica_id_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::atomic<uint64_t> forwarded_{0};

  absl::Mutex mu_;
  std::function<std::string()> serving_address_ ABSL_GUARDED_BY(mu_);
  std::string address_ ABSL_GUARDED_BY(mu_);  // Of channel_.
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_GROUP_FORWARDER_H_
