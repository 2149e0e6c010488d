// ProbeStream: asks a NATS server set (any server that answers) about one
// JetStream stream, over a fresh connection that never reconnects: which
// server leads the stream now and what it holds. The cluster tests use it to
// find the stream leader to kill and to count what was stored.
#ifndef REFIR_BRIDGE_TESTS_NATS_JETSTREAM_PROBE_H_
#define REFIR_BRIDGE_TESTS_NATS_JETSTREAM_PROBE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace refir::bridge::testing {

struct StreamProbe {
  // The leader's server name ("n1"); empty when the stream has none now.
  std::string leader;
  uint64_t messages = 0;
  uint64_t last_sequence = 0;
};

// `servers`: nats:// URLs, comma-separated (NatsCluster::urls()).
// UNAVAILABLE when no server answers or the stream has no leader to answer
// (an election is under way); NOT_FOUND when the stream does not exist.
absl::StatusOr<StreamProbe> ProbeStream(const std::string& servers, const std::string& stream,
                                        absl::Duration timeout = absl::Seconds(2));

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_NATS_JETSTREAM_PROBE_H_
