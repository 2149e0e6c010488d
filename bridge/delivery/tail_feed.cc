#include "bridge/delivery/tail_feed.h"

#include <utility>

#include "bridge/common/status_macros.h"
#include "bridge/delivery/settle_result.h"

namespace refir::bridge {

TailFeed::TailFeed(Journal* journal, uint64_t start_sequence, size_t max_batch, size_t max_bytes)
    : tail_(journal, start_sequence, max_batch, max_bytes) {}

absl::Status TailFeed::Pull(absl::Time, OutgoingBatch* batch) { return tail_.Next(batch); }

FeedWait TailFeed::NextWait(absl::Time) {
  FeedWait wait;
  wait.sequence = tail_.next_sequence();
  return wait;
}

void TailFeed::Settle(const v1::Settle& settle, absl::Time, v1::SettleResult* result) {
  for (const std::string& id : settle.ack_ids()) AddUnknownAckId(id, result);
  for (const v1::Nack& nack : settle.nacks()) AddUnknownAckId(nack.ack_id(), result);
}

void TailFeed::Extend(const v1::ExtendDeadline& extend, absl::Time, v1::SettleResult* result) {
  for (const std::string& id : extend.ack_ids()) AddUnknownAckId(id, result);
}

absl::Status TailFeed::SetMaxOutstanding(int) { return absl::OkStatus(); }

void TailFeed::Close(absl::Time) {}

}  // namespace refir::bridge
