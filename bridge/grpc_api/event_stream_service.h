// EventStreamService: the refir.bridge.v1.EventStream gRPC service (callback
// API): Subscribe streams (ephemeral or in a consumer group), ListEvents paged
// replay, GetEvent lookups, and the consumer-group admin RPCs. With a
// TokenAuthorizer, every EventStream call needs a bearer token, and calls that
// name a consumer group need a token allowed that group (health checking and
// reflection are other services and stay open). With a GroupForwarder (a
// JetStream standby), consumer-group calls are checked here first, then
// forwarded to the replica serving the groups: the admin RPCs as calls,
// Subscribe in a group as a proxied stream.
#ifndef REFIR_BRIDGE_GRPC_API_EVENT_STREAM_SERVICE_H_
#define REFIR_BRIDGE_GRPC_API_EVENT_STREAM_SERVICE_H_

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "bridge/delivery/consumer_groups.h"
#include "bridge/delivery/wakeup_hub.h"
#include "bridge/grpc_api/group_forwarder.h"
#include "bridge/grpc_api/stream_limits.h"
#include "bridge/grpc_api/subscribe_reactor.h"
#include "bridge/grpc_api/token_authorizer.h"
#include "bridge/journal/journal.h"
#include "grpcpp/grpcpp.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

namespace refir::bridge {

class SubscribeReactor;

// The generated CallbackService, except that Subscribe is raw (its messages
// are grpc::ByteBuffer): a stream writes its DeliveryBatch bytes itself,
// around the events as the journal stores them (see OutgoingBatch), instead
// of parsing every event and serializing it again. The wire format is
// unchanged.
using EventStreamServiceBase = v1::EventStream::WithRawCallbackMethod_Subscribe<
    v1::EventStream::WithCallbackMethod_ListEvents<v1::EventStream::WithCallbackMethod_GetEvent<
        v1::EventStream::WithCallbackMethod_GetConsumerGroup<
            v1::EventStream::WithCallbackMethod_ListConsumerGroups<
                v1::EventStream::WithCallbackMethod_SeekConsumerGroup<
                    v1::EventStream::WithCallbackMethod_ListDeadLetters<
                        v1::EventStream::WithCallbackMethod_RequeueDeadLetters<
                            v1::EventStream::WithCallbackMethod_DeleteConsumerGroup<
                                v1::EventStream::Service>>>>>>>>>;

class EventStreamService final : public EventStreamServiceBase {
 public:
  // `journal`, `hub`, `groups`, `authorizer` and `forwarder` must outlive
  // the service and every stream. A null `authorizer` means no tokens are
  // required; a null `forwarder` that group calls are always answered here.
  EventStreamService(Journal* journal, WakeupHub* hub, ConsumerGroups* groups,
                     StreamLimits limits = {}, const TokenAuthorizer* authorizer = nullptr,
                     GroupForwarder* forwarder = nullptr);

  // Ends every open Subscribe stream with UNAVAILABLE so subscribers
  // reconnect (to another replica, or to this one after a restart), and
  // refuses new ones. Call before grpc::Server::Shutdown.
  void BeginShutdown();

  // Number of open Subscribe streams.
  size_t open_streams() const;

  // Waits until every Subscribe stream has ended or `deadline` passes;
  // true if none is left.
  bool WaitForNoStreams(absl::Time deadline) const;

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Subscribe(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* context,
                                       const v1::ListEventsRequest* request,
                                       v1::ListEventsResponse* response) override;
  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* context,
                                     const v1::GetEventRequest* request,
                                     v1::Event* response) override;
  grpc::ServerUnaryReactor* GetConsumerGroup(grpc::CallbackServerContext* context,
                                             const v1::GetConsumerGroupRequest* request,
                                             v1::ConsumerGroup* response) override;
  grpc::ServerUnaryReactor* ListConsumerGroups(grpc::CallbackServerContext* context,
                                               const v1::ListConsumerGroupsRequest* request,
                                               v1::ListConsumerGroupsResponse* response) override;
  grpc::ServerUnaryReactor* SeekConsumerGroup(grpc::CallbackServerContext* context,
                                              const v1::SeekConsumerGroupRequest* request,
                                              v1::SeekConsumerGroupResponse* response) override;
  grpc::ServerUnaryReactor* ListDeadLetters(grpc::CallbackServerContext* context,
                                            const v1::ListDeadLettersRequest* request,
                                            v1::ListDeadLettersResponse* response) override;
  grpc::ServerUnaryReactor* RequeueDeadLetters(grpc::CallbackServerContext* context,
                                               const v1::RequeueDeadLettersRequest* request,
                                               v1::RequeueDeadLettersResponse* response) override;
  grpc::ServerUnaryReactor* DeleteConsumerGroup(grpc::CallbackServerContext* context,
                                                const v1::DeleteConsumerGroupRequest* request,
                                                google::protobuf::Empty* response) override;

 private:
  // Who is calling: UNAUTHENTICATED when tokens are required and the call has
  // no valid one; unrestricted when tokens are off.
  absl::StatusOr<Access> Authenticate(const grpc::CallbackServerContext& context) const;
  // Authenticate, then check that the caller may use consumer group `name`
  // (PERMISSION_DENIED otherwise).
  absl::Status AuthorizeGroup(const grpc::CallbackServerContext& context,
                              const std::string& name) const;
  // The channel to forward a group call on, or null to answer it here.
  std::shared_ptr<grpc::Channel> ForwardTarget(const grpc::CallbackServerContext& context) const;
  // For a Subscribe stream of `context`: a proxy when `init` joins a group
  // that another replica serves (after checking `access` to it), else null.
  absl::StatusOr<std::unique_ptr<ForwardingSubscribeReactor>> MakeProxy(
      const v1::SubscribeInit& init, grpc::CallbackServerContext* context, const Access& access,
      grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* downstream);
  // Validates an init and builds the feed of a new stream for `access`.
  absl::StatusOr<FeedSetup> MakeFeed(const v1::SubscribeInit& init, Wakeable* wakeable,
                                     const std::string& peer, const Access& access);
  absl::Status DoListEvents(const v1::ListEventsRequest& request, v1::ListEventsResponse* response);
  absl::Status DoGetEvent(const v1::GetEventRequest& request, v1::Event* response);
  // Paging and validation of the admin RPCs (event_stream_admin.cc).
  absl::Status DoListConsumerGroups(const Access& access,
                                    const v1::ListConsumerGroupsRequest& request,
                                    v1::ListConsumerGroupsResponse* response);
  absl::Status DoListDeadLetters(const v1::ListDeadLettersRequest& request,
                                 v1::ListDeadLettersResponse* response);

  Journal* const journal_;
  WakeupHub* const hub_;
  ConsumerGroups* const groups_;
  const StreamLimits limits_;
  const TokenAuthorizer* const authorizer_;
  GroupForwarder* const forwarder_;

  mutable absl::Mutex mu_;
  absl::flat_hash_set<SubscribeReactor*> streams_ ABSL_GUARDED_BY(mu_);
  // Atomic, not under mu_: MakeFeed runs under a reactor's lock, and
  // BeginShutdown takes reactor locks while holding mu_.
  std::atomic<bool> shutting_down_{false};
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_EVENT_STREAM_SERVICE_H_
