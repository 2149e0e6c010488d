// StreamFeed: what one Subscribe stream delivers from and settles to. The
// gRPC reactor only talks to this interface: a TailFeed for ephemeral streams
// (a cursor over the journal), a GroupFeed for a member of a consumer group.
#ifndef REFIR_BRIDGE_DELIVERY_STREAM_FEED_H_
#define REFIR_BRIDGE_DELIVERY_STREAM_FEED_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/delivery/outgoing_batch.h"
#include "refir/bridge/v1/event_stream.pb.h"

namespace refir::bridge {

// When a stream that has nothing to send should look again: once the
// journal head reaches `sequence`, or at `deadline`, whichever comes first.
struct FeedWait {
  uint64_t sequence = UINT64_MAX;
  absl::Time deadline = absl::InfiniteFuture();
};

class StreamFeed {
 public:
  virtual ~StreamFeed() = default;

  // Adds the deliveries to send now to `batch`, which is empty (at most one
  // batch, within the stream's window); adds nothing when there is nothing
  // to send yet. On an error, `batch` holds what may still be sent.
  virtual absl::Status Pull(absl::Time now, OutgoingBatch* batch) = 0;

  // What to wait for after Pull returned nothing.
  virtual FeedWait NextWait(absl::Time now) = 0;

  // Applies acks and nacks; fills `result`.
  virtual void Settle(const v1::Settle& settle, absl::Time now, v1::SettleResult* result) = 0;

  // Extends deadlines; fills `result`.
  virtual void Extend(const v1::ExtendDeadline& extend, absl::Time now,
                      v1::SettleResult* result) = 0;

  // Resizes the window of unacked deliveries.
  virtual absl::Status SetMaxOutstanding(int max_outstanding) = 0;

  // The stream is gone: its unacked deliveries become due for redelivery.
  // Called once, last.
  virtual void Close(absl::Time now) = 0;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_STREAM_FEED_H_
