// The JetStream stream that holds the journal: its settings, created when
// absent, checked when present. Subjects, storage, replicas and the
// duplicate window must match (a mismatch stops startup, saying what
// differs: changing them in place would split or lose data); the limits
// (--retention as MaxAge, --max_journal_bytes as MaxBytes) are updated to
// the configured values, since they are the operator's to change.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_STREAM_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_STREAM_H_

#include <nats/nats.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace refir::bridge::jetstream {

struct StreamSettings {
  std::string name = "REFIR";
  // Events are published to `<subject_prefix>.<event type>`; the stream
  // takes `<subject_prefix>.>`.
  std::string subject_prefix = "refir.events";
  int replicas = 1;
  // Zero: kept forever.
  absl::Duration max_age = absl::ZeroDuration();
  // Zero: no byte limit.
  uint64_t max_bytes = 0;
  // The dedup window: a Nats-Msg-Id seen within it is a duplicate.
  absl::Duration duplicate_window = absl::Minutes(10);

  // INVALID_ARGUMENT naming the flag: a name or prefix JetStream refuses,
  // replicas outside 1..5, a duplicate window longer than max_age.
  absl::Status Validate() const;
};

// The subject an event of `type` is published to: the prefix, a dot, and
// the type with every character a subject token cannot hold (space, tab,
// '*', '>', and empty tokens) replaced by '_'; "unknown" for an empty type.
std::string EventSubject(absl::string_view subject_prefix, absl::string_view type);

struct StreamState {
  uint64_t first_sequence = 0;  // last_sequence + 1 when empty
  uint64_t last_sequence = 0;   // 0 when nothing was ever stored
  uint64_t messages = 0;
  uint64_t bytes = 0;
};

// Creates the stream or checks and updates it (see above); returns its state.
absl::StatusOr<StreamState> EnsureStream(jsCtx* js, const StreamSettings& settings);

// The stream's state now.
absl::StatusOr<StreamState> GetStreamState(jsCtx* js, const std::string& stream,
                                           absl::Duration timeout);

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_STREAM_H_
