// Group states and dead letters for the GroupStore tests (the contract on
// both backends and the SQLite store's own tests): every field set, so a
// round trip that loses one shows.
#ifndef REFIR_BRIDGE_TESTS_JOURNAL_GROUP_STORE_TEST_UTIL_H_
#define REFIR_BRIDGE_TESTS_JOURNAL_GROUP_STORE_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bridge/journal/group_state.pb.h"

namespace refir::bridge::testing {

// A group with every field set, including the unsettled lists.
inline internal::GroupState MakeState(const std::string& name, uint64_t cursor = 100) {
  internal::GroupState state;
  state.set_name(name);
  state.add_filter_types("refir.referral.created");
  state.add_filter_types("refir.referral.converted");
  state.set_max_delivery_attempts(5);
  state.set_created_at_unix_micros(1'700'000'000'123'456);
  state.set_cursor(cursor);
  state.add_unsettled_sequences(cursor - 7);
  state.add_unsettled_attempts(3);
  state.add_unsettled_sequences(cursor - 2);
  state.add_unsettled_attempts(0);
  state.set_redelivered_total(42);
  state.mutable_retry_policy()->set_minimum_backoff_nanos(1'500'000);
  state.mutable_retry_policy()->set_maximum_backoff_nanos(3'600'000'000'000);
  state.set_enable_ordering(true);
  state.set_idle_expiry_nanos(3'600'000'000'000);
  return state;
}

inline internal::DeadLetterRecord MakeDeadLetter(uint64_t sequence,
                                                 const std::string& reason = "nacked") {
  internal::DeadLetterRecord record;
  record.set_sequence(sequence);
  record.set_delivery_attempts(static_cast<int32_t>(sequence % 7) + 1);
  record.set_reason(reason);
  record.set_dead_lettered_at_unix_micros(1'700'000'000'000'000 +
                                          static_cast<int64_t>(sequence % 1'000'000));
  return record;
}

// The sequences of `records`, in their order.
inline std::vector<uint64_t> Sequences(const std::vector<internal::DeadLetterRecord>& records) {
  std::vector<uint64_t> sequences;
  for (const internal::DeadLetterRecord& record : records) sequences.push_back(record.sequence());
  return sequences;
}

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_JOURNAL_GROUP_STORE_TEST_UTIL_H_
