// SubscribeReactor: the server side of one EventStream.Subscribe stream
// (gRPC callback API). Reads the init, then pumps batches from a journal
// cursor with exactly one write in flight; parks on the WakeupHub when it has
// caught up with the journal head and resumes when new events are durable.
#ifndef REFIR_BRIDGE_GRPC_API_SUBSCRIBE_REACTOR_H_
#define REFIR_BRIDGE_GRPC_API_SUBSCRIBE_REACTOR_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "bridge/delivery/journal_tail.h"
#include "bridge/delivery/wakeup_hub.h"
#include "bridge/grpc_api/stream_limits.h"
#include "bridge/journal/journal.h"
#include "grpcpp/grpcpp.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

namespace refir::bridge {

class SubscribeReactor final
    : public grpc::ServerBidiReactor<v1::SubscribeRequest, v1::SubscribeResponse>,
      public Wakeable {
 public:
  // `on_done` runs in OnDone, just before the reactor deletes itself.
  SubscribeReactor(Journal* journal, WakeupHub* hub, StreamLimits limits, std::string peer,
                   std::function<void(SubscribeReactor*)> on_done);

  // Ends the stream with `status` (after the write in flight, if any).
  // Thread-safe; later calls are ignored.
  void Abort(const grpc::Status& status);

  // Wakeable: new events may be readable.
  void Wake() override;

 private:
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  void HandleInit(const v1::SubscribeInit& init) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the next write if none is in flight and events are ready; parks
  // on the hub when caught up.
  void Pump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls Finish once, or defers it until the write in flight completes.
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Journal* const journal_;
  WakeupHub* const hub_;
  const StreamLimits limits_;
  const std::string peer_;
  std::function<void(SubscribeReactor*)> on_done_;

  absl::Mutex mu_;
  v1::SubscribeRequest request_;  // Owned by the read in flight.
  v1::SubscribeResponse response_ ABSL_GUARDED_BY(mu_);  // Owned by the write in flight.
  std::optional<JournalTail> tail_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> pending_finish_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_SUBSCRIBE_REACTOR_H_
