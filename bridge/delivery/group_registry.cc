#include "bridge/delivery/group_registry.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/delivery/start_position.h"

namespace refir::bridge {
namespace {

// "1h", or "never" for a zero idle expiry.
std::string IdleExpiryText(absl::Duration idle_expiry) {
  return idle_expiry > absl::ZeroDuration() ? absl::FormatDuration(idle_expiry) : "never";
}

uint32_t NewEpoch() {
  thread_local absl::BitGen bitgen;
  return absl::Uniform<uint32_t>(bitgen);
}

// The StreamFeed of one member of a consumer group.
class GroupFeed final : public StreamFeed {
 public:
  GroupFeed(GroupRegistry* registry, ConsumerGroup* group, StreamId stream)
      : registry_(registry), group_(group), stream_(stream) {}

  absl::Status Pull(absl::Time now, OutgoingBatch* batch) override {
    return group_->Pull(stream_, now, batch);
  }
  FeedWait NextWait(absl::Time now) override { return group_->NextWait(stream_, now); }
  void Settle(const v1::Settle& settle, absl::Time now, v1::SettleResult* result) override {
    group_->Settle(stream_, settle, now, result);
  }
  void Extend(const v1::ExtendDeadline& extend, absl::Time now, v1::SettleResult* result) override {
    group_->Extend(stream_, extend, now, result);
  }
  absl::Status SetMaxOutstanding(int max_outstanding) override {
    group_->SetMaxOutstanding(stream_, max_outstanding);
    return absl::OkStatus();
  }
  void Close(absl::Time now) override { registry_->Leave(group_, stream_, now); }

 private:
  GroupRegistry* const registry_;
  ConsumerGroup* const group_;
  const StreamId stream_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<GroupRegistry>> GroupRegistry::Open(Journal* journal,
                                                                   GroupStore* store,
                                                                   WakeupHub* hub,
                                                                   GroupDefaults defaults) {
  REFIR_ASSIGN_OR_RETURN(std::vector<internal::GroupState> states, store->LoadGroups());
  std::unique_ptr<GroupRegistry> registry(new GroupRegistry(journal, store, hub, defaults));
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&registry->mu_);
    for (internal::GroupState& state : states) {
      std::vector<std::string> types(state.filter_types().begin(), state.filter_types().end());
      absl::StatusOr<EventFilter> filter = EventFilter::Create(std::move(types));
      if (!filter.ok()) {
        return absl::DataLossError(
            absl::StrCat("stored consumer group \"", state.name(),
                         "\" has a bad filter: ", filter.status().message()));
      }
      if (std::optional<RetryPolicy> policy = RetryPolicyFromState(state); policy.has_value()) {
        if (absl::Status valid = ValidateRetryPolicy(*policy, "retry_policy"); !valid.ok()) {
          return absl::DataLossError(absl::StrCat("stored consumer group \"", state.name(),
                                                  "\" has a bad ", valid.message()));
        }
      }
      std::string name = state.name();
      registry->groups_[name] = std::make_unique<ConsumerGroup>(
          std::move(state), *std::move(filter), journal, NewEpoch(), now);
    }
  }
  registry->checkpointer_ = std::thread([raw = registry.get()] { raw->RunCheckpoints(); });
  return registry;
}

GroupRegistry::GroupRegistry(Journal* journal, GroupStore* store, WakeupHub* hub,
                             GroupDefaults defaults)
    : journal_(journal), store_(store), hub_(hub), defaults_(defaults) {}

GroupRegistry::~GroupRegistry() { Shutdown(); }

absl::StatusOr<JoinedGroup> GroupRegistry::Join(const JoinRequest& request, MemberSettings settings,
                                                absl::Time now) {
  REFIR_RETURN_IF_ERROR(ValidateGroupName(request.group));
  REFIR_RETURN_IF_ERROR(CheckFilterEntryCount(request.filter_types.size()));
  REFIR_ASSIGN_OR_RETURN(EventFilter filter, EventFilter::Create(request.filter_types));
  if (request.retry_policy.has_value()) {
    REFIR_RETURN_IF_ERROR(ValidateRetryPolicy(*request.retry_policy, "retry_policy"));
  }
  if (request.idle_expiry.has_value() &&
      (*request.idle_expiry < absl::ZeroDuration() || *request.idle_expiry > kMaxIdleExpiry)) {
    return absl::InvalidArgumentError(absl::StrCat("idle_expiry must be between 0 (never) and ",
                                                   absl::FormatDuration(kMaxIdleExpiry), ", got ",
                                                   absl::FormatDuration(*request.idle_expiry)));
  }

  // Creating a group writes it to the store under mu_ (rare; not a
  // checkpoint), so that a concurrent Join or Delete of the name sees either
  // no group or a durable one.
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("bridge is shutting down");
  JoinedGroup joined;
  auto it = groups_.find(request.group);
  if (it == groups_.end()) {
    if (groups_.size() >= defaults_.max_groups) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot create consumer group \"", request.group, "\": the bridge has ", groups_.size(),
          " groups; the limit is ", defaults_.max_groups,
          " (--grpc_max_consumer_groups); delete unused groups with DeleteConsumerGroup"));
    }
    internal::GroupState state;
    state.set_name(request.group);
    for (const std::string& type : filter.types()) state.add_filter_types(type);
    state.set_max_delivery_attempts(request.max_delivery_attempts);
    RetryPolicyToState(request.retry_policy, &state);
    state.set_enable_ordering(request.enable_ordering);
    state.set_idle_expiry_nanos(
        absl::ToInt64Nanoseconds(request.idle_expiry.value_or(defaults_.idle_expiry)));
    state.set_created_at_unix_micros(absl::ToUnixMicros(now));
    REFIR_RETURN_IF_ERROR(request.start.status());
    REFIR_ASSIGN_OR_RETURN(uint64_t start, ResolveStartSequence(*journal_, *request.start));
    state.set_cursor(start);
    // Durable before the stream is confirmed, so a restart keeps the position.
    REFIR_RETURN_IF_ERROR(store_->SaveGroup(state, {}, {}));
    const absl::Duration idle_expiry = absl::Nanoseconds(state.idle_expiry_nanos());
    it = groups_
             .emplace(request.group,
                      std::make_unique<ConsumerGroup>(std::move(state), std::move(filter), journal_,
                                                      NewEpoch(), now))
             .first;
    joined.created = true;
    LogInfo(absl::StrCat("consumer group \"", request.group, "\" created at sequence ", start,
                         ", retry_policy ", RetryPolicyToString(request.retry_policy),
                         request.enable_ordering ? ", ordered by key" : "", ", idle expiry ",
                         IdleExpiryText(idle_expiry)));
  } else if (!(it->second->filter() == filter)) {
    return absl::FailedPreconditionError(
        absl::StrCat("consumer group \"", request.group, "\" exists with filter [",
                     absl::StrJoin(it->second->filter().types(), ", "), "]; this init asks for [",
                     absl::StrJoin(filter.types(), ", "), "]"));
  } else if (it->second->retry_policy() != request.retry_policy) {
    return absl::FailedPreconditionError(
        absl::StrCat("consumer group \"", request.group, "\" exists with retry_policy ",
                     RetryPolicyToString(it->second->retry_policy()), "; this init asks for ",
                     RetryPolicyToString(request.retry_policy)));
  } else if (it->second->ordered() != request.enable_ordering) {
    return absl::FailedPreconditionError(
        absl::StrCat("consumer group \"", request.group, "\" exists with enable_ordering ",
                     it->second->ordered() ? "true" : "false", "; this init asks for ",
                     request.enable_ordering ? "true" : "false"));
  } else if (request.idle_expiry.has_value() && *request.idle_expiry != it->second->idle_expiry()) {
    return absl::FailedPreconditionError(
        absl::StrCat("consumer group \"", request.group, "\" exists with idle_expiry ",
                     absl::FormatDuration(it->second->idle_expiry()), "; this init asks for ",
                     absl::FormatDuration(*request.idle_expiry)));
  }
  ConsumerGroup& group = *it->second;
  v1::ConsumerGroup described;
  group.Describe(now, &described);
  joined.start_sequence = described.ack_floor();
  joined.max_delivery_attempts = group.max_delivery_attempts();
  joined.filter_types = group.filter().types();
  joined.retry_policy = group.retry_policy();
  joined.enable_ordering = group.ordered();
  joined.idle_expiry = group.idle_expiry();
  const StreamId stream = group.Attach(std::move(settings));
  joined.feed = std::make_unique<GroupFeed>(this, &group, stream);
  return joined;
}

void GroupRegistry::Leave(ConsumerGroup* group, StreamId stream, absl::Time now) {
  absl::MutexLock lock(&mu_);
  WakeLocked(group->Detach(stream, now));
}

absl::StatusOr<ConsumerGroup*> GroupRegistry::Find(const std::string& name) {
  REFIR_RETURN_IF_ERROR(ValidateGroupName(name));
  absl::MutexLock lock(&mu_);
  auto it = groups_.find(name);
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("no consumer group named \"", name, "\""));
  }
  return it->second.get();
}

std::vector<ConsumerGroup*> GroupRegistry::AllGroups() {
  absl::MutexLock lock(&mu_);
  std::vector<ConsumerGroup*> out;
  out.reserve(groups_.size());
  for (auto& [name, group] : groups_) out.push_back(group.get());
  return out;
}

// Checkpoints are written outside mu_, so that streams joining and leaving
// (and everything else that needs the map) never wait for SQLite. Ordering
// still holds: checkpoint_mu_ is held from TakeCheckpoint to the end of the
// write (and the putting back of a failed one), so one group's checkpoints
// reach the store in the order they were taken, a failed one's deltas are
// back in the group before the next is taken, and Delete (which also takes
// checkpoint_mu_) can neither free a group being written nor be undone by a
// checkpoint written after it.
absl::Status GroupRegistry::Checkpoint(ConsumerGroup& group) {
  if (!group.dirty()) return absl::OkStatus();
  GroupCheckpoint checkpoint = group.TakeCheckpoint();
  absl::Status saved = store_->SaveGroup(checkpoint.state, checkpoint.added_dead_letters,
                                         checkpoint.removed_dead_letters);
  if (!saved.ok()) group.CheckpointFailed(std::move(checkpoint));
  return saved;
}

absl::Status GroupRegistry::Flush() {
  absl::MutexLock checkpoint_lock(&checkpoint_mu_);
  absl::Status first_error;
  for (ConsumerGroup* group : AllGroups()) {
    absl::Status saved = Checkpoint(*group);
    if (!saved.ok() && first_error.ok()) first_error = saved;
  }
  return first_error;
}

absl::StatusOr<std::map<std::string, uint64_t>> GroupRegistry::NeededSequences() {
  absl::MutexLock checkpoint_lock(&checkpoint_mu_);
  std::map<std::string, uint64_t> needed;
  for (ConsumerGroup* group : AllGroups()) {
    REFIR_RETURN_IF_ERROR(Checkpoint(*group));
    uint64_t floor = group->LowestNeededSequence();
    REFIR_ASSIGN_OR_RETURN(std::vector<internal::DeadLetterRecord> lowest_dead,
                           store_->ListDeadLetters(group->name(), 0, 1));
    if (!lowest_dead.empty()) floor = std::min<uint64_t>(floor, lowest_dead[0].sequence());
    needed[group->name()] = floor;
  }
  return needed;
}

absl::StatusOr<uint64_t> GroupRegistry::RetentionFloor() {
  REFIR_ASSIGN_OR_RETURN(auto needed, NeededSequences());
  uint64_t floor = std::numeric_limits<uint64_t>::max();
  for (const auto& [name, sequence] : needed) floor = std::min(floor, sequence);
  return floor;
}

void GroupRegistry::SetHoldingJournal(std::vector<std::string> names) {
  absl::MutexLock lock(&mu_);
  holding_journal_.clear();
  for (std::string& name : names) holding_journal_.insert(std::move(name));
}

absl::Status GroupRegistry::EraseLocked(
    std::map<std::string, std::unique_ptr<ConsumerGroup>>::iterator it) {
  REFIR_RETURN_IF_ERROR(store_->DeleteGroup(it->first));
  holding_journal_.erase(it->first);
  groups_.erase(it);
  return absl::OkStatus();
}

size_t GroupRegistry::ExpireIdleGroups(absl::Time now) {
  absl::MutexLock checkpoint_lock(&checkpoint_mu_);
  // Under mu_, so that no stream joins a group between the check and the
  // erase (Join takes mu_).
  absl::MutexLock lock(&mu_);
  size_t expired = 0;
  for (auto it = groups_.begin(); it != groups_.end();) {
    auto next = std::next(it);
    ConsumerGroup& group = *it->second;
    if (group.IdleExpired(now)) {
      const std::string name = it->first;
      const absl::Duration idle_expiry = group.idle_expiry();
      if (absl::Status erased = EraseLocked(it); !erased.ok()) {
        LogError(absl::StrCat("consumer group \"", name,
                              "\" is past its idle expiry but could not be deleted (will retry): ",
                              erased.ToString()));
      } else {
        ++expired;
        expired_total_.fetch_add(1, std::memory_order_relaxed);
        LogWarning(absl::StrCat("consumer group \"", name,
                                "\" deleted: no stream attached for its idle expiry of ",
                                IdleExpiryText(idle_expiry)));
      }
    }
    it = next;
  }
  return expired;
}

void GroupRegistry::RunCheckpoints() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // Wakes early only to stop.
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), defaults_.checkpoint_interval);
      if (stopping_) return;
    }
    {
      absl::MutexLock checkpoint_lock(&checkpoint_mu_);
      for (ConsumerGroup* group : AllGroups()) {
        absl::Status saved = Checkpoint(*group);
        if (!saved.ok()) {
          LogError(absl::StrCat("checkpoint of consumer group \"", group->name(),
                                "\" failed (will retry): ", saved.ToString()));
        }
      }
    }
    ExpireIdleGroups(absl::Now());
  }
}

void GroupRegistry::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (checkpointer_.joinable()) checkpointer_.join();
  if (absl::Status flushed = Flush(); !flushed.ok()) {
    LogError(absl::StrCat("final checkpoint of consumer groups failed: ", flushed.ToString()));
  }
}

absl::StatusOr<v1::ConsumerGroup> GroupRegistry::DescribeGroup(ConsumerGroup& group) {
  // Dead letters are counted in the store: checkpoint the group's deltas first.
  REFIR_RETURN_IF_ERROR(Checkpoint(group));
  v1::ConsumerGroup out;
  group.Describe(absl::Now(), &out);
  const uint64_t head = journal_->HeadSequence();
  out.set_head_sequence(head);
  out.set_lag(out.cursor_sequence() > head ? 0 : head - out.cursor_sequence() + 1);
  REFIR_ASSIGN_OR_RETURN(uint64_t dead_letters, store_->CountDeadLetters(group.name()));
  out.set_dead_letters(dead_letters);
  if (out.pending() > 0) {
    // With events pending, the ack floor is the oldest of them.
    absl::StatusOr<v1::Event> oldest = journal_->GetBySequence(out.ack_floor());
    if (oldest.ok()) {
      *out.mutable_oldest_unacked_received_at() = oldest->received_at();
    } else if (!absl::IsNotFound(oldest.status())) {
      return oldest.status();
    }
  }
  {
    absl::MutexLock lock(&mu_);
    out.set_holding_journal(holding_journal_.contains(group.name()));
  }
  return out;
}

absl::StatusOr<v1::ConsumerGroup> GroupRegistry::Describe(const std::string& name) {
  absl::MutexLock checkpoint_lock(&checkpoint_mu_);
  REFIR_ASSIGN_OR_RETURN(ConsumerGroup * group, Find(name));
  return DescribeGroup(*group);
}

absl::StatusOr<std::vector<v1::ConsumerGroup>> GroupRegistry::List() {
  absl::MutexLock checkpoint_lock(&checkpoint_mu_);
  std::vector<v1::ConsumerGroup> out;
  for (ConsumerGroup* group : AllGroups()) {
    REFIR_ASSIGN_OR_RETURN(v1::ConsumerGroup described, DescribeGroup(*group));
    out.push_back(std::move(described));
  }
  return out;
}

absl::StatusOr<GroupPage> GroupRegistry::ListGroups(
    const std::string& after, size_t max_groups, size_t max_bytes,
    const std::function<bool(const std::string&)>& include) {
  absl::MutexLock checkpoint_lock(&checkpoint_mu_);
  std::vector<ConsumerGroup*> candidates;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = groups_.upper_bound(after); it != groups_.end(); ++it) {
      if (include(it->first)) candidates.push_back(it->second.get());
    }
  }
  GroupPage page;
  size_t bytes = 0;
  for (ConsumerGroup* group : candidates) {
    if (page.groups.size() >= max_groups) {
      page.more = true;
      break;
    }
    REFIR_ASSIGN_OR_RETURN(v1::ConsumerGroup described, DescribeGroup(*group));
    // The field's tag and length prefix: a few bytes more than ByteSizeLong.
    const size_t size = described.ByteSizeLong() + 8;
    if (!page.groups.empty() && bytes + size > max_bytes) {
      page.more = true;
      break;
    }
    bytes += size;
    page.groups.push_back(std::move(described));
  }
  return page;
}

void GroupRegistry::WakeLocked(const std::vector<Wakeable*>& targets) {
  for (Wakeable* target : targets) hub_->Park(target, 0);
}

absl::StatusOr<uint64_t> GroupRegistry::Seek(const std::string& name,
                                             const StreamPosition& position) {
  absl::MutexLock checkpoint_lock(&checkpoint_mu_);
  REFIR_ASSIGN_OR_RETURN(ConsumerGroup * group, Find(name));
  REFIR_ASSIGN_OR_RETURN(uint64_t target, ResolveStartSequence(*journal_, position));
  {
    absl::MutexLock lock(&mu_);
    WakeLocked(group->Seek(target));
  }
  REFIR_RETURN_IF_ERROR(Checkpoint(*group));
  LogInfo(absl::StrCat("consumer group \"", name, "\" sought to sequence ", target));
  return target;
}

absl::StatusOr<std::vector<DeadLetter>> GroupRegistry::ListDeadLetters(const std::string& name,
                                                                       uint64_t after_sequence,
                                                                       size_t limit) {
  std::vector<internal::DeadLetterRecord> records;
  {
    absl::MutexLock checkpoint_lock(&checkpoint_mu_);
    REFIR_ASSIGN_OR_RETURN(ConsumerGroup * group, Find(name));
    REFIR_RETURN_IF_ERROR(Checkpoint(*group));
    REFIR_ASSIGN_OR_RETURN(records, store_->ListDeadLetters(name, after_sequence, limit));
  }
  std::vector<DeadLetter> out;
  out.reserve(records.size());
  for (const internal::DeadLetterRecord& record : records) {
    DeadLetter& letter = out.emplace_back();
    letter.sequence = record.sequence();
    letter.delivery_attempts = record.delivery_attempts();
    letter.reason = record.reason();
    letter.dead_lettered_at = absl::FromUnixMicros(record.dead_lettered_at_unix_micros());
    absl::StatusOr<v1::Event> event = journal_->GetBySequence(record.sequence());
    if (event.ok()) {
      letter.event = *std::move(event);
    } else if (!absl::IsNotFound(event.status())) {
      return event.status();
    }
  }
  return out;
}

absl::StatusOr<size_t> GroupRegistry::Requeue(
    const std::string& name, const std::optional<std::vector<uint64_t>>& sequences) {
  absl::MutexLock checkpoint_lock(&checkpoint_mu_);
  REFIR_ASSIGN_OR_RETURN(ConsumerGroup * group, Find(name));
  REFIR_RETURN_IF_ERROR(Checkpoint(*group));
  std::vector<uint64_t> found;
  if (!sequences.has_value()) {
    uint64_t after = 0;
    while (true) {
      REFIR_ASSIGN_OR_RETURN(std::vector<internal::DeadLetterRecord> page,
                             store_->ListDeadLetters(name, after, 1000));
      if (page.empty()) break;
      for (const internal::DeadLetterRecord& record : page) found.push_back(record.sequence());
      after = page.back().sequence();
    }
  } else {
    for (uint64_t sequence : *sequences) {
      if (sequence == 0) continue;
      REFIR_ASSIGN_OR_RETURN(std::vector<internal::DeadLetterRecord> stored,
                             store_->ListDeadLetters(name, sequence - 1, 1));
      if (!stored.empty() && stored[0].sequence() == sequence) found.push_back(sequence);
    }
  }
  if (found.empty()) return 0;
  {
    absl::MutexLock lock(&mu_);
    WakeLocked(group->Requeue(found, absl::Now()));
  }
  REFIR_RETURN_IF_ERROR(Checkpoint(*group));
  return found.size();
}

absl::Status GroupRegistry::Delete(const std::string& name) {
  absl::MutexLock checkpoint_lock(&checkpoint_mu_);
  REFIR_RETURN_IF_ERROR(ValidateGroupName(name));
  // Under mu_ throughout, so that no stream joins between the member check
  // and the erase.
  absl::MutexLock lock(&mu_);
  auto it = groups_.find(name);
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("no consumer group named \"", name, "\""));
  }
  ConsumerGroup& group = *it->second;
  if (group.member_count() > 0) {
    return absl::FailedPreconditionError(absl::StrCat("consumer group \"", name, "\" has ",
                                                      group.member_count(),
                                                      " connected stream(s); close them first"));
  }
  REFIR_RETURN_IF_ERROR(EraseLocked(it));
  LogInfo(absl::StrCat("consumer group \"", name, "\" deleted"));
  return absl::OkStatus();
}

}  // namespace refir::bridge
