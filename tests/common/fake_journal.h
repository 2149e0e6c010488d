// The one in-memory Journal of the unit tests: stores what is appended (or
// fails appends with a chosen status, or answers them as duplicates), and
// serves reads by sequence. The real SQLite journal is tested in
// tests/journal and end to end in tests/integration.
#ifndef REFIR_BRIDGE_TESTS_COMMON_FAKE_JOURNAL_H_
#define REFIR_BRIDGE_TESTS_COMMON_FAKE_JOURNAL_H_

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/journal/journal.h"

namespace refir::bridge::testing {

class FakeJournal final : public Journal {
 public:
  // Stores an event of `type` (id "id-<sequence>") with `ordering_key`;
  // returns its sequence.
  uint64_t Add(const std::string& type, const std::string& ordering_key = "") {
    v1::Event event;
    event.set_id(absl::StrCat("id-", appended.size() + 1));
    event.set_type(type);
    event.set_ordering_key(ordering_key);
    return Store(std::move(event));
  }

  absl::StatusOr<AppendResult> Append(v1::Event event, DedupKey dedup) override {
    if (!append_status.ok()) return append_status;
    keys.push_back(std::move(dedup));
    if (duplicate_of.duplicate) {
      appended.push_back(std::move(event));
      return duplicate_of;
    }
    std::string id = event.id();
    const uint64_t sequence = Store(std::move(event));
    return AppendResult{sequence, std::move(id), false};
  }
  absl::StatusOr<std::vector<v1::Event>> Read(uint64_t from, size_t max_events, size_t) override {
    std::vector<v1::Event> out;
    for (uint64_t s = std::max<uint64_t>(from, 1); s <= appended.size() && out.size() < max_events;
         ++s) {
      out.push_back(appended[s - 1]);
    }
    return out;
  }
  absl::StatusOr<v1::Event> GetBySequence(uint64_t sequence) override {
    if (sequence == 0 || sequence > appended.size()) return absl::NotFoundError("no such event");
    return appended[sequence - 1];
  }
  absl::StatusOr<v1::Event> GetById(absl::string_view) override {
    return absl::NotFoundError("not implemented in the fake");
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

  // Failing appends return this when it is not OK.
  absl::Status append_status;
  // Every event appended (or Added), in order: event i has sequence i + 1
  // (unless answered as a duplicate).
  std::vector<v1::Event> appended;
  // The dedup key of every Append.
  std::vector<DedupKey> keys;
  // Answered to every append when its `duplicate` is set.
  AppendResult duplicate_of;

 private:
  uint64_t Store(v1::Event event) {
    event.set_sequence(appended.size() + 1);
    appended.push_back(std::move(event));
    return appended.size();
  }
};

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_COMMON_FAKE_JOURNAL_H_
