// Retention: a background task that deletes the oldest journal events, by
// age (older than `retention`) and/or by size (oldest first until the
// journal is under `max_bytes`), in small batches, never deleting an event a
// consumer group may still deliver unless told to ignore the groups.
#ifndef REFIR_BRIDGE_DELIVERY_RETENTION_H_
#define REFIR_BRIDGE_DELIVERY_RETENTION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bridge/delivery/group_registry.h"
#include "bridge/journal/journal.h"

namespace refir::bridge {

struct RetentionOptions {
  // Events received longer ago than this are deleted; zero keeps them.
  absl::Duration retention = absl::ZeroDuration();
  // Oldest events are deleted while the journal is larger; zero: no limit.
  uint64_t max_bytes = 0;
  absl::Duration check_interval = absl::Minutes(1);
  // Delete even events that consumer groups have not settled.
  bool ignore_pending = false;
  // Events per delete transaction.
  size_t batch = 500;

  bool enabled() const { return retention > absl::ZeroDuration() || max_bytes > 0; }
  // INVALID_ARGUMENT (naming the flag) for a negative retention or a
  // non-positive check interval.
  absl::Status Validate() const;
};

class Retention {
 public:
  // `journal` and `groups` must outlive the task.
  Retention(RetentionOptions options, Journal* journal, GroupRegistry* groups);
  ~Retention();

  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // Starts the background thread (a check at once, then every interval).
  void Start();
  // Stops and joins the thread. Idempotent.
  void Stop();

  // One check: deletes what the options allow now. Logs what it deleted.
  absl::Status RunOnce(absl::Time now);

 private:
  // Deletes batches of `request` until one comes back short (or, when
  // `size_limited`, until the journal is under max_bytes), then logs them.
  absl::Status DeleteWhile(DeleteRequest request, const char* why, bool size_limited);
  // After a check: marks (ConsumerGroup.holding_journal) and logs the groups
  // whose needed events (`needed`, per group) keep the journal over a limit.
  absl::Status ReportHoldingGroups(const std::map<std::string, uint64_t>& needed, absl::Time now);

  const RetentionOptions options_;
  Journal* const journal_;
  GroupRegistry* const groups_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_RETENTION_H_
