// JetStreamPublisher: the JetStream journal's append path. Each caller
// publishes its event with js_PublishMsgAsync (Nats-Msg-Id = its dedup key)
// and blocks until its own PubAck: many appends are in flight at once, which
// is what group commit is to the SQLite journal. A publish that gets no
// PubAck within the timeout, finds no stream leader ("no responders") or is
// refused fails with UNAVAILABLE (journal_unavailable); it may still have
// been stored, so a retry must reuse the same Nats-Msg-Id.
//
// Threading: thread-safe. PubAcks arrive on cnats's reply thread, which
// runs `on_acked` and then releases the caller.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_PUBLISHER_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_PUBLISHER_H_

#include <nats/nats.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "bridge/journal/jetstream/nats_handles.h"

namespace refir::bridge::jetstream {

struct PublisherOptions {
  std::string stream;  // PubAcks from another stream are refused
  absl::Duration timeout = absl::Seconds(5);
  // Publishes in flight at most; one more waits up to `timeout` for room.
  size_t max_pending = 4096;
};

struct Published {
  uint64_t sequence = 0;
  // The Nats-Msg-Id was seen within the duplicate window: `sequence` is the
  // original message's and nothing new was stored.
  bool duplicate = false;
};

class JetStreamPublisher {
 public:
  // Called with the sequence of each PubAck'd publish before its caller is
  // released; quick, and must not publish.
  using AckedCallback = std::function<void(uint64_t sequence)>;

  // `connection` is not owned and must outlive the publisher.
  static absl::StatusOr<std::unique_ptr<JetStreamPublisher>> Create(natsConnection* connection,
                                                                    PublisherOptions options,
                                                                    AckedCallback on_acked);

  JetStreamPublisher(PublisherOptions options, AckedCallback on_acked)
      : options_(std::move(options)), on_acked_(std::move(on_acked)) {}
  ~JetStreamPublisher() { Close(); }

  JetStreamPublisher(const JetStreamPublisher&) = delete;
  JetStreamPublisher& operator=(const JetStreamPublisher&) = delete;

  // Publishes `data` to `subject`, with header Nats-Msg-Id = `msg_id` unless
  // empty, and waits for the PubAck. UNAVAILABLE (journal_unavailable) on
  // timeout, no stream leader, a refusal, or after Close.
  absl::StatusOr<Published> Publish(const std::string& subject, const std::string& msg_id,
                                    absl::string_view data) ABSL_LOCKS_EXCLUDED(mu_);

  // False for a second after a publish failed, and after Close. A publish
  // refused because the client is not connected does not count: the
  // connection's own state says that, and turns back by itself on the
  // reconnect.
  bool healthy() const;

  // Refuses new publishes, waits (up to the timeout) for the PubAcks of
  // those in flight, then for their callers to return. Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Pending {
    absl::Notification done;
    absl::Status status;
    Published result;
  };

  static void OnPubAck(jsCtx* js, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure);
  void Complete(natsMsg* msg, const jsPubAck* ack, const jsPubAckErr* error)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Takes `msg`'s entry out of pending_; null when the ack handler has it.
  Pending* Unregister(natsMsg* msg) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Unavailable(absl::string_view why) const;

  const PublisherOptions options_;
  const AckedCallback on_acked_;
  JsContextPtr js_;

  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_failure_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Callers inside Publish (Close waits for none).
  size_t callers_ ABSL_GUARDED_BY(mu_) = 0;
  // Keyed by the message handed to cnats: its ack handler gets it back.
  absl::flat_hash_map<natsMsg*, Pending*> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_PUBLISHER_H_
