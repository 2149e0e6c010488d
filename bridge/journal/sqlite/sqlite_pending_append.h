// PendingAppend: one Journal::Append on its way from the caller's thread
// through the group committer (sqlite_group_commit.h) to the writer
// (sqlite_journal_writer.h) and back.
//
// Lifetime and threading: lives on the caller's stack. The caller fills in
// the inputs before queueing it and reads `status`/`result` only after
// `done` is notified. In between only the committer thread touches it (and
// the writer, which the committer calls); after notifying `done` the
// committer never touches it again.
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_PENDING_APPEND_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_PENDING_APPEND_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "bridge/journal/journal.h"

namespace refir::bridge::sqlite {

struct PendingAppend {
  // The caller's event (without sequence). The writer changes its id (and
  // `blob`) only when the id is taken.
  v1::Event* event = nullptr;
  int64_t received_at_us = 0;
  std::string blob;             // serialized *event
  absl::string_view dedup_key;  // empty: no dedup
  int64_t dedup_window_us = 0;
  absl::Status status;
  AppendResult result;
  absl::Notification done;
};

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_PENDING_APPEND_H_
