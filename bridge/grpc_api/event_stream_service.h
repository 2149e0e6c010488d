// EventStreamService: the refir.bridge.v1.EventStream gRPC service (callback
// API): Subscribe streams, ListEvents paged replay and GetEvent lookups, all
// served from the Journal.
#ifndef REFIR_BRIDGE_GRPC_API_EVENT_STREAM_SERVICE_H_
#define REFIR_BRIDGE_GRPC_API_EVENT_STREAM_SERVICE_H_

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "bridge/delivery/wakeup_hub.h"
#include "bridge/grpc_api/stream_limits.h"
#include "bridge/journal/journal.h"
#include "grpcpp/grpcpp.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

namespace refir::bridge {

class SubscribeReactor;

class EventStreamService final : public v1::EventStream::CallbackService {
 public:
  // `journal` and `hub` must outlive the service and every stream on it.
  EventStreamService(Journal* journal, WakeupHub* hub, StreamLimits limits = {});

  // Ends every open Subscribe stream with UNAVAILABLE so subscribers
  // reconnect (to another replica, or to this one after a restart), and
  // refuses new ones. Call before grpc::Server::Shutdown.
  void BeginShutdown();

  // Number of open Subscribe streams.
  size_t open_streams() const;

  grpc::ServerBidiReactor<v1::SubscribeRequest, v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* context,
                                       const v1::ListEventsRequest* request,
                                       v1::ListEventsResponse* response) override;
  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* context,
                                     const v1::GetEventRequest* request,
                                     v1::Event* response) override;

 private:
  absl::Status DoListEvents(const v1::ListEventsRequest& request,
                            v1::ListEventsResponse* response);
  absl::Status DoGetEvent(const v1::GetEventRequest& request, v1::Event* response);

  Journal* const journal_;
  WakeupHub* const hub_;
  const StreamLimits limits_;

  mutable absl::Mutex mu_;
  absl::flat_hash_set<SubscribeReactor*> streams_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_EVENT_STREAM_SERVICE_H_
