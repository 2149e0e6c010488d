#include "bridge/journal/jetstream/group_coordinator.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/jetstream/nats_handles.h"
#include "bridge/journal/jetstream/nats_status.h"

namespace refir::bridge::jetstream {
namespace {

constexpr char kLeaseKey[] = "coordinator";
constexpr char kReleased[] = "released";

// The lease's value: "<replica id>\n<advertised address>".
std::pair<std::string, std::string> SplitHolder(absl::string_view value) {
  return absl::StrSplit(value, absl::MaxSplits('\n', 1));
}

std::string DescribeHolder(absl::string_view value) {
  std::pair<std::string, std::string> parts = SplitHolder(value);
  return absl::StrCat("replica ", parts.first, " at ", parts.second);
}

}  // namespace

struct GroupCoordinator::Handles {
  JsContextPtr js;
  KvStorePtr kv;
};

GroupCoordinator::GroupCoordinator(CoordinatorOptions options, AcquiredCallback on_acquired,
                                   std::function<void()> on_lost)
    : options_(std::move(options)),
      value_(absl::StrCat(options_.replica_id, "\n", options_.advertised_address)),
      on_acquired_(std::move(on_acquired)),
      on_lost_(std::move(on_lost)),
      handles_(std::make_unique<Handles>()) {}

GroupCoordinator::~GroupCoordinator() { Stop(); }

absl::StatusOr<std::unique_ptr<GroupCoordinator>> GroupCoordinator::Start(
    natsConnection* connection, CoordinatorOptions options, AcquiredCallback on_acquired,
    std::function<void()> on_lost) {
  auto coordinator = std::make_unique<GroupCoordinator>(std::move(options), std::move(on_acquired),
                                                        std::move(on_lost));
  REFIR_RETURN_IF_ERROR(coordinator->Init(connection));
  coordinator->Tick(absl::Now());
  coordinator->thread_ = std::thread([c = coordinator.get()] { c->Run(); });
  return coordinator;
}

absl::Status GroupCoordinator::Init(natsConnection* connection) {
  jsCtx* js = nullptr;
  REFIR_RETURN_IF_ERROR(
      NatsStatus(natsConnection_JetStream(&js, connection, nullptr), "JetStream"));
  handles_->js.reset(js);
  kvStore* kv = nullptr;
  REFIR_RETURN_IF_ERROR(NatsStatus(js_KeyValue(&kv, js, options_.bucket.c_str()),
                                   absl::StrCat("bucket ", options_.bucket)));
  handles_->kv.reset(kv);
  return absl::OkStatus();
}

std::string GroupCoordinator::holder() const {
  absl::MutexLock lock(&mu_);
  return holder_;
}

std::string GroupCoordinator::holder_address() const {
  absl::MutexLock lock(&mu_);
  return holder_address_;
}

void GroupCoordinator::Run() {
  const absl::Duration step = options_.lease / 5;
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), step);
    if (stopping_) break;
    mu_.Unlock();
    Tick(absl::Now());
    mu_.Lock();
  }
}

void GroupCoordinator::Tick(absl::Time now) {
  if (holds_lease()) {
    Renew(now);
  } else {
    TryAcquire(now);
  }
}

void GroupCoordinator::TryAcquire(absl::Time now) {
  kvStore* kv = handles_->kv.get();
  kvEntry* raw = nullptr;
  const natsStatus got = kvStore_Get(&raw, kv, kLeaseKey);
  KvEntryPtr entry(raw);
  uint64_t revision = 0;
  natsStatus taken = NATS_ERR;
  if (got != NATS_OK && got != NATS_NOT_FOUND) {
    // No credit for time not seen: after an outage (a NATS leader election)
    // the holder gets a whole lease to renew before this replica takes over.
    seen_revision_ = 0;
    return;
  }
  if (got == NATS_NOT_FOUND) {
    taken =
        kvStore_Create(&revision, kv, kLeaseKey, value_.data(), static_cast<int>(value_.size()));
  } else if (got == NATS_OK) {
    const uint64_t seen = kvEntry_Revision(entry.get());
    const absl::string_view value(kvEntry_ValueString(entry.get()));
    // Our own id: this replica restarted (its data directory is locked, so
    // the process that held the lease is gone).
    const bool ours = absl::StartsWith(value, absl::StrCat(options_.replica_id, "\n"));
    if (seen != seen_revision_) {
      seen_revision_ = seen;
      seen_changed_at_ = now;
      absl::MutexLock lock(&mu_);
      holder_ = value == kReleased ? "" : DescribeHolder(value);
      holder_address_ = value == kReleased || ours ? "" : SplitHolder(value).second;
    }
    if (value == kReleased || ours || now - seen_changed_at_ >= options_.lease) {
      taken = kvStore_Update(&revision, kv, kLeaseKey, value_.data(),
                             static_cast<int>(value_.size()), seen);
    }
  }
  if (taken != NATS_OK) return;  // a standby still (or NATS unreachable)
  held_revision_ = revision;
  last_renewed_ = now;
  {
    absl::MutexLock lock(&mu_);
    holder_ = DescribeHolder(value_);
    holder_address_.clear();
  }
  holds_lease_.store(true, std::memory_order_release);
  if (on_acquired_) {
    const absl::Status serving = on_acquired_();
    if (!serving.ok()) {
      GiveBack(serving);
      return;
    }
  }
  LogInfo("this replica now serves the consumer groups",
          {{"replica", options_.replica_id}, {"bucket", options_.bucket}});
}

void GroupCoordinator::GiveBack(const absl::Status& error) {
  holds_lease_.store(false, std::memory_order_release);
  uint64_t revision = 0;
  // Best effort: when NATS does not take it, the lease still names this
  // replica, which takes it again at its next step (a standby waits out the
  // lease).
  const natsStatus released =
      kvStore_Update(&revision, handles_->kv.get(), kLeaseKey, kReleased,
                     static_cast<int>(sizeof(kReleased) - 1), held_revision_);
  seen_revision_ = 0;
  {
    absl::MutexLock lock(&mu_);
    holder_.clear();
    holder_address_.clear();
  }
  LogWarning("cannot serve the consumer groups yet; gave the lease back and will try again",
             {{"replica", options_.replica_id},
              {"error", error.ToString()},
              {"released", released == NATS_OK}});
}

void GroupCoordinator::Renew(absl::Time now) {
  uint64_t revision = 0;
  const natsStatus status = kvStore_Update(&revision, handles_->kv.get(), kLeaseKey, value_.data(),
                                           static_cast<int>(value_.size()), held_revision_);
  if (status == NATS_OK) {
    held_revision_ = revision;
    last_renewed_ = now;
    renew_warned_ = false;
    return;
  }
  const absl::Status error = NatsStatus(status, "renewing the consumer-group lease");
  // Only a revision mismatch says another replica took the lease; any other
  // failure (timeout, no leader, "JetStream system temporarily
  // unavailable") is an outage.
  const bool taken = absl::StrContains(error.message(), "wrong last sequence");
  // NATS unreachable or electing a leader: no standby can take the lease
  // meanwhile either (that is a write too, and a standby gives no credit for
  // time it could not read), so keep serving and retrying, up to a bound
  // past which a standby on the other side of a partition may have.
  if (!taken && now - last_renewed_ < UnreachableBound()) {
    if (!renew_warned_) {
      renew_warned_ = true;
      LogWarning("cannot renew the consumer-group lease yet; retrying",
                 {{"replica", options_.replica_id}, {"error", error.message()}});
    }
    return;
  }
  holds_lease_.store(false, std::memory_order_release);
  LogError(
      "this replica lost the consumer-group lease; exiting so that only one replica serves "
      "the groups",
      {{"replica", options_.replica_id}, {"error", error.message()}});
  if (on_lost_) on_lost_();
}

absl::Duration GroupCoordinator::UnreachableBound() const {
  return std::max(options_.lease * 3, absl::Seconds(30));
}

void GroupCoordinator::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  if (holds_lease() && handles_->kv != nullptr) {
    uint64_t revision = 0;
    // Best effort: a standby takes the lease at its next look.
    (void)kvStore_Update(&revision, handles_->kv.get(), kLeaseKey, kReleased,
                         static_cast<int>(sizeof(kReleased) - 1), held_revision_);
    holds_lease_.store(false, std::memory_order_release);
  }
}

}  // namespace refir::bridge::jetstream
