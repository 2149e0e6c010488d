// The embedded GroupStore: consumer groups and dead letters in their own
// SQLite file (<data_dir>/groups.db), WAL mode, synchronous=NORMAL. A
// separate file keeps checkpoints off the journal's write lock; NORMAL is
// enough because a checkpoint lost to power failure only causes redelivery.
#ifndef REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_GROUP_STORE_H_
#define REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_GROUP_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bridge/journal/group_store.h"

namespace refir::bridge {

// Opens (creating if needed) the group store at `path`; its directory must
// exist. Thread-safe: calls are serialized internally.
absl::StatusOr<std::unique_ptr<GroupStore>> OpenSqliteGroupStore(const std::string& path);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_JOURNAL_SQLITE_SQLITE_GROUP_STORE_H_
