// The scrape-time metric sources of a running bridge: the journal's head and
// file size, the consumer groups (lag, pending, redeliveries, dead letters,
// connected streams) and the open Subscribe streams, adapted to
// bridge/metrics' ScrapeSources.
#ifndef REFIR_BRIDGE_SERVER_METRICS_SOURCES_H_
#define REFIR_BRIDGE_SERVER_METRICS_SOURCES_H_

#include <string>

#include "absl/status/statusor.h"
#include "bridge/grpc_api/event_stream_service.h"
#include "bridge/journal/journal.h"
#include "bridge/metrics/metrics.h"
#include "bridge/server/served_groups.h"

namespace refir::bridge {

// Every pointer must stay valid for as long as the sources may be called.
// `journal_path` is the SQLite journal's database file; its -wal file is
// counted too. Empty (JetStream): the journal's StoredBytes.
ScrapeSources BridgeScrapeSources(Journal* journal, ServedGroups* groups,
                                  const EventStreamService* service, std::string journal_path);

// Bytes of `path` plus `path`-wal (absent WAL counts 0).
absl::StatusOr<uint64_t> SqliteFilesSize(const std::string& path);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_SERVER_METRICS_SOURCES_H_
