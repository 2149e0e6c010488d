// JetStreamGroupStore: the GroupStore of the JetStream journal, so that the
// state of consumer groups is replicated like the events are.
//
// - Group states: a KeyValue bucket `<stream>_GROUPS`, key
//   `g.<group>` ('.' in a group name written as '='), value the serialized
//   GroupState. Writes are compare-and-set on the revision this store last
//   saw, so a replica that lost the right to serve groups (see
//   GroupCoordinator) cannot overwrite a newer state: its write fails.
//   LoadGroups claims each group (reads it and writes it back), which fences
//   off the former holder; when the former holder saved the group between
//   the read and the write (it may serve on for a while after a standby took
//   the lease over, when a NATS election held up its renewal), the claim
//   reads that newer state and tries again.
// - Dead letters: a stream `<stream>_DEAD` (subjects `<prefix>_dead.>`, one
//   message per subject), one message per dead letter on subject
//   `<prefix>_dead.<group>.<sequence>`.
//
// SaveGroup is not one transaction here: it writes the added dead letters,
// then the state, then deletes the removed dead letters. LoadGroups repairs
// what a crash between them leaves: an event both unsettled in the state and
// dead-lettered stays dead-lettered (it is not delivered again), so a crash
// can undo a requeue, never lose an event.
#ifndef REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_GROUP_STORE_H_
#define REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_GROUP_STORE_H_

#include <nats/nats.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/journal/group_store.h"
#include "bridge/journal/jetstream/jetstream_stream.h"

namespace refir::bridge::jetstream {

struct GroupStoreSettings {
  // The journal's stream; the bucket and the dead-letter stream are named
  // after it and have its replicas.
  StreamSettings stream;
  absl::Duration timeout = absl::Seconds(5);
  // How long Open keeps retrying while JetStream answers UNAVAILABLE (a
  // cluster electing its leaders, a node rejoining), as the journal does.
  absl::Duration startup_wait = absl::Seconds(30);
};

// `connection` is not owned and must outlive the store. Creates the bucket
// and the dead-letter stream when absent, retrying every 500 ms for up to
// `settings.startup_wait` while JetStream is unavailable.
absl::StatusOr<std::unique_ptr<GroupStore>> OpenJetStreamGroupStore(
    natsConnection* connection, const GroupStoreSettings& settings);

// The KeyValue bucket and dead-letter stream names for a journal stream.
std::string GroupBucketName(const std::string& stream);
std::string DeadLetterStreamName(const std::string& stream);

}  // namespace refir::bridge::jetstream

#endif  // REFIR_BRIDGE_JOURNAL_JETSTREAM_JETSTREAM_GROUP_STORE_H_
