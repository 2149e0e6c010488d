// JournalBackend: which journal an end-to-end test runs its bridges on, and
// TestJournal, what that journal stands on: nothing for SQLite (journal.db
// in each bridge's data dir), a real nats-server of the test's own for
// JetStream (loopback, a kernel-chosen port, its store in the test's temp
// dir).
#ifndef REFIR_BRIDGE_TESTS_INTEGRATION_JOURNAL_BACKEND_H_
#define REFIR_BRIDGE_TESTS_INTEGRATION_JOURNAL_BACKEND_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tests/nats/nats_server_process.h"

namespace refir::bridge::testing {

enum class JournalBackend { kSqlite, kJetStream };

// "Sqlite" or "JetStream": the suffix of a parameterized test's name.
std::string JournalBackendName(const ::testing::TestParamInfo<JournalBackend>& info);

// Printed by gtest as its name, not as the enum's bytes.
void PrintTo(JournalBackend backend, std::ostream* out);

// Both backends: INSTANTIATE_TEST_SUITE_P(Journals, Fixture,
// AllJournalBackends(), JournalBackendName).
inline auto AllJournalBackends() {
  return ::testing::Values(JournalBackend::kSqlite, JournalBackend::kJetStream);
}

class TestJournal {
 public:
  // For JetStream, starts a nats-server with its store under `dir`/nats and
  // `nats_options`' authentication (store_dir is set here).
  static absl::StatusOr<std::unique_ptr<TestJournal>> Start(JournalBackend backend,
                                                            const std::string& dir,
                                                            NatsServerOptions nats_options = {});

  explicit TestJournal(JournalBackend backend) : backend_(backend) {}

  JournalBackend backend() const { return backend_; }
  bool jetstream() const { return backend_ == JournalBackend::kJetStream; }
  // The flags that put a bridge on this journal: none for SQLite;
  // --journal=jetstream and --nats_servers for JetStream.
  std::vector<std::string> BridgeFlags() const;
  // The nats-server; null on SQLite.
  NatsServerProcess* nats() { return nats_.get(); }

 private:
  JournalBackend backend_;
  std::unique_ptr<NatsServerProcess> nats_;
};

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_INTEGRATION_JOURNAL_BACKEND_H_
