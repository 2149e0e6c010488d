// TailFeed: the StreamFeed of an ephemeral stream (no consumer group): reads
// the journal from a start sequence, nothing to acknowledge.
#ifndef REFIR_BRIDGE_DELIVERY_TAIL_FEED_H_
#define REFIR_BRIDGE_DELIVERY_TAIL_FEED_H_

#include "bridge/delivery/journal_tail.h"
#include "bridge/delivery/stream_feed.h"

namespace refir::bridge {

class TailFeed final : public StreamFeed {
 public:
  TailFeed(Journal* journal, uint64_t start_sequence, size_t max_batch, size_t max_bytes);

  absl::Status Pull(absl::Time now, OutgoingBatch* batch) override;
  FeedWait NextWait(absl::Time now) override;
  // Ephemeral deliveries have no ack ids: every id is reported unknown.
  void Settle(const v1::Settle& settle, absl::Time now, v1::SettleResult* result) override;
  void Extend(const v1::ExtendDeadline& extend, absl::Time now, v1::SettleResult* result) override;
  absl::Status SetMaxOutstanding(int max_outstanding) override;
  void Close(absl::Time now) override;

 private:
  JournalTail tail_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_TAIL_FEED_H_
