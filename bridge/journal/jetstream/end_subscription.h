// EndSubscription: the one way the journal ends a JetStream subscription
// (an ordered consumer's), around two races of cnats 3.4.1 that ASan caught:
//
// - natsSubscription_Unsubscribe deletes the consumer cnats created after
//   reading its name unlocked, while the thread cnats starts to recreate an
//   ordered consumer after a reconnect may free that name
//   (jsSub_deleteConsumer against _recreateOrderedCons).
// - Unsubscribing and freeing at once (natsSubscription_Destroy alone) frees
//   the subscription while the connection's reader may hold it: it looks
//   the subscription up and uses it without a reference of its own
//   (natsConn_processMsg), so a message arriving just then touches freed
//   memory.
//
// So: stop the interest without cnats deleting anything, wait one round trip
// of the connection (the reader has then handled everything sent before),
// and only then free. The consumer is deleted by the name the caller copied
// from its messages; without one, the server deletes an ephemeral consumer
// that has had no interest for about 5 s.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_END_SUBSCRIPTION_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_END_SUBSCRIPTION_H_

#include <nats/nats.h>

#include <string>

#include "absl/time/time.h"
#include "bridge/journal/jetstream/nats_handles.h"

namespace refir::bridge::jetstream {

// Ends `subscription` (null: nothing to do) of `stream` and deletes its
// consumer named `consumer` (empty: unknown). Waits at most `timeout` for
// the server, and not at all while `connection` is not connected (its reader
// does not run then). Best effort: a failure leaves the consumer to the
// server's cleanup.
//
// A subscription that never handed out a message cannot be unsubscribed
// without being freed at once in cnats 3.4.1; the server then sends it at
// most one more message, and only one arriving during the free can still
// meet the second race.
void EndSubscription(natsConnection* connection, jsCtx* js, const std::string& stream,
                     NatsSubscriptionPtr subscription, const std::string& consumer,
                     absl::Duration timeout);

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_END_SUBSCRIPTION_H_
