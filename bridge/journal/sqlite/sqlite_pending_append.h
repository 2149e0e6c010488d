// PendingAppend: one Journal::Append on its way from the caller's thread
// through the group commit (sqlite_group_commit.h) to the writer
// (sqlite_journal_writer.h) and back.
//
// Lifetime and threading: lives on the caller's stack. The caller fills in
// the inputs before handing it to GroupCommitter::Append and reads
// `status`/`result` after that returns. In between the record belongs to the
// thread leading the commit that takes it (the caller's own, or another
// caller's), and to the writer that leader calls; a leader that committed
// another thread's record, or hands it leadership, notifies `wake` last and
// never touches the record again.
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
  // Set (before `wake`) when this record's thread is to lead the next
  // commit rather than having been committed.
  bool lead = false;
  // Notified once: the record was committed, or its thread leads next.
  absl::Notification wake;
};

}  // namespace refir::bridge::sqlite

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_PENDING_APPEND_H_
