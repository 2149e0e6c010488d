#include "bridge/delivery/retention.h"

#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/common/log.h"
#include "bridge/common/proto_time.h"
#include "bridge/common/status_macros.h"

namespace refir::bridge {

absl::Status RetentionOptions::Validate() const {
  if (retention < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--retention must not be negative (0 keeps events forever)");
  }
  if (check_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--retention_check_interval must be positive");
  }
  return absl::OkStatus();
}

Retention::Retention(RetentionOptions options, Journal* journal, GroupRegistry* groups)
    : options_(std::move(options)), journal_(journal), groups_(groups) {}

Retention::~Retention() { Stop(); }

void Retention::Start() {
  thread_ = std::thread([this] {
    absl::MutexLock lock(&mu_);
    while (!stopping_) {
      mu_.Unlock();
      if (absl::Status status = RunOnce(absl::Now()); !status.ok()) {
        LogWarning(absl::StrCat("retention: ", status.ToString()));
      }
      mu_.Lock();
      // Wakes early only to stop.
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.check_interval);
    }
  });
}

void Retention::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status Retention::RunOnce(absl::Time now) {
  uint64_t floor = std::numeric_limits<uint64_t>::max();
  std::map<std::string, uint64_t> needed;
  if (!options_.ignore_pending) {
    REFIR_ASSIGN_OR_RETURN(needed, groups_->NeededSequences());
    for (const auto& [name, sequence] : needed) floor = std::min(floor, sequence);
  }
  DeleteRequest request;
  request.below_sequence = floor;
  request.max_events = options_.batch;
  if (options_.retention > absl::ZeroDuration()) {
    request.received_before = now - options_.retention;
    REFIR_RETURN_IF_ERROR(DeleteWhile(request, "received longer than --retention ago", false));
  }
  if (options_.max_bytes > 0) {
    request.received_before = absl::InfiniteFuture();
    REFIR_RETURN_IF_ERROR(DeleteWhile(request, "journal over --max_journal_bytes", true));
  }
  return ReportHoldingGroups(needed, now);
}

absl::Status Retention::ReportHoldingGroups(const std::map<std::string, uint64_t>& needed,
                                            absl::Time now) {
  std::vector<std::string> holding;
  REFIR_ASSIGN_OR_RETURN(uint64_t first, journal_->FirstSequence());
  const char* limit = nullptr;
  if (first <= journal_->HeadSequence() && !needed.empty()) {
    // What is left is over a limit only because groups still need it.
    if (options_.max_bytes > 0) {
      REFIR_ASSIGN_OR_RETURN(uint64_t bytes, journal_->StoredBytes());
      if (bytes > options_.max_bytes) limit = "--max_journal_bytes";
    }
    if (limit == nullptr && options_.retention > absl::ZeroDuration()) {
      REFIR_ASSIGN_OR_RETURN(v1::Event oldest, journal_->GetBySequence(first));
      if (FromProtoTimestamp(oldest.received_at()) < now - options_.retention) {
        limit = "--retention";
      }
    }
  }
  if (limit != nullptr) {
    for (const auto& [name, sequence] : needed) {
      if (sequence > first) continue;
      holding.push_back(name);
      LogWarning(absl::StrCat("retention: consumer group \"", name, "\" holds the journal past ",
                              limit, ": it still needs sequence ", sequence,
                              " and later; ack, seek or delete the group (or give it an idle "
                              "expiry)"));
    }
  }
  groups_->SetHoldingJournal(std::move(holding));
  return absl::OkStatus();
}

absl::Status Retention::DeleteWhile(DeleteRequest request, const char* why, bool size_limited) {
  DeleteResult total;
  absl::Status status;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    if (size_limited) {
      absl::StatusOr<uint64_t> bytes = journal_->StoredBytes();
      if (!bytes.ok()) {
        status = bytes.status();
        break;
      }
      if (*bytes <= options_.max_bytes) break;
      // Delete about as many as the excess holds (at the average event
      // size), so that a batch does not trim far below the limit.
      absl::StatusOr<uint64_t> first = journal_->FirstSequence();
      if (!first.ok()) {
        status = first.status();
        break;
      }
      const uint64_t head = journal_->HeadSequence();
      const uint64_t count = head >= *first ? head - *first + 1 : 1;
      const uint64_t average = std::max<uint64_t>(*bytes / count, 1);
      const uint64_t excess_events = (*bytes - options_.max_bytes + average - 1) / average;
      request.max_events = static_cast<size_t>(
          std::clamp<uint64_t>(excess_events, 1, static_cast<uint64_t>(options_.batch)));
    }
    absl::StatusOr<DeleteResult> deleted = journal_->DeleteOldest(request);
    if (!deleted.ok()) {
      status = deleted.status();
      break;
    }
    if (deleted->deleted > 0) {
      if (total.deleted == 0) total.first_sequence = deleted->first_sequence;
      total.last_sequence = deleted->last_sequence;
      total.deleted += deleted->deleted;
    }
    if (deleted->deleted == 0 && size_limited) {
      LogWarning(absl::StrCat("retention: the journal is over --max_journal_bytes but nothing ",
                              "more can be deleted: the oldest event left is still needed by a ",
                              "consumer group (or none is left)"));
    }
    if (deleted->deleted < request.max_events && !size_limited) break;
    // (Size-limited runs go on until under the limit or nothing is left.)
    if (deleted->deleted == 0) break;
  }
  if (total.deleted > 0) {
    LogInfo(absl::StrCat("retention: deleted ", total.deleted, " events (sequences ",
                         total.first_sequence, " to ", total.last_sequence, "): ", why));
  }
  return status;
}

}  // namespace refir::bridge
