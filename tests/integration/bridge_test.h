// BridgeTest: a gtest fixture with one real bridge on its defaults (a fresh
// temp data dir, free loopback ports), started before each test, and an
// EventStream stub connected to it over plaintext gRPC.
#ifndef REFIR_BRIDGE_TESTS_INTEGRATION_BRIDGE_TEST_H_
#define REFIR_BRIDGE_TESTS_INTEGRATION_BRIDGE_TEST_H_

#include <memory>

#include "gtest/gtest.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"
#include "tests/integration/bridge_process.h"
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

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_INTEGRATION_BRIDGE_TEST_H_
