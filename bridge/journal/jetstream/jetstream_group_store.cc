#include "bridge/journal/jetstream/jetstream_group_store.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/jetstream/js_options.h"
#include "bridge/journal/jetstream/nats_handles.h"
#include "bridge/journal/jetstream/nats_status.h"
#include "bridge/journal/jetstream/startup_retry.h"

namespace refir::bridge::jetstream {
namespace {

constexpr char kGroupKeyPrefix[] = "g.";
// How often LoadGroups tries to claim a group that the former holder keeps
// saving, and the wait between tries. A try loses only to a save that lands
// between its read and its write (one round trip); the former holder stops
// at its next lease renewal.
constexpr int kClaimTries = 50;
constexpr absl::Duration kClaimRetryWait = absl::Milliseconds(20);

// Group names are [A-Za-z0-9._-]; '.' separates subject tokens, '=' is in
// neither, so a name maps to one token and back.
std::string Token(absl::string_view group) { return absl::StrReplaceAll(group, {{".", "="}}); }
std::string FromToken(absl::string_view token) { return absl::StrReplaceAll(token, {{"=", "."}}); }

class JetStreamGroupStore final : public GroupStore {
 public:
  JetStreamGroupStore(GroupStoreSettings settings)
      : settings_(std::move(settings)),
        dead_stream_(DeadLetterStreamName(settings_.stream.name)),
        dead_prefix_(absl::StrCat(settings_.stream.subject_prefix, "_dead")) {}

  absl::Status Open(natsConnection* connection) {
    jsCtx* js = nullptr;
    jsOptions options = JsOptionsWithTimeout(settings_.timeout);
    REFIR_RETURN_IF_ERROR(
        NatsStatus(natsConnection_JetStream(&js, connection, &options), "JetStream context"));
    js_.reset(js);
    return RetryWhileUnavailable(settings_.startup_wait, {"store", "consumer groups"},
                                 [this] { return OpenBucketAndDeadLetters(); });
  }

  absl::Status OpenBucketAndDeadLetters() {
    jsCtx* js = js_.get();
    const std::string bucket = GroupBucketName(settings_.stream.name);
    kvStore* kv = nullptr;
    natsStatus status = js_KeyValue(&kv, js, bucket.c_str());
    if (status == NATS_NOT_FOUND) {
      kvConfig config;
      kvConfig_Init(&config);
      config.Bucket = bucket.c_str();
      config.Description = "refir-bridge consumer groups";
      config.History = 1;
      config.StorageType = js_FileStorage;
      config.Replicas = settings_.stream.replicas;
      status = js_CreateKeyValue(&kv, js, &config);
    }
    kv_.reset(kv);
    REFIR_RETURN_IF_ERROR(NatsStatus(status, absl::StrCat("consumer-group bucket ", bucket)));
    return EnsureDeadLetterStream();
  }

  absl::StatusOr<std::vector<internal::GroupState>> LoadGroups() override {
    kvKeysList keys;
    const natsStatus status = kvStore_Keys(&keys, kv_.get(), nullptr);
    std::vector<internal::GroupState> groups;
    if (status == NATS_NOT_FOUND) return groups;
    REFIR_RETURN_IF_ERROR(NatsStatus(status, "listing consumer groups"));
    std::vector<std::string> names;
    for (int i = 0; i < keys.Count; ++i) {
      absl::string_view key = keys.Keys[i];
      if (absl::ConsumePrefix(&key, kGroupKeyPrefix)) names.push_back(std::string(key));
    }
    kvKeysList_Destroy(&keys);
    // kvStore_Keys can list a key twice when it is written meanwhile (seen
    // when a former holder saves a group during a takeover).
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (const std::string& token : names) {
      absl::StatusOr<std::optional<internal::GroupState>> state = Claim(token);
      for (int tries = 1; absl::IsAborted(state.status()) && tries < kClaimTries; ++tries) {
        // The former holder saved it between the read and the claim (it
        // still served the groups while it could not reach its lease): read
        // that newer state and claim again.
        absl::SleepFor(kClaimRetryWait);
        state = Claim(token);
      }
      REFIR_RETURN_IF_ERROR(state.status());
      if (state->has_value()) groups.push_back(**std::move(state));
    }
    std::sort(groups.begin(), groups.end(),
              [](const auto& a, const auto& b) { return a.name() < b.name(); });
    return groups;
  }

  // Reads the group of `token` and writes it back: that moves its revision
  // on, so a replica that served the group before this one can no longer
  // save it. Nothing when the group was deleted meanwhile; ABORTED when
  // another replica saved it between the read and the write.
  absl::StatusOr<std::optional<internal::GroupState>> Claim(const std::string& token) {
    absl::StatusOr<KvEntryPtr> entry = GetEntry(absl::StrCat(kGroupKeyPrefix, token));
    if (absl::IsNotFound(entry.status())) return std::nullopt;
    REFIR_RETURN_IF_ERROR(entry.status());
    internal::GroupState state;
    if (!state.ParseFromArray(kvEntry_Value(entry->get()), kvEntry_ValueLen(entry->get()))) {
      return absl::DataLossError(
          absl::StrCat("the stored state of consumer group ", FromToken(token), " does not parse"));
    }
    {
      absl::MutexLock lock(&mu_);
      revisions_[state.name()] = kvEntry_Revision(entry->get());
    }
    REFIR_RETURN_IF_ERROR(DropDeadLettered(&state));
    std::string bytes;
    if (!state.SerializeToString(&bytes)) {
      return absl::InternalError("group state does not serialize");
    }
    REFIR_RETURN_IF_ERROR(PutState(state.name(), bytes));
    return state;
  }

  absl::Status SaveGroup(const internal::GroupState& state,
                         absl::Span<const internal::DeadLetterRecord> added_dead_letters,
                         absl::Span<const uint64_t> removed_dead_letters) override {
    for (const internal::DeadLetterRecord& record : added_dead_letters) {
      REFIR_RETURN_IF_ERROR(PublishDeadLetter(state.name(), record));
    }
    std::string bytes;
    if (!state.SerializeToString(&bytes))
      return absl::InternalError("group state does not serialize");
    REFIR_RETURN_IF_ERROR(PutState(state.name(), bytes));
    for (uint64_t sequence : removed_dead_letters) {
      REFIR_RETURN_IF_ERROR(DeleteDeadLetter(state.name(), sequence));
    }
    return absl::OkStatus();
  }

  absl::Status DeleteGroup(absl::string_view name) override {
    const std::string key = absl::StrCat(kGroupKeyPrefix, Token(name));
    const natsStatus status = kvStore_Purge(kv_.get(), key.c_str(), nullptr);
    if (status != NATS_NOT_FOUND) {
      REFIR_RETURN_IF_ERROR(NatsStatus(status, absl::StrCat("deleting consumer group ", name)));
    }
    {
      absl::MutexLock lock(&mu_);
      revisions_.erase(std::string(name));
    }
    jsOptions options = JsOptionsWithTimeout(settings_.timeout);
    const std::string subjects = absl::StrCat(DeadSubjectPrefix(name), ">");
    options.Stream.Purge.Subject = subjects.c_str();
    jsErrCode js_error = static_cast<jsErrCode>(0);
    return NatsStatus(js_PurgeStream(js_.get(), dead_stream_.c_str(), &options, &js_error),
                      absl::StrCat("deleting the dead letters of ", name), js_error);
  }

  absl::StatusOr<std::vector<internal::DeadLetterRecord>> ListDeadLetters(absl::string_view name,
                                                                          uint64_t after_sequence,
                                                                          size_t limit) override {
    REFIR_ASSIGN_OR_RETURN(std::vector<internal::DeadLetterRecord> records, AllDeadLetters(name));
    std::vector<internal::DeadLetterRecord> page;
    for (internal::DeadLetterRecord& record : records) {
      if (page.size() >= limit) break;
      if (record.sequence() > after_sequence) page.push_back(std::move(record));
    }
    return page;
  }

  absl::StatusOr<uint64_t> CountDeadLetters(absl::string_view name) override {
    REFIR_ASSIGN_OR_RETURN(std::vector<uint64_t> sequences, DeadLetterSequences(name));
    return sequences.size();
  }

 private:
  absl::Status EnsureDeadLetterStream() {
    const std::string subject = absl::StrCat(dead_prefix_, ".>");
    const char* subjects[] = {subject.c_str()};
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = dead_stream_.c_str();
    config.Description = "refir-bridge dead letters";
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    config.Replicas = settings_.stream.replicas;
    config.MaxMsgsPerSubject = 1;
    jsOptions options = JsOptionsWithTimeout(settings_.timeout);
    jsStreamInfo* raw = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    natsStatus status =
        js_GetStreamInfo(&raw, js_.get(), dead_stream_.c_str(), &options, &js_error);
    JsStreamInfoPtr info(raw);
    if (status == NATS_NOT_FOUND || js_error == JSStreamNotFoundErr) {
      raw = nullptr;
      js_error = static_cast<jsErrCode>(0);
      status = js_AddStream(&raw, js_.get(), &config, &options, &js_error);
      info.reset(raw);
    }
    return NatsStatus(status, absl::StrCat("dead-letter stream ", dead_stream_), js_error);
  }

  std::string DeadSubjectPrefix(absl::string_view group) const {
    return absl::StrCat(dead_prefix_, ".", Token(group), ".");
  }

  absl::StatusOr<KvEntryPtr> GetEntry(const std::string& key) {
    kvEntry* entry = nullptr;
    const natsStatus status = kvStore_Get(&entry, kv_.get(), key.c_str());
    KvEntryPtr owned(entry);
    if (status == NATS_NOT_FOUND) return absl::NotFoundError(key);
    REFIR_RETURN_IF_ERROR(NatsStatus(status, absl::StrCat("reading ", key)));
    return owned;
  }

  // Compare-and-set on the last revision this store saw (create when it saw
  // none): a write based on an older view fails with ABORTED.
  absl::Status PutState(const std::string& name, const std::string& bytes) {
    const std::string key = absl::StrCat(kGroupKeyPrefix, Token(name));
    uint64_t last = 0;
    {
      absl::MutexLock lock(&mu_);
      auto it = revisions_.find(name);
      if (it != revisions_.end()) last = it->second;
    }
    uint64_t revision = 0;
    const natsStatus status = last == 0
                                  ? kvStore_Create(&revision, kv_.get(), key.c_str(), bytes.data(),
                                                   static_cast<int>(bytes.size()))
                                  : kvStore_Update(&revision, kv_.get(), key.c_str(), bytes.data(),
                                                   static_cast<int>(bytes.size()), last);
    if (status != NATS_OK) {
      const absl::Status error = NatsStatus(status, absl::StrCat("saving consumer group ", name));
      if (absl::IsUnavailable(error)) return error;
      // A wrong last revision: another replica wrote the group since.
      return absl::AbortedError(absl::StrCat(
          error.message(), "; the group was changed by another replica since this one loaded it"));
    }
    absl::MutexLock lock(&mu_);
    revisions_[name] = revision;
    return absl::OkStatus();
  }

  absl::Status PublishDeadLetter(const std::string& group,
                                 const internal::DeadLetterRecord& record) {
    std::string bytes;
    if (!record.SerializeToString(&bytes))
      return absl::InternalError("dead letter does not serialize");
    const std::string subject = absl::StrCat(DeadSubjectPrefix(group), record.sequence());
    jsPubAck* ack = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    const natsStatus status = js_Publish(&ack, js_.get(), subject.c_str(), bytes.data(),
                                         static_cast<int>(bytes.size()), nullptr, &js_error);
    jsPubAck_Destroy(ack);
    return NatsStatus(status, absl::StrCat("writing a dead letter of ", group), js_error);
  }

  absl::Status DeleteDeadLetter(const std::string& group, uint64_t sequence) {
    const std::string subject = absl::StrCat(DeadSubjectPrefix(group), sequence);
    jsOptions options = JsOptionsWithTimeout(settings_.timeout);
    natsMsg* raw = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    natsStatus status =
        js_GetLastMsg(&raw, js_.get(), dead_stream_.c_str(), subject.c_str(), &options, &js_error);
    NatsMsgPtr msg(raw);
    if (status == NATS_NOT_FOUND || js_error == JSNoMessageFoundErr) return absl::OkStatus();
    REFIR_RETURN_IF_ERROR(NatsStatus(status, "finding a dead letter", js_error));
    const uint64_t stream_sequence = natsMsg_GetSequence(msg.get());
    js_error = static_cast<jsErrCode>(0);
    status = js_DeleteMsg(js_.get(), dead_stream_.c_str(), stream_sequence, &options, &js_error);
    if (status == NATS_NOT_FOUND || js_error == JSNoMessageFoundErr) return absl::OkStatus();
    return NatsStatus(status, "deleting a dead letter", js_error);
  }

  // The event sequences of `group`'s dead letters, ascending (from the
  // stream's per-subject counts: one message per dead letter).
  absl::StatusOr<std::vector<uint64_t>> DeadLetterSequences(absl::string_view group) {
    const std::string prefix = DeadSubjectPrefix(group);
    const std::string filter = absl::StrCat(prefix, ">");
    jsOptions options = JsOptionsWithTimeout(settings_.timeout);
    options.Stream.Info.SubjectsFilter = filter.c_str();
    jsStreamInfo* raw = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    const natsStatus status =
        js_GetStreamInfo(&raw, js_.get(), dead_stream_.c_str(), &options, &js_error);
    JsStreamInfoPtr info(raw);
    REFIR_RETURN_IF_ERROR(NatsStatus(status, "listing dead letters", js_error));
    std::vector<uint64_t> sequences;
    const jsStreamStateSubjects* subjects = info->State.Subjects;
    if (subjects == nullptr) return sequences;
    for (int i = 0; i < subjects->Count; ++i) {
      absl::string_view subject = subjects->List[i].Subject;
      uint64_t sequence = 0;
      if (subjects->List[i].Msgs > 0 && absl::ConsumePrefix(&subject, prefix) &&
          absl::SimpleAtoi(subject, &sequence)) {
        sequences.push_back(sequence);
      }
    }
    std::sort(sequences.begin(), sequences.end());
    return sequences;
  }

  absl::StatusOr<std::vector<internal::DeadLetterRecord>> AllDeadLetters(absl::string_view group) {
    REFIR_ASSIGN_OR_RETURN(std::vector<uint64_t> sequences, DeadLetterSequences(group));
    std::vector<internal::DeadLetterRecord> records;
    records.reserve(sequences.size());
    jsOptions options = JsOptionsWithTimeout(settings_.timeout);
    for (uint64_t sequence : sequences) {
      const std::string subject = absl::StrCat(DeadSubjectPrefix(group), sequence);
      natsMsg* raw = nullptr;
      jsErrCode js_error = static_cast<jsErrCode>(0);
      const natsStatus status = js_GetLastMsg(&raw, js_.get(), dead_stream_.c_str(),
                                              subject.c_str(), &options, &js_error);
      NatsMsgPtr msg(raw);
      if (status == NATS_NOT_FOUND || js_error == JSNoMessageFoundErr) continue;
      REFIR_RETURN_IF_ERROR(NatsStatus(status, "reading a dead letter", js_error));
      internal::DeadLetterRecord record;
      if (!record.ParseFromArray(natsMsg_GetData(msg.get()), natsMsg_GetDataLength(msg.get()))) {
        return absl::DataLossError(absl::StrCat("dead letter ", subject, " does not parse"));
      }
      records.push_back(std::move(record));
    }
    return records;
  }

  // Repairs a state saved before a crash finished SaveGroup: a sequence
  // that is dead-lettered is not unsettled.
  absl::Status DropDeadLettered(internal::GroupState* state) {
    REFIR_ASSIGN_OR_RETURN(std::vector<uint64_t> dead, DeadLetterSequences(state->name()));
    if (dead.empty()) return absl::OkStatus();
    const absl::flat_hash_set<uint64_t> dead_set(dead.begin(), dead.end());
    internal::GroupState kept = *state;
    kept.clear_unsettled_sequences();
    kept.clear_unsettled_attempts();
    for (int i = 0; i < state->unsettled_sequences_size(); ++i) {
      if (dead_set.contains(state->unsettled_sequences(i))) continue;
      kept.add_unsettled_sequences(state->unsettled_sequences(i));
      kept.add_unsettled_attempts(
          i < state->unsettled_attempts_size() ? state->unsettled_attempts(i) : 0);
    }
    *state = std::move(kept);
    return absl::OkStatus();
  }

  const GroupStoreSettings settings_;
  const std::string dead_stream_;
  const std::string dead_prefix_;
  JsContextPtr js_;
  KvStorePtr kv_;
  absl::Mutex mu_;
  // The revision of each group's key as this store last read or wrote it.
  absl::flat_hash_map<std::string, uint64_t> revisions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::string GroupBucketName(const std::string& stream) { return absl::StrCat(stream, "_GROUPS"); }
std::string DeadLetterStreamName(const std::string& stream) {
  return absl::StrCat(stream, "_DEAD");
}

absl::StatusOr<std::unique_ptr<GroupStore>> OpenJetStreamGroupStore(
    natsConnection* connection, const GroupStoreSettings& settings) {
  auto store = std::make_unique<JetStreamGroupStore>(settings);
  REFIR_RETURN_IF_ERROR(store->Open(connection));
  return store;
}

}  // namespace refir::bridge::jetstream
