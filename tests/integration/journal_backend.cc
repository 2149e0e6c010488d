#include "tests/integration/journal_backend.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace refir::bridge::testing {

std::string JournalBackendName(const ::testing::TestParamInfo<JournalBackend>& info) {
  return info.param == JournalBackend::kSqlite ? "Sqlite" : "JetStream";
}

void PrintTo(JournalBackend backend, std::ostream* out) {
  *out << (backend == JournalBackend::kSqlite ? "Sqlite" : "JetStream");
}

absl::StatusOr<std::unique_ptr<TestJournal>> TestJournal::Start(JournalBackend backend,
                                                                const std::string& dir,
                                                                NatsServerOptions nats_options) {
  auto journal = std::make_unique<TestJournal>(backend);
  if (backend == JournalBackend::kSqlite) return journal;
  if (!HaveNatsServer()) {
    return absl::FailedPreconditionError(
        "nats-server is not on $PATH (apt-get install nats-server)");
  }
  nats_options.store_dir = absl::StrCat(dir, "/nats");
  journal->nats_ = std::make_unique<NatsServerProcess>(std::move(nats_options));
  if (absl::Status started = journal->nats_->Start(); !started.ok()) return started;
  return journal;
}

std::vector<std::string> TestJournal::BridgeFlags() const {
  if (backend_ == JournalBackend::kSqlite) return {};
  return {"--journal=jetstream", absl::StrCat("--nats_servers=", nats_->url())};
}

}  // namespace refir::bridge::testing
