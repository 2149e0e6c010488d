#include "bridge/delivery/group_registry.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bridge/common/log.h"
#include "bridge/common/proto_time.h"
#include "bridge/common/status_macros.h"
#include "bridge/delivery/start_position.h"

namespace refir::bridge {
namespace {

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

absl::Status ValidateGroupName(const std::string& name) {
  if (name.empty() || name.size() > 128) {
    return absl::InvalidArgumentError(
        absl::StrCat("consumer group name must be 1 to 128 characters, got ", name.size()));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "consumer group name \"", name, "\" may only contain letters, digits, '.', '_', '-'"));
    }
  }
  return absl::OkStatus();
}

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

absl::StatusOr<GroupRegistry::Joined> GroupRegistry::Join(const v1::SubscribeInit& init,
                                                          MemberSettings settings, absl::Time now) {
  REFIR_RETURN_IF_ERROR(ValidateGroupName(init.consumer_group()));
  REFIR_RETURN_IF_ERROR(CheckFilterEntryCount(static_cast<size_t>(init.filter().types_size())));
  std::vector<std::string> types(init.filter().types().begin(), init.filter().types().end());
  REFIR_ASSIGN_OR_RETURN(EventFilter filter, EventFilter::Create(std::move(types)));

  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("bridge is shutting down");
  Joined joined;
  auto it = groups_.find(init.consumer_group());
  if (it == groups_.end()) {
    if (groups_.size() >= defaults_.max_groups) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot create consumer group \"", init.consumer_group(), "\": the bridge has ",
          groups_.size(), " groups; the limit is ", defaults_.max_groups,
          " (--grpc_max_consumer_groups); delete unused groups with DeleteConsumerGroup"));
    }
    internal::GroupState state;
    state.set_name(init.consumer_group());
    for (const std::string& type : filter.types()) state.add_filter_types(type);
    state.set_max_delivery_attempts(init.max_delivery_attempts() == 0
                                        ? defaults_.max_delivery_attempts
                                        : init.max_delivery_attempts());
    state.set_created_at_unix_micros(absl::ToUnixMicros(now));
    REFIR_ASSIGN_OR_RETURN(uint64_t start, ResolveStartSequence(*journal_, init.start()));
    state.set_cursor(start);
    // Durable before the stream is confirmed, so a restart keeps the position.
    REFIR_RETURN_IF_ERROR(store_->SaveGroup(state, {}, {}));
    it = groups_
             .emplace(init.consumer_group(),
                      std::make_unique<ConsumerGroup>(std::move(state), std::move(filter), journal_,
                                                      NewEpoch(), now))
             .first;
    joined.created = true;
    LogInfo(
        absl::StrCat("consumer group \"", init.consumer_group(), "\" created at sequence ", start));
  } else if (!(it->second->filter() == filter)) {
    return absl::FailedPreconditionError(
        absl::StrCat("consumer group \"", init.consumer_group(), "\" exists with filter [",
                     absl::StrJoin(it->second->filter().types(), ", "), "]; this init asks for [",
                     absl::StrJoin(filter.types(), ", "), "]"));
  }
  ConsumerGroup& group = *it->second;
  v1::ConsumerGroup described;
  group.Describe(&described);
  joined.start_sequence = described.ack_floor();
  joined.max_delivery_attempts = group.max_delivery_attempts();
  joined.filter_types = group.filter().types();
  const StreamId stream = group.Attach(std::move(settings));
  joined.feed = std::make_unique<GroupFeed>(this, &group, stream);
  return joined;
}

void GroupRegistry::Leave(ConsumerGroup* group, StreamId stream, absl::Time now) {
  absl::MutexLock lock(&mu_);
  group->Detach(stream, now);
}

absl::StatusOr<ConsumerGroup*> GroupRegistry::FindLocked(const std::string& name) {
  REFIR_RETURN_IF_ERROR(ValidateGroupName(name));
  auto it = groups_.find(name);
  if (it == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("no consumer group named \"", name, "\""));
  }
  return it->second.get();
}

absl::Status GroupRegistry::FlushGroupLocked(ConsumerGroup& group) {
  if (!group.dirty()) return absl::OkStatus();
  GroupCheckpoint checkpoint = group.TakeCheckpoint();
  absl::Status saved = store_->SaveGroup(checkpoint.state, checkpoint.added_dead_letters,
                                         checkpoint.removed_dead_letters);
  if (!saved.ok()) group.CheckpointFailed(std::move(checkpoint));
  return saved;
}

absl::Status GroupRegistry::Flush() {
  absl::MutexLock lock(&mu_);
  absl::Status first_error;
  for (auto& [name, group] : groups_) {
    absl::Status saved = FlushGroupLocked(*group);
    if (!saved.ok() && first_error.ok()) first_error = saved;
  }
  return first_error;
}

absl::StatusOr<uint64_t> GroupRegistry::RetentionFloor() {
  absl::MutexLock lock(&mu_);
  uint64_t floor = std::numeric_limits<uint64_t>::max();
  for (auto& [name, group] : groups_) {
    REFIR_RETURN_IF_ERROR(FlushGroupLocked(*group));
    floor = std::min(floor, group->LowestNeededSequence());
    REFIR_ASSIGN_OR_RETURN(std::vector<internal::DeadLetterRecord> lowest_dead,
                           store_->ListDeadLetters(name, 0, 1));
    if (!lowest_dead.empty()) floor = std::min<uint64_t>(floor, lowest_dead[0].sequence());
  }
  return floor;
}

void GroupRegistry::RunCheckpoints() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    // Wakes early only to stop.
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), defaults_.checkpoint_interval);
    if (stopping_) break;
    for (auto& [name, group] : groups_) {
      absl::Status saved = FlushGroupLocked(*group);
      if (!saved.ok()) {
        LogError(absl::StrCat("checkpoint of consumer group \"", name,
                              "\" failed (will retry): ", saved.ToString()));
      }
    }
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

absl::StatusOr<v1::ConsumerGroup> GroupRegistry::DescribeLocked(ConsumerGroup& group) {
  // Dead letters are counted in the store: flush the group's deltas first.
  REFIR_RETURN_IF_ERROR(FlushGroupLocked(group));
  v1::ConsumerGroup out;
  group.Describe(&out);
  const uint64_t head = journal_->HeadSequence();
  out.set_head_sequence(head);
  out.set_lag(out.cursor_sequence() > head ? 0 : head - out.cursor_sequence() + 1);
  REFIR_ASSIGN_OR_RETURN(uint64_t dead_letters, store_->CountDeadLetters(group.name()));
  out.set_dead_letters(dead_letters);
  return out;
}

absl::StatusOr<v1::ConsumerGroup> GroupRegistry::Describe(const std::string& name) {
  absl::MutexLock lock(&mu_);
  REFIR_ASSIGN_OR_RETURN(ConsumerGroup * group, FindLocked(name));
  return DescribeLocked(*group);
}

absl::StatusOr<std::vector<v1::ConsumerGroup>> GroupRegistry::List() {
  absl::MutexLock lock(&mu_);
  std::vector<v1::ConsumerGroup> out;
  for (auto& [name, group] : groups_) {
    REFIR_ASSIGN_OR_RETURN(v1::ConsumerGroup described, DescribeLocked(*group));
    out.push_back(std::move(described));
  }
  return out;
}

absl::StatusOr<GroupRegistry::Page> GroupRegistry::ListPage(
    const std::string& after, size_t max_groups, size_t max_bytes,
    const std::function<bool(const std::string&)>& include) {
  if (!after.empty() && !ValidateGroupName(after).ok()) {
    return absl::InvalidArgumentError("page_token is not one this server issued");
  }
  absl::MutexLock lock(&mu_);
  Page page;
  size_t bytes = 0;
  for (auto it = groups_.upper_bound(after); it != groups_.end(); ++it) {
    if (!include(it->first)) continue;
    if (page.groups.size() >= max_groups) {
      page.next_page_token = page.groups.back().name();
      break;
    }
    REFIR_ASSIGN_OR_RETURN(v1::ConsumerGroup described, DescribeLocked(*it->second));
    // The field's tag and length prefix: a few bytes more than ByteSizeLong.
    const size_t size = described.ByteSizeLong() + 8;
    if (!page.groups.empty() && bytes + size > max_bytes) {
      page.next_page_token = page.groups.back().name();
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

absl::StatusOr<uint64_t> GroupRegistry::Seek(const v1::SeekConsumerGroupRequest& request) {
  v1::StartPosition position;
  switch (request.target_case()) {
    case v1::SeekConsumerGroupRequest::kSequence:
      if (request.sequence() == 0) return absl::InvalidArgumentError("sequence must be >= 1");
      position.set_sequence(request.sequence());
      break;
    case v1::SeekConsumerGroupRequest::kTime:
      *position.mutable_time() = request.time();
      break;
    case v1::SeekConsumerGroupRequest::kEarliest:
      position.mutable_earliest();
      break;
    case v1::SeekConsumerGroupRequest::kLatest:
      position.mutable_latest();
      break;
    case v1::SeekConsumerGroupRequest::TARGET_NOT_SET:
      return absl::InvalidArgumentError("set sequence, time, earliest or latest");
  }
  absl::MutexLock lock(&mu_);
  REFIR_ASSIGN_OR_RETURN(ConsumerGroup * group, FindLocked(request.name()));
  REFIR_ASSIGN_OR_RETURN(uint64_t target, ResolveStartSequence(*journal_, position));
  WakeLocked(group->Seek(target));
  REFIR_RETURN_IF_ERROR(FlushGroupLocked(*group));
  LogInfo(absl::StrCat("consumer group \"", request.name(), "\" sought to sequence ", target));
  return target;
}

absl::StatusOr<v1::ListDeadLettersResponse> GroupRegistry::ListDeadLetters(
    const v1::ListDeadLettersRequest& request) {
  const int page_size = request.page_size() == 0 ? 100 : request.page_size();
  if (page_size < 1 || page_size > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be between 1 and 1000, got ", request.page_size()));
  }
  uint64_t after = 0;
  if (!request.page_token().empty() && !absl::SimpleAtoi(request.page_token(), &after)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token is not one this server issued: \"", request.page_token(), "\""));
  }
  std::vector<internal::DeadLetterRecord> records;
  {
    absl::MutexLock lock(&mu_);
    REFIR_ASSIGN_OR_RETURN(ConsumerGroup * group, FindLocked(request.name()));
    REFIR_RETURN_IF_ERROR(FlushGroupLocked(*group));
    REFIR_ASSIGN_OR_RETURN(records, store_->ListDeadLetters(request.name(), after,
                                                            static_cast<size_t>(page_size) + 1));
  }
  v1::ListDeadLettersResponse response;
  const bool more = records.size() > static_cast<size_t>(page_size);
  if (more) records.resize(static_cast<size_t>(page_size));
  for (const internal::DeadLetterRecord& record : records) {
    v1::DeadLetter* letter = response.add_dead_letters();
    letter->set_sequence(record.sequence());
    letter->set_delivery_attempts(record.delivery_attempts());
    letter->set_reason(record.reason());
    *letter->mutable_dead_lettered_at() =
        ToProtoTimestamp(absl::FromUnixMicros(record.dead_lettered_at_unix_micros()));
    absl::StatusOr<v1::Event> event = journal_->GetBySequence(record.sequence());
    if (event.ok()) {
      *letter->mutable_event() = *std::move(event);
    } else if (!absl::IsNotFound(event.status())) {
      return event.status();
    }
  }
  if (more) response.set_next_page_token(absl::StrCat(records.back().sequence()));
  return response;
}

absl::StatusOr<int> GroupRegistry::Requeue(const v1::RequeueDeadLettersRequest& request) {
  if (request.all() && !request.sequences().empty()) {
    return absl::InvalidArgumentError("set either sequences or all, not both");
  }
  absl::MutexLock lock(&mu_);
  REFIR_ASSIGN_OR_RETURN(ConsumerGroup * group, FindLocked(request.name()));
  REFIR_RETURN_IF_ERROR(FlushGroupLocked(*group));
  std::vector<uint64_t> sequences;
  if (request.all()) {
    uint64_t after = 0;
    while (true) {
      REFIR_ASSIGN_OR_RETURN(std::vector<internal::DeadLetterRecord> page,
                             store_->ListDeadLetters(request.name(), after, 1000));
      if (page.empty()) break;
      for (const internal::DeadLetterRecord& record : page) sequences.push_back(record.sequence());
      after = page.back().sequence();
    }
  } else {
    for (uint64_t sequence : request.sequences()) {
      if (sequence == 0) continue;
      REFIR_ASSIGN_OR_RETURN(std::vector<internal::DeadLetterRecord> found,
                             store_->ListDeadLetters(request.name(), sequence - 1, 1));
      if (!found.empty() && found[0].sequence() == sequence) sequences.push_back(sequence);
    }
  }
  if (sequences.empty()) return 0;
  WakeLocked(group->Requeue(sequences, absl::Now()));
  REFIR_RETURN_IF_ERROR(FlushGroupLocked(*group));
  return static_cast<int>(sequences.size());
}

absl::Status GroupRegistry::Delete(const std::string& name) {
  absl::MutexLock lock(&mu_);
  REFIR_ASSIGN_OR_RETURN(ConsumerGroup * group, FindLocked(name));
  if (group->member_count() > 0) {
    return absl::FailedPreconditionError(absl::StrCat("consumer group \"", name, "\" has ",
                                                      group->member_count(),
                                                      " connected stream(s); close them first"));
  }
  REFIR_RETURN_IF_ERROR(store_->DeleteGroup(name));
  groups_.erase(name);
  LogInfo(absl::StrCat("consumer group \"", name, "\" deleted"));
  return absl::OkStatus();
}

}  // namespace refir::bridge
