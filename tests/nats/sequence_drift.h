// A known fault of nats-server 2.9.10 (Debian 12) that the JetStream cluster
// tests meet when they kill the stream leader: the replicas can number the
// messages that follow differently (clfs drift, nats-server#4174, fixed
// upstream by #4365), so a webhook turns up at the sequence one below the one
// its 200 answer named, and a reader can miss a message that another replica
// held at the same sequence. The bridge cannot mend it (docs/scaling.md).
#ifndef REFIR_TESTS_NATS_SEQUENCE_DRIFT_H_
#define REFIR_TESTS_NATS_SEQUENCE_DRIFT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace refir::bridge::testing {

// One webhook as a reader got it: `what` names it in messages.
struct SequenceSeen {
  std::string what;
  uint64_t answered = 0;  // the sequence its 200 answer named
  uint64_t got = 0;       // the sequence it was read or delivered at
};

// A description of the drift when some of `seen` differ from their answers
// and every difference is exactly that drift (one below); empty when nothing
// differs or a difference has any other shape (which the test then reports).
std::string KnownServerDrift(const std::vector<SequenceSeen>& seen);

// What a test that meets the drift says as it skips its remaining checks.
std::string KnownServerDriftSkip(const std::string& drift);

}  // namespace refir::bridge::testing

#endif  // REFIR_TESTS_NATS_SEQUENCE_DRIFT_H_
