// JetStreamFollower: follows the head of the journal's stream with an
// ordered push consumer (no acks, in stream order, recreated by cnats after
// a gap or a reconnect), so each replica learns of events appended by every
// replica. Each event is handed to `on_event` with its stream sequence, in
// ascending order without gaps from the start sequence on.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_FOLLOWER_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_FOLLOWER_H_

#include <nats/nats.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/journal/jetstream/nats_handles.h"

namespace refir::bridge::jetstream {

class JetStreamFollower {
 public:
  // Runs on the subscription's thread, one event at a time.
  using EventCallback = std::function<void(uint64_t sequence, absl::string_view bytes)>;

  // Starts following `stream` (subjects `<subject_prefix>.>`) from
  // `start_sequence`. `connection` is not owned and must outlive it.
  static absl::StatusOr<std::unique_ptr<JetStreamFollower>> Start(natsConnection* connection,
                                                                  const std::string& stream,
                                                                  const std::string& subject_prefix,
                                                                  uint64_t start_sequence,
                                                                  EventCallback on_event);

  explicit JetStreamFollower(EventCallback on_event) : on_event_(std::move(on_event)) {}
  ~JetStreamFollower() { Stop(); }

  JetStreamFollower(const JetStreamFollower&) = delete;
  JetStreamFollower& operator=(const JetStreamFollower&) = delete;

  // Unsubscribes and waits until no callback runs. Idempotent.
  void Stop();

 private:
  static void OnMessage(natsConnection* connection, natsSubscription* subscription, natsMsg* msg,
                        void* closure);

  const EventCallback on_event_;
  JsContextPtr js_;
  NatsSubscriptionPtr subscription_;
};

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_FOLLOWER_H_
