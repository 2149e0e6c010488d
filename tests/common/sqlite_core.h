// The bridge's core, in the test process: a real SQLite journal and group
// store in a fresh temp directory, the WakeupHub and a GroupRegistry, wired
// as BridgeServer wires them (without HTTP or gRPC), for in-process tests of
// the delivery layer and the gRPC service.
#ifndef REFIR_BRIDGE_TESTS_COMMON_SQLITE_CORE_H_
#define REFIR_BRIDGE_TESTS_COMMON_SQLITE_CORE_H_

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/common/status_macros.h"
#include "bridge/delivery/group_registry.h"
#include "bridge/delivery/wakeup_hub.h"
#include "bridge/journal/sqlite/sqlite_group_store.h"
#include "bridge/journal/sqlite/sqlite_journal.h"
#include "gtest/gtest.h"

namespace refir::bridge::testing {

class SqliteCore {
 public:
  // A fresh temp directory, removed by the destructor.
  SqliteCore() {
    std::string pattern = ::testing::TempDir() + "sqlite_core_XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  }
  ~SqliteCore() {
    Close();
    std::error_code error;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, error);
  }

  // Opens (or, after Close, reopens) the journal, store and registry.
  absl::Status Open(GroupDefaults defaults = {}) {
    if (dir_.empty()) return absl::InternalError("mkdtemp failed");
    SqliteJournalOptions options;
    options.path = absl::StrCat(dir_, "/journal.db");
    REFIR_ASSIGN_OR_RETURN(journal, OpenSqliteJournal(options));
    hub = std::make_unique<WakeupHub>(journal->HeadSequence());
    WakeupHub* raw_hub = hub.get();
    journal->AddAppendListener([raw_hub](uint64_t head) { raw_hub->OnHeadAdvanced(head); });
    REFIR_ASSIGN_OR_RETURN(store, OpenSqliteGroupStore(absl::StrCat(dir_, "/groups.db")));
    REFIR_ASSIGN_OR_RETURN(groups,
                           GroupRegistry::Open(journal.get(), store.get(), hub.get(), defaults));
    return absl::OkStatus();
  }

  // Shuts down in BridgeServer's order (last checkpoint before the store
  // closes).
  void Close() {
    if (groups != nullptr) groups->Shutdown();
    groups.reset();
    store.reset();
    hub.reset();
    if (journal != nullptr) journal->Close();
    journal.reset();
  }

  // Appends an event of `type` received at `received_at`; its sequence, or
  // 0 on failure.
  uint64_t Append(const std::string& type, absl::Time received_at = absl::Now()) {
    v1::Event event;
    event.set_id(absl::StrCat("evt-", ++appended_));
    event.set_type(type);
    event.mutable_received_at()->set_seconds(absl::ToUnixSeconds(received_at));
    absl::StatusOr<AppendResult> result = journal->Append(std::move(event), DedupKey{});
    return result.ok() ? result->sequence : 0;
  }

  const std::string& dir() const { return dir_; }

  std::unique_ptr<Journal> journal;
  std::unique_ptr<WakeupHub> hub;
  std::unique_ptr<GroupStore> store;
  std::unique_ptr<GroupRegistry> groups;

 private:
  std::string dir_;
  int appended_ = 0;
};

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_COMMON_SQLITE_CORE_H_
