#include "bridge/delivery/consumer_group.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "bridge/common/log.h"
#include "bridge/common/proto_time.h"
#include "bridge/common/proto_wire.h"
#include "bridge/delivery/ack_id.h"
#include "bridge/delivery/settle_result.h"

namespace refir::bridge {
namespace {

constexpr size_t kMaxReasonBytes = 1024;
// Journal reads per Pull when the filter skips most events, to bound the
// time one Pull holds the group.
constexpr int kMaxReadsPerPull = 8;

// At startup, a group idle for longer than its idle expiry still gets
// this long (or its idle expiry, if shorter) for a stream to attach.
constexpr absl::Duration kIdleGraceAfterStart = absl::Minutes(10);

// The ordering key of a stored event, read without parsing it.
absl::string_view OrderingKeyOf(absl::string_view stored_event) {
  return wire::FindLengthDelimitedField(stored_event, v1::Event::kOrderingKeyFieldNumber);
}

absl::Time FromUnixMicrosOr(int64_t micros, absl::Time fallback) {
  return micros == 0 ? fallback : absl::FromUnixMicros(micros);
}

}  // namespace

ConsumerGroup::ConsumerGroup(internal::GroupState state, EventFilter filter, Journal* journal,
                             uint32_t epoch, absl::Time now)
    : name_(state.name()),
      filter_(std::move(filter)),
      max_delivery_attempts_(state.max_delivery_attempts()),
      retry_policy_(RetryPolicyFromState(state)),
      ordered_(state.enable_ordering()),
      idle_expiry_(absl::Nanoseconds(state.idle_expiry_nanos())),
      created_at_unix_micros_(state.created_at_unix_micros()),
      journal_(journal),
      epoch_(epoch),
      cursor_(std::max<uint64_t>(state.cursor(), 1)),
      redelivered_total_(state.redelivered_total()),
      last_attached_(FromUnixMicrosOr(state.last_attached_unix_micros(),
                                      absl::FromUnixMicros(state.created_at_unix_micros()))),
      last_acked_(FromUnixMicrosOr(state.last_acked_unix_micros(), absl::InfinitePast())) {
  // Consumers get a moment to come back after a restart before an idle
  // expiry that ran out while the bridge was down deletes the group.
  if (idle_expiry_ > absl::ZeroDuration()) {
    last_attached_ =
        std::max(last_attached_, now - idle_expiry_ + std::min(idle_expiry_, kIdleGraceAfterStart));
  }
  const int count = std::min(state.unsettled_sequences_size(), state.unsettled_attempts_size());
  for (int i = 0; i < count; ++i) {
    Unsettled entry;
    entry.attempts = state.unsettled_attempts(i);
    entry.not_before = now;
    const uint64_t sequence = state.unsettled_sequences(i);
    unsettled_[sequence] = entry;
    due_.emplace(now, sequence);
  }
}

StreamId ConsumerGroup::Attach(MemberSettings settings) {
  absl::MutexLock lock(&mu_);
  const StreamId id = next_stream_id_++;
  last_attached_ = std::max(last_attached_, settings.connected_at);
  dirty_ = true;
  members_[id] = Member{std::move(settings), 0};
  return id;
}

std::vector<Wakeable*> ConsumerGroup::Detach(StreamId stream, absl::Time now) {
  absl::MutexLock lock(&mu_);
  // RetryOrDeadLetterLocked may erase entries (dead letters), which
  // invalidates iterators: collect first.
  std::vector<uint64_t> leased;
  for (const auto& [sequence, entry] : unsettled_) {
    if (entry.leased && entry.stream == stream) leased.push_back(sequence);
  }
  for (uint64_t sequence : leased) {
    auto it = unsettled_.find(sequence);
    ReleaseLeaseLocked(it);
    RetryOrDeadLetterLocked(it, now, /*force_dead_letter=*/false,
                            "consumer disconnected with the event unacked; max delivery "
                            "attempts reached",
                            now);
  }
  members_.erase(stream);
  last_attached_ = std::max(last_attached_, now);
  dirty_ = true;
  std::vector<Wakeable*> wake;
  if (leased.empty()) return wake;
  for (auto& [id, member] : members_) {
    if (member.settings.wakeable != nullptr) wake.push_back(member.settings.wakeable);
  }
  return wake;
}

bool ConsumerGroup::IdleExpired(absl::Time now) const {
  if (idle_expiry_ <= absl::ZeroDuration()) return false;
  absl::MutexLock lock(&mu_);
  return members_.empty() && now - last_attached_ >= idle_expiry_;
}

size_t ConsumerGroup::member_count() const {
  absl::MutexLock lock(&mu_);
  return members_.size();
}

void ConsumerGroup::ReleaseLeaseLocked(UnsettledMap::iterator it) {
  Unsettled& entry = it->second;
  leases_.erase({entry.deadline, it->first});
  auto member = members_.find(entry.stream);
  if (member != members_.end()) --member->second.outstanding;
  entry.leased = false;
  entry.stream = 0;
  dirty_ = true;
}

absl::Time ConsumerGroup::BackoffUntilLocked(const Unsettled& entry, absl::Time now) const {
  if (!retry_policy_.has_value()) return now;
  // The next delivery is redelivery number `attempts`.
  return now + BackoffDelay(*retry_policy_, entry.attempts);
}

void ConsumerGroup::RetryOrDeadLetterLocked(UnsettledMap::iterator it, absl::Time not_before,
                                            bool force_dead_letter, const std::string& reason,
                                            absl::Time now) {
  Unsettled& entry = it->second;
  if (force_dead_letter || entry.attempts >= max_delivery_attempts_) {
    internal::DeadLetterRecord record;
    record.set_sequence(it->first);
    record.set_delivery_attempts(entry.attempts);
    record.set_reason(reason.substr(0, kMaxReasonBytes));
    record.set_dead_lettered_at_unix_micros(absl::ToUnixMicros(now));
    added_dead_letters_.push_back(std::move(record));
    ForgetLocked(it, now);
  } else {
    entry.not_before = not_before;
    due_.emplace(not_before, it->first);
  }
  dirty_ = true;
}

bool ConsumerGroup::HoldForKeyLocked(uint64_t sequence, Unsettled& entry, absl::string_view key) {
  entry.key_known = true;
  if (key.empty()) return false;
  std::string owned_key(key);
  auto [queue, created] = keys_.try_emplace(owned_key);
  key_of_[sequence] = std::move(owned_key);
  if (created || queue->second.active == sequence) {
    queue->second.active = sequence;
    return false;
  }
  queue->second.held.insert(sequence);
  entry.held = true;
  ++held_count_;
  return true;
}

void ConsumerGroup::ForgetLocked(UnsettledMap::iterator it, absl::Time now) {
  const uint64_t sequence = it->first;
  unsettled_.erase(it);
  dirty_ = true;
  if (!ordered_) return;
  auto key = key_of_.find(sequence);
  if (key == key_of_.end()) return;
  auto queue = keys_.find(key->second);
  key_of_.erase(key);
  if (queue == keys_.end()) return;
  KeyQueue& waiting = queue->second;
  if (waiting.active != sequence) {
    held_count_ -= waiting.held.erase(sequence);
    return;
  }
  // The lowest held event of the key becomes due.
  while (!waiting.held.empty()) {
    const uint64_t next = *waiting.held.begin();
    waiting.held.erase(waiting.held.begin());
    --held_count_;
    auto entry = unsettled_.find(next);
    if (entry == unsettled_.end()) continue;
    waiting.active = next;
    entry->second.held = false;
    entry->second.not_before = now;
    due_.emplace(now, next);
    return;
  }
  keys_.erase(queue);
}

void ConsumerGroup::ExpireLeasesLocked(absl::Time now) {
  while (!leases_.empty() && leases_.begin()->first <= now) {
    // The backoff runs from the deadline, however late this call notices it.
    const absl::Time deadline = leases_.begin()->first;
    auto it = unsettled_.find(leases_.begin()->second);
    if (it == unsettled_.end()) {
      leases_.erase(leases_.begin());
      continue;
    }
    ReleaseLeaseLocked(it);
    RetryOrDeadLetterLocked(it, BackoffUntilLocked(it->second, deadline),
                            /*force_dead_letter=*/false,
                            absl::StrCat("ack deadline passed; max delivery attempts (",
                                         max_delivery_attempts_, ") reached"),
                            now);
  }
}

void ConsumerGroup::AddDeliveryLocked(StreamId stream, Member& member, uint64_t sequence,
                                      Unsettled& entry, absl::Time now,
                                      absl::string_view stored_event, OutgoingBatch* batch) {
  if (entry.attempts > 0) ++redelivered_total_;
  ++entry.attempts;
  entry.leased = true;
  entry.stream = stream;
  entry.delivery = next_delivery_++;
  entry.deadline = now + member.settings.ack_deadline;
  leases_.emplace(entry.deadline, sequence);
  ++member.outstanding;
  dirty_ = true;
  ack_id_scratch_.clear();
  AckId{epoch_, sequence, entry.delivery}.AppendTo(&ack_id_scratch_);
  batch->Add(sequence, ack_id_scratch_, entry.attempts, stored_event);
}

absl::Status ConsumerGroup::Pull(StreamId stream, absl::Time now, OutgoingBatch* batch) {
  absl::MutexLock lock(&mu_);
  ExpireLeasesLocked(now);
  auto member_it = members_.find(stream);
  if (member_it == members_.end()) return absl::OkStatus();
  Member& member = member_it->second;
  int room =
      std::min(member.settings.max_outstanding - member.outstanding, member.settings.max_batch);
  if (members_.size() > 1 && room > 1) {
    // Fair share: when several members are ready, the first one woken must
    // not take everything. It comes back for more after its write completes.
    const uint64_t head = journal_->HeadSequence();
    const uint64_t backlog = (head >= cursor_ ? head - cursor_ + 1 : 0) + due_.size();
    const uint64_t share = (backlog + members_.size() - 1) / members_.size();
    room = static_cast<int>(std::min<uint64_t>(room, std::max<uint64_t>(share, 1)));
  }
  if (room <= 0) return absl::OkStatus();
  const size_t first = batch->size();
  const size_t bytes_before = batch->event_bytes();
  auto count = [&] { return static_cast<int>(batch->size() - first); };
  auto bytes = [&] { return batch->event_bytes() - bytes_before; };
  const size_t max_bytes = member.settings.max_batch_bytes;

  // Redeliveries that are due, oldest sequence first among those due.
  while (count() < room && bytes() < max_bytes && !due_.empty() && due_.begin()->first <= now) {
    const uint64_t sequence = due_.begin()->second;
    due_.erase(due_.begin());
    auto it = unsettled_.find(sequence);
    if (it == unsettled_.end() || it->second.leased) continue;
    bool found = false;
    const absl::Status read = journal_->VisitStored(
        sequence, 1, [&](const StoredEventView& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          if (event.sequence != sequence) return false;
          found = true;
          // Restored or requeued: its key is read now, in sequence order
          // with the others due (see the header).
          if (ordered_ && !it->second.key_known &&
              HoldForKeyLocked(sequence, it->second, OrderingKeyOf(event.bytes))) {
            return true;
          }
          AddDeliveryLocked(stream, member, sequence, it->second, now, event.bytes, batch);
          return true;
        });
    if (found) continue;
    if (!read.ok()) {
      due_.emplace(now, sequence);
      if (count() > 0) break;
      return read;
    }
    // No longer stored (retention): nothing left to deliver.
    ForgetLocked(it, now);
  }

  // Events never delivered to the group, in sequence order.
  for (int reads = 0; reads < kMaxReadsPerPull && count() < room && bytes() < max_bytes &&
                      cursor_ <= journal_->HeadSequence() && held_count_ < kMaxHeldEvents;
       ++reads) {
    const size_t want = static_cast<size_t>(room - count());
    bool visited = false;
    bool full = false;
    const absl::Status read = journal_->VisitStored(
        cursor_, want, [&](const StoredEventView& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          // Never exceed max_bytes, except that one event always fits.
          if (count() > 0 &&
              (event.bytes.size() > max_bytes || bytes() > max_bytes - event.bytes.size())) {
            full = true;
            return false;
          }
          visited = true;
          cursor_ = event.sequence + 1;
          dirty_ = true;
          if (!filter_.Matches(event.type)) return true;
          Unsettled& entry = unsettled_[event.sequence];
          if (ordered_ && HoldForKeyLocked(event.sequence, entry, OrderingKeyOf(event.bytes))) {
            return true;
          }
          AddDeliveryLocked(stream, member, event.sequence, entry, now, event.bytes, batch);
          return true;
        });
    if (!read.ok()) {
      if (count() > 0) break;
      return read;
    }
    if (!visited || full) break;
  }
  return absl::OkStatus();
}

FeedWait ConsumerGroup::NextWait(StreamId stream, absl::Time now) {
  absl::MutexLock lock(&mu_);
  FeedWait wait;
  auto member = members_.find(stream);
  const bool window_full = member == members_.end() ||
                           member->second.outstanding >= member->second.settings.max_outstanding;
  if (!leases_.empty()) wait.deadline = std::min(wait.deadline, leases_.begin()->first);
  if (!window_full) {
    wait.sequence = cursor_;
    if (!due_.empty()) wait.deadline = std::min(wait.deadline, due_.begin()->first);
  }
  // Never in the past: a due entry another member will take must not spin.
  wait.deadline = std::max(wait.deadline, now + absl::Milliseconds(1));
  return wait;
}

ConsumerGroup::UnsettledMap::iterator ConsumerGroup::FindLiveLocked(const std::string& ack_id,
                                                                    v1::SettleResult* result) {
  std::optional<AckId> id = AckId::Decode(ack_id);
  if (!id.has_value()) {
    AddUnknownAckId(ack_id, result);
    return unsettled_.end();
  }
  auto it = unsettled_.find(id->sequence);
  const bool live = id->epoch == epoch_ && it != unsettled_.end() && it->second.leased &&
                    it->second.delivery == id->delivery;
  if (live) return it;
  if (id->epoch == epoch_ && id->delivery >= next_delivery_) {
    AddUnknownAckId(ack_id, result);  // never issued
  } else {
    AddExpiredAckId(ack_id, result);  // issued, no longer live (or before a restart)
  }
  return unsettled_.end();
}

void ConsumerGroup::Settle(StreamId, const v1::Settle& settle, absl::Time now,
                           v1::SettleResult* result) {
  absl::MutexLock lock(&mu_);
  ExpireLeasesLocked(now);
  for (const std::string& ack_id : settle.ack_ids()) {
    auto it = FindLiveLocked(ack_id, result);
    if (it == unsettled_.end()) continue;
    ReleaseLeaseLocked(it);
    ForgetLocked(it, now);
    last_acked_ = now;
    result->set_acked(result->acked() + 1);
  }
  for (const v1::Nack& nack : settle.nacks()) {
    auto it = FindLiveLocked(nack.ack_id(), result);
    if (it == unsettled_.end()) continue;
    ReleaseLeaseLocked(it);
    const bool dead_letter = nack.action() == v1::Nack::DEAD_LETTER;
    // An explicit delay (even 0) wins over the group's retry policy.
    const absl::Time not_before = nack.has_delay()
                                      ? now + std::clamp(FromProtoDuration(nack.delay()),
                                                         absl::ZeroDuration(), absl::Hours(1))
                                      : BackoffUntilLocked(it->second, now);
    std::string reason = nack.reason();
    if (reason.empty()) {
      reason = dead_letter ? "nacked with DEAD_LETTER"
                           : absl::StrCat("nacked with RETRY; max delivery attempts (",
                                          max_delivery_attempts_, ") reached");
    }
    RetryOrDeadLetterLocked(it, not_before, dead_letter, reason, now);
    result->set_nacked(result->nacked() + 1);
  }
}

void ConsumerGroup::Extend(StreamId, const v1::ExtendDeadline& extend, absl::Time now,
                           v1::SettleResult* result) {
  absl::MutexLock lock(&mu_);
  ExpireLeasesLocked(now);
  const absl::Duration extension = absl::Seconds(std::clamp(extend.seconds(), 1, 3600));
  for (const std::string& ack_id : extend.ack_ids()) {
    auto it = FindLiveLocked(ack_id, result);
    if (it == unsettled_.end()) continue;
    leases_.erase({it->second.deadline, it->first});
    it->second.deadline = now + extension;
    leases_.emplace(it->second.deadline, it->first);
    result->set_extended(result->extended() + 1);
  }
}

void ConsumerGroup::SetMaxOutstanding(StreamId stream, int max_outstanding) {
  absl::MutexLock lock(&mu_);
  auto member = members_.find(stream);
  if (member != members_.end()) member->second.settings.max_outstanding = max_outstanding;
}

void ConsumerGroup::Describe(absl::Time now, v1::ConsumerGroup* out) const {
  absl::MutexLock lock(&mu_);
  out->set_name(name_);
  for (const std::string& type : filter_.types()) out->mutable_filter()->add_types(type);
  out->set_max_delivery_attempts(max_delivery_attempts_);
  if (retry_policy_.has_value()) {
    *out->mutable_retry_policy()->mutable_minimum_backoff() =
        ToProtoDuration(retry_policy_->minimum_backoff);
    *out->mutable_retry_policy()->mutable_maximum_backoff() =
        ToProtoDuration(retry_policy_->maximum_backoff);
  }
  out->set_enable_ordering(ordered_);
  if (idle_expiry_ > absl::ZeroDuration()) {
    *out->mutable_idle_expiry() = ToProtoDuration(idle_expiry_);
    if (members_.empty())
      *out->mutable_expires_at() = ToProtoTimestamp(last_attached_ + idle_expiry_);
  }
  if (!members_.empty()) {
    *out->mutable_last_attached_at() = ToProtoTimestamp(now);
  } else if (last_attached_ > absl::FromUnixMicros(created_at_unix_micros_)) {
    *out->mutable_last_attached_at() = ToProtoTimestamp(last_attached_);
  }
  if (last_acked_ != absl::InfinitePast()) {
    *out->mutable_last_acked_at() = ToProtoTimestamp(last_acked_);
  }
  *out->mutable_created_at() = ToProtoTimestamp(absl::FromUnixMicros(created_at_unix_micros_));
  out->set_cursor_sequence(cursor_);
  out->set_ack_floor(unsettled_.empty() ? cursor_ : unsettled_.begin()->first);
  out->set_pending(unsettled_.size());
  out->set_redelivered(redelivered_total_);
  for (const auto& [id, member] : members_) {
    v1::ConnectedConsumer* consumer = out->add_consumers();
    consumer->set_client_id(member.settings.client_id);
    consumer->set_peer(member.settings.peer);
    consumer->set_outstanding(member.outstanding);
    consumer->set_max_outstanding(member.settings.max_outstanding);
    *consumer->mutable_connected_at() = ToProtoTimestamp(member.settings.connected_at);
  }
}

std::vector<Wakeable*> ConsumerGroup::Seek(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  cursor_ = std::max<uint64_t>(sequence, 1);
  unsettled_.clear();
  due_.clear();
  leases_.clear();
  key_of_.clear();
  keys_.clear();
  held_count_ = 0;
  std::vector<Wakeable*> wake;
  for (auto& [id, member] : members_) {
    member.outstanding = 0;
    if (member.settings.wakeable != nullptr) wake.push_back(member.settings.wakeable);
  }
  dirty_ = true;
  return wake;
}

std::vector<Wakeable*> ConsumerGroup::Requeue(absl::Span<const uint64_t> sequences,
                                              absl::Time now) {
  absl::MutexLock lock(&mu_);
  for (uint64_t sequence : sequences) {
    // Deleted from the store in the same checkpoint that records it unsettled.
    removed_dead_letters_.push_back(sequence);
    auto [it, inserted] = unsettled_.try_emplace(sequence);
    if (!inserted) continue;  // already being delivered (e.g. after a seek)
    it->second.attempts = 0;
    it->second.not_before = now;
    due_.emplace(now, sequence);
  }
  dirty_ = true;
  std::vector<Wakeable*> wake;
  for (auto& [id, member] : members_) {
    if (member.settings.wakeable != nullptr) wake.push_back(member.settings.wakeable);
  }
  return wake;
}

uint64_t ConsumerGroup::LowestNeededSequence() const {
  absl::MutexLock lock(&mu_);
  uint64_t lowest = cursor_;
  if (!unsettled_.empty()) lowest = std::min(lowest, unsettled_.begin()->first);
  for (const internal::DeadLetterRecord& record : added_dead_letters_) {
    lowest = std::min<uint64_t>(lowest, record.sequence());
  }
  return lowest;
}

bool ConsumerGroup::dirty() const {
  absl::MutexLock lock(&mu_);
  return dirty_;
}

GroupCheckpoint ConsumerGroup::TakeCheckpoint() {
  absl::MutexLock lock(&mu_);
  GroupCheckpoint checkpoint;
  internal::GroupState& state = checkpoint.state;
  state.set_name(name_);
  for (const std::string& type : filter_.types()) state.add_filter_types(type);
  state.set_max_delivery_attempts(max_delivery_attempts_);
  RetryPolicyToState(retry_policy_, &state);
  state.set_enable_ordering(ordered_);
  state.set_idle_expiry_nanos(absl::ToInt64Nanoseconds(idle_expiry_));
  state.set_last_attached_unix_micros(absl::ToUnixMicros(last_attached_));
  if (last_acked_ != absl::InfinitePast()) {
    state.set_last_acked_unix_micros(absl::ToUnixMicros(last_acked_));
  }
  state.set_created_at_unix_micros(created_at_unix_micros_);
  state.set_cursor(cursor_);
  state.mutable_unsettled_sequences()->Reserve(static_cast<int>(unsettled_.size()));
  state.mutable_unsettled_attempts()->Reserve(static_cast<int>(unsettled_.size()));
  for (const auto& [sequence, entry] : unsettled_) {
    state.add_unsettled_sequences(sequence);
    state.add_unsettled_attempts(entry.attempts);
  }
  state.set_redelivered_total(redelivered_total_);
  checkpoint.added_dead_letters = std::move(added_dead_letters_);
  checkpoint.removed_dead_letters = std::move(removed_dead_letters_);
  added_dead_letters_.clear();
  removed_dead_letters_.clear();
  dirty_ = false;
  return checkpoint;
}

void ConsumerGroup::CheckpointFailed(GroupCheckpoint checkpoint) {
  absl::MutexLock lock(&mu_);
  added_dead_letters_.insert(added_dead_letters_.begin(), checkpoint.added_dead_letters.begin(),
                             checkpoint.added_dead_letters.end());
  removed_dead_letters_.insert(removed_dead_letters_.begin(),
                               checkpoint.removed_dead_letters.begin(),
                               checkpoint.removed_dead_letters.end());
  dirty_ = true;
}

}  // namespace refir::bridge
