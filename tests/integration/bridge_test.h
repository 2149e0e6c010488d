// The e2e fixtures. BridgeTest: one real bridge on its defaults (a fresh
// temp data dir, free loopback ports), started before each test, and an
// EventStream stub connected to it over plaintext gRPC. JournalTest: a
// test parameterized over the journal backends (instantiate it with
// AllJournalBackends() and JournalBackendName) that makes bridges on its journal;
// BridgeOnJournalTest: the same with one bridge and a stub started before
// each test, as BridgeTest.
#ifndef REFIR_BRIDGE_TESTS_INTEGRATION_BRIDGE_TEST_H_
#define REFIR_BRIDGE_TESTS_INTEGRATION_BRIDGE_TEST_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/journal_backend.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {

class BridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = std::make_unique<BridgeProcess>(MakeTempDir());
    ASSERT_TRUE(bridge_->Start().ok());
    stub_ = MakeStub(bridge_->grpc_target());
  }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<v1::EventStream::Stub> stub_;
};

class JournalTest : public ::testing::TestWithParam<JournalBackend> {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    absl::StatusOr<std::unique_ptr<TestJournal>> journal = TestJournal::Start(GetParam(), dir_);
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = *std::move(journal);
  }

  bool jetstream() const { return GetParam() == JournalBackend::kJetStream; }

  // A bridge (not started yet) on this test's journal with `flags`, in
  // `data_dir` (a fresh one when empty). Every bridge of a test shares the
  // JetStream stream.
  std::unique_ptr<BridgeProcess> MakeBridge(std::vector<std::string> flags = {},
                                            std::string data_dir = "") {
    std::vector<std::string> all = journal_->BridgeFlags();
    all.insert(all.end(), flags.begin(), flags.end());
    return std::make_unique<BridgeProcess>(data_dir.empty() ? MakeTempDir() : std::move(data_dir),
                                           std::move(all));
  }

  std::string dir_;
  // Outlives the bridges (a derived fixture's members and a test's locals
  // go first), so they stop before their nats-server.
  std::unique_ptr<TestJournal> journal_;
};

class BridgeOnJournalTest : public JournalTest {
 protected:
  void SetUp() override {
    JournalTest::SetUp();
    if (HasFatalFailure()) return;
    bridge_ = MakeBridge();
    const absl::Status started = bridge_->Start();
    ASSERT_TRUE(started.ok()) << started;
    stub_ = MakeStub(bridge_->grpc_target());
  }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<v1::EventStream::Stub> stub_;
};

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_INTEGRATION_BRIDGE_TEST_H_
