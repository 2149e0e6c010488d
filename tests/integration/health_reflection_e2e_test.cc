// gRPC health checking and server reflection on the real bridge binary: what
// grpcurl, grpc_cli and Kubernetes gRPC probes rely on.
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"

namespace refir::bridge::testing {
namespace {

using ::testing::Contains;

class HealthReflectionE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = std::make_unique<BridgeProcess>(MakeTempDir());
    ASSERT_TRUE(bridge_->Start().ok());
    channel_ = grpc::CreateChannel(bridge_->grpc_target(), grpc::InsecureChannelCredentials());
  }

  grpc::health::v1::HealthCheckResponse::ServingStatus Check(const std::string& service,
                                                             grpc::Status* status) {
    auto stub = grpc::health::v1::Health::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    *status = stub->Check(&context, request, &response);
    return response.status();
  }

  std::unique_ptr<BridgeProcess> bridge_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(HealthReflectionE2ETest, HealthIsServingForTheServerAndTheService) {
  for (const std::string service : {"", "refir.bridge.v1.EventStream"}) {
    SCOPED_TRACE(service);
    grpc::Status status;
    EXPECT_EQ(Check(service, &status), grpc::health::v1::HealthCheckResponse::SERVING);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  grpc::Status status;
  Check("no.such.Service", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(HealthReflectionE2ETest, ReflectionListsTheEventStreamService) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_THAT(names, Contains("refir.bridge.v1.EventStream"));
  EXPECT_THAT(names, Contains("grpc.health.v1.Health"));

  // The descriptors are there too, so a client can call the API untyped.
  request.set_file_containing_symbol("refir.bridge.v1.EventStream");
  ASSERT_TRUE(stream->Write(request));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_GT(response.file_descriptor_response().file_descriptor_proto_size(), 0)
      << response.DebugString();
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace refir::bridge::testing
