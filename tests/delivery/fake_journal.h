// An in-memory Journal for unit tests of the delivery layer (the real SQLite
// journal is tested in tests/journal and end to end in tests/integration).
#ifndef REFIR_BRIDGE_TESTS_DELIVERY_FAKE_JOURNAL_H_
#define REFIR_BRIDGE_TESTS_DELIVERY_FAKE_JOURNAL_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/journal/journal.h"

namespace refir::bridge::testing {

class FakeJournal : public Journal {
 public:
  // Appends an event of `type`; returns its sequence.
  uint64_t Add(const std::string& type) {
    v1::Event event;
    event.set_sequence(events_.size() + 1);
    event.set_id(absl::StrCat("id-", events_.size() + 1));
    event.set_type(type);
    events_.push_back(event);
    return event.sequence();
  }

  absl::StatusOr<AppendResult> Append(v1::Event event, DedupKey) override {
    const uint64_t sequence = Add(event.type());
    return AppendResult{sequence, events_.back().id(), false};
  }
  absl::StatusOr<std::vector<v1::Event>> Read(uint64_t from, size_t max_events, size_t) override {
    std::vector<v1::Event> out;
    for (uint64_t s = std::max<uint64_t>(from, 1); s <= events_.size() && out.size() < max_events;
         ++s) {
      out.push_back(events_[s - 1]);
    }
    return out;
  }
  absl::StatusOr<v1::Event> GetBySequence(uint64_t sequence) override {
    if (sequence == 0 || sequence > events_.size()) return absl::NotFoundError("no such event");
    return events_[sequence - 1];
  }
  absl::StatusOr<v1::Event> GetById(absl::string_view) override {
    return absl::NotFoundError("not implemented in the fake");
  }
  absl::StatusOr<uint64_t> FirstSequenceAtOrAfter(absl::Time) override { return 1; }
  absl::StatusOr<uint64_t> FirstSequence() override { return 1; }
  uint64_t HeadSequence() const override { return events_.size(); }
  bool Writable() const override { return true; }
  void AddAppendListener(AppendListener) override {}
  void Close() override {}

 private:
  std::vector<v1::Event> events_;
};

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_DELIVERY_FAKE_JOURNAL_H_
