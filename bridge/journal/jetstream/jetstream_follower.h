// JetStreamFollower: follows the head of the journal's stream with an
// ordered push consumer (no acks, in stream order), so each replica learns
// of events appended by every replica. Each event is handed to `on_event`
// with its stream sequence, in ascending order; sequences are skipped only
// where the stream holds no event (deleted by its limits).
//
// Memory is bounded: at most `FollowerLimits` of received events wait for
// the callback. When the callback falls further behind, cnats drops what
// does not fit, and its ordered consumer does not notice (cnats 3.4.1
// records a message as delivered before its pending-limit check, so it
// never re-requests a dropped one). The follower does: an event after a
// skipped sequence, or an idle subscription, while cnats reports drops
// makes it subscribe anew from the sequence after the last one it handed
// out. Events are re-read from the stream, never lost.
//
// Threading: one thread of the follower's own reads the subscription and
// runs the callback; Stop() may be called from any other thread. It
// returns once a read under way timed out (at most 100 ms) and the
// subscription ended (one round trip to the server, none while
// disconnected).
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_FOLLOWER_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_FOLLOWER_H_

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "bridge/journal/jetstream/nats_handles.h"

namespace refir::bridge::jetstream {

// How much received but not yet handled the follower may hold. The bytes
// are raised to twice the connection's max payload when lower, so one
// event always fits. cnats sets them just after the subscription starts;
// what arrives before that is held under its defaults (65,536 messages,
// 64 MiB), and the server's flow control sends at most 2 MiB at first.
struct FollowerLimits {
  int messages = 65536;
  int bytes = 8 << 20;
};

class JetStreamFollower {
 public:
  // Runs on the follower's thread, one event at a time.
  using EventCallback = std::function<void(uint64_t sequence, absl::string_view bytes)>;

  // Starts following `stream` (subjects `<subject_prefix>.>`) from
  // `start_sequence`. `connection` is not owned and must outlive it.
  static absl::StatusOr<std::unique_ptr<JetStreamFollower>> Start(
      natsConnection* connection, const std::string& stream, const std::string& subject_prefix,
      uint64_t start_sequence, FollowerLimits limits, EventCallback on_event);

  // Use Start().
  JetStreamFollower(natsConnection* connection, std::string stream, std::string subject_prefix,
                    FollowerLimits limits, EventCallback on_event);
  ~JetStreamFollower() { Stop(); }

  JetStreamFollower(const JetStreamFollower&) = delete;
  JetStreamFollower& operator=(const JetStreamFollower&) = delete;

  // Stops reading and waits until the callback no longer runs. Idempotent;
  // not from the callback, nor from two threads at once.
  void Stop();

  // Events cnats dropped for want of room, over every subscription so far.
  int64_t dropped() const;
  // Subscriptions made anew after drops (or after a subscription failed).
  int64_t restarts() const { return restarts_.load(std::memory_order_relaxed); }

 private:
  // A new ordered consumer from `start_sequence`, with the pending limits.
  absl::StatusOr<NatsSubscriptionPtr> Subscribe(uint64_t start_sequence);
  // The follower's thread: Follow(), then ends the subscription.
  void Run(uint64_t next_sequence);
  // Reads, hands out, resubscribes when needed; returns when stopped.
  void Follow(uint64_t next_sequence);
  // Replaces the subscription with one from `next_sequence`, retrying until
  // it works or Stop() is called. False when stopped.
  bool Resubscribe(uint64_t next_sequence, absl::string_view why);
  natsSubscription* current() const ABSL_LOCKS_EXCLUDED(mu_);
  // Takes the subscription out (adding up its drops) for End().
  NatsSubscriptionPtr TakeSubscription() ABSL_LOCKS_EXCLUDED(mu_);
  // Ends `subscription` and deletes its consumer (end_subscription.h).
  void End(NatsSubscriptionPtr subscription);

  natsConnection* const connection_;
  const std::string stream_;
  const std::string subject_prefix_;
  const FollowerLimits limits_;
  const EventCallback on_event_;
  JsContextPtr js_;
  std::atomic<int64_t> restarts_{0};
  // The current subscription's consumer, as its events name it. Used only
  // by the follower's thread (by Stop() once that has ended).
  std::string consumer_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Replaced and ended only by the follower's thread (by Stop() once that
  // has ended).
  NatsSubscriptionPtr subscription_ ABSL_GUARDED_BY(mu_);
  // Drops counted by the subscriptions already replaced.
  int64_t dropped_before_ ABSL_GUARDED_BY(mu_) = 0;

  std::thread thread_;
};

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_FOLLOWER_H_
