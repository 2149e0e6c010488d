// StreamPosition: where a stream starts or a consumer group is sought to
// (earliest, latest, a sequence, a time), and its resolution to the first
// journal sequence to deliver.
#ifndef REFIR_BRIDGE_DELIVERY_START_POSITION_H_
#define REFIR_BRIDGE_DELIVERY_START_POSITION_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/journal/journal.h"

namespace refir::bridge {

struct StreamPosition {
  enum class Kind {
    kLatest,    // only events appended from now on
    kEarliest,  // the oldest stored event
    kSequence,  // the first stored event with at least `sequence`
    kTime,      // the first stored event received at or after `time`
  };
  Kind kind = Kind::kLatest;
  uint64_t sequence = 0;
  absl::Time time;

  static StreamPosition Latest() { return {}; }
  static StreamPosition Earliest() { return {Kind::kEarliest, 0, absl::Time()}; }
  static StreamPosition AtSequence(uint64_t sequence) {
    return {Kind::kSequence, sequence, absl::Time()};
  }
  static StreamPosition AtTime(absl::Time time) { return {Kind::kTime, 0, time}; }
};

// Latest means HeadSequence() + 1. A sequence of 0 means 1.
absl::StatusOr<uint64_t> ResolveStartSequence(Journal& journal, const StreamPosition& start);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_DELIVERY_START_POSITION_H_
