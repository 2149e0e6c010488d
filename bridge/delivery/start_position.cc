#include "bridge/delivery/start_position.h"

#include <algorithm>

#include "absl/status/status.h"

namespace refir::bridge {

absl::StatusOr<uint64_t> ResolveStartSequence(Journal& journal, const StreamPosition& start) {
  switch (start.kind) {
    case StreamPosition::Kind::kEarliest:
      return journal.FirstSequence();
    case StreamPosition::Kind::kSequence:
      return std::max<uint64_t>(start.sequence, 1);
    case StreamPosition::Kind::kTime:
      return journal.FirstSequenceAtOrAfter(start.time);
    case StreamPosition::Kind::kLatest:
      return journal.HeadSequence() + 1;
  }
  return absl::InvalidArgumentError("unknown start position");
}

}  // namespace refir::bridge
