#include "bridge/journal/sqlite/sqlite_journal.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/common/proto_time.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/recent_events.h"
#include "bridge/journal/sqlite/sqlite_constants.h"
#include "bridge/journal/sqlite/sqlite_group_commit.h"
#include "bridge/journal/sqlite/sqlite_journal_writer.h"
#include "bridge/journal/sqlite/sqlite_pending_append.h"
#include "bridge/journal/sqlite/sqlite_reader_pool.h"

namespace refir::bridge {
namespace {

using sqlite::GroupCommitter;
using sqlite::JournalWriter;
using sqlite::PendingAppend;
using sqlite::ReaderPool;

int64_t ReceivedAtMicros(const v1::Event& event) {
  if (!event.has_received_at()) return 0;
  // absl saturates instead of overflowing on absurd timestamps.
  return absl::ToUnixMicros(FromProtoTimestamp(event.received_at()));
}

// The Journal over its parts: appends go through the group committer to
// the writer; reads are served by the RecentEvents cache or a pooled reader;
// retention goes to the writer. Each part documents its own threading.
class SqliteJournal final : public Journal {
 public:
  explicit SqliteJournal(const SqliteJournalOptions& options)
      : path_(options.path), metrics_(options.metrics), recent_(options.recent_events_bytes) {}

  ~SqliteJournal() override { Close(); }

  SqliteJournal(const SqliteJournal&) = delete;
  SqliteJournal& operator=(const SqliteJournal&) = delete;

  // Opens the writer (creating or checking the schema), the readers, and
  // starts the committer.
  absl::Status Init(const SqliteJournalOptions& options) {
    REFIR_ASSIGN_OR_RETURN(writer_, JournalWriter::Open(path_, &recent_));
    REFIR_ASSIGN_OR_RETURN(const uint64_t head, writer_->QueryHead());
    recent_.CoverAfter(head);
    REFIR_RETURN_IF_ERROR(readers_.Open(path_, options.reader_connections));
    sqlite::GroupCommitOptions commit;
    commit.max_batch = options.max_batch;
    commit.max_pending = options.max_pending;
    commit.dedup_purge_interval = options.dedup_purge_interval;
    commit.dedup_purge_batch = options.dedup_purge_batch;
    commit.metrics = metrics_;
    committer_ = std::make_unique<GroupCommitter>(writer_.get(), commit, head);
    committer_->Start();
    return absl::OkStatus();
  }

  absl::StatusOr<AppendResult> Append(v1::Event event, DedupKey dedup) override {
    if (event.id().empty()) return absl::InvalidArgumentError("event id is empty");
    const absl::Time started = absl::Now();
    event.clear_sequence();
    PendingAppend record;
    record.event = &event;
    record.received_at_us =
        event.has_received_at() ? ReceivedAtMicros(event) : absl::ToUnixMicros(absl::Now());
    record.dedup_key = dedup.key;
    record.dedup_window_us = std::max<int64_t>(absl::ToInt64Microseconds(dedup.window), 0);
    // Serialize here, on the caller's thread: the committer only binds.
    if (!event.SerializeToString(&record.blob)) {
      return absl::InternalError(absl::StrCat("cannot serialize event '", event.id(), "'"));
    }
    REFIR_RETURN_IF_ERROR(committer_->Submit(&record));
    record.done.WaitForNotification();
    if (metrics_ != nullptr) metrics_->RecordAppend(absl::Now() - started);
    if (!record.status.ok()) return std::move(record.status);
    if (!record.result.duplicate) record.result.id = std::move(*event.mutable_id());
    return std::move(record.result);
  }

  absl::StatusOr<std::vector<v1::Event>> Read(uint64_t from_sequence, size_t max_events,
                                              size_t max_bytes) override {
    if (max_events == 0 || from_sequence > sqlite::kMaxSqliteInt) return std::vector<v1::Event>();
    ReaderPool::Lease reader(&readers_);
    return reader->Read(from_sequence, max_events, max_bytes);
  }

  absl::Status VisitStored(uint64_t from_sequence, size_t max_events,
                           StoredEventVisitor visit) override {
    if (max_events == 0 || from_sequence > sqlite::kMaxSqliteInt) return absl::OkStatus();
    // Streams that follow the head find their events here.
    if (recent_.Visit(from_sequence, max_events, visit)) return absl::OkStatus();
    ReaderPool::Lease reader(&readers_);
    return reader->VisitStored(from_sequence, max_events, visit);
  }

  absl::StatusOr<v1::Event> GetBySequence(uint64_t sequence) override {
    ReaderPool::Lease reader(&readers_);
    return reader->GetBySequence(sequence);
  }

  absl::StatusOr<v1::Event> GetById(absl::string_view id) override {
    ReaderPool::Lease reader(&readers_);
    return reader->GetById(id);
  }

  absl::StatusOr<uint64_t> FirstSequenceAtOrAfter(absl::Time time) override {
    // Head first: an event committed after the query must not be skipped.
    const uint64_t head = HeadSequence();
    ReaderPool::Lease reader(&readers_);
    return reader->FirstSequenceAtOrAfter(time, head);
  }

  absl::StatusOr<uint64_t> FirstSequence() override {
    const uint64_t head = HeadSequence();
    ReaderPool::Lease reader(&readers_);
    return reader->FirstSequence(head);
  }

  absl::StatusOr<DeleteResult> DeleteOldest(const DeleteRequest& request) override {
    return writer_->DeleteOldest(request);
  }

  absl::StatusOr<uint64_t> StoredBytes() override { return writer_->StoredBytes(); }

  uint64_t HeadSequence() const override { return committer_->head(); }

  bool Writable() const override { return committer_->writable(); }

  void AddAppendListener(AppendListener listener) override {
    committer_->AddAppendListener(std::move(listener));
  }

  void Close() override {
    if (committer_ != nullptr) committer_->Close();
  }

 private:
  const std::string path_;
  JournalMetrics* const metrics_;

  // Declared in the order they depend on each other: the committer (last,
  // so destroyed first, joining its thread) uses the writer, which feeds
  // the cache.
  RecentEvents recent_;
  ReaderPool readers_;
  std::unique_ptr<JournalWriter> writer_;
  std::unique_ptr<GroupCommitter> committer_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Journal>> OpenSqliteJournal(const SqliteJournalOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("journal path is empty");
  auto journal = std::make_unique<SqliteJournal>(options);
  REFIR_RETURN_IF_ERROR(journal->Init(options));
  return journal;
}

}  // namespace refir::bridge
