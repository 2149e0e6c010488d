// An in-memory Journal for the webhook handler tests: records appends and
// their dedup keys, or fails them with a chosen status.
#ifndef REFIR_BRIDGE_TESTS_HTTP_EDGE_FAKE_JOURNAL_H_
#define REFIR_BRIDGE_TESTS_HTTP_EDGE_FAKE_JOURNAL_H_

#include <vector>

#include "bridge/journal/journal.h"

namespace refir::bridge {

class FakeJournal : public Journal {
 public:
  absl::StatusOr<AppendResult> Append(v1::Event event, DedupKey dedup) override {
    if (!append_status.ok()) return append_status;
    appended.push_back(event);
    keys.push_back(dedup);
    if (duplicate_of.duplicate) return duplicate_of;
    return AppendResult{appended.size(), event.id(), false};
  }
  absl::StatusOr<std::vector<v1::Event>> Read(uint64_t, size_t, size_t) override {
    return std::vector<v1::Event>();
  }
  absl::StatusOr<v1::Event> GetBySequence(uint64_t) override { return absl::NotFoundError("fake"); }
  absl::StatusOr<v1::Event> GetById(absl::string_view) override {
    return absl::NotFoundError("fake");
  }
  absl::StatusOr<uint64_t> FirstSequenceAtOrAfter(absl::Time) override { return 1; }
  absl::StatusOr<uint64_t> FirstSequence() override { return 1; }
  absl::StatusOr<DeleteResult> DeleteOldest(const DeleteRequest&) override {
    return absl::UnimplementedError("not in the fake");
  }
  absl::StatusOr<uint64_t> StoredBytes() override { return 0; }
  uint64_t HeadSequence() const override { return appended.size(); }
  bool Writable() const override { return true; }
  void AddAppendListener(AppendListener) override {}
  void Close() override {}

  absl::Status append_status;
  std::vector<v1::Event> appended;
  std::vector<DedupKey> keys;
  // Answered to every append when its `duplicate` is set.
  AppendResult duplicate_of;
};

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_TESTS_HTTP_EDGE_FAKE_JOURNAL_H_
