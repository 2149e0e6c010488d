#include "bridge/delivery/start_position.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace refir::bridge {

absl::StatusOr<uint64_t> ResolveStartSequence(Journal& journal, const v1::StartPosition& start) {
  switch (start.position_case()) {
    case v1::StartPosition::kEarliest:
      return journal.FirstSequence();
    case v1::StartPosition::kSequence:
      return std::max<uint64_t>(start.sequence(), 1);
    case v1::StartPosition::kTime: {
      const google::protobuf::Timestamp& time = start.time();
      if (time.nanos() < 0 || time.nanos() > 999999999) {
        return absl::InvalidArgumentError(
            absl::StrCat("start.time.nanos out of range: ", time.nanos()));
      }
      return journal.FirstSequenceAtOrAfter(absl::FromUnixSeconds(time.seconds()) +
                                            absl::Nanoseconds(time.nanos()));
    }
    case v1::StartPosition::kLatest:
    case v1::StartPosition::POSITION_NOT_SET:
      return journal.HeadSequence() + 1;
  }
  return absl::InvalidArgumentError("unknown start position");
}

}  // namespace refir::bridge
