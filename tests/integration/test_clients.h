// Real clients for integration tests: webhook POSTs over HTTP (cpp-httplib)
// and EventStream calls over a real gRPC channel.
#ifndef REFIR_BRIDGE_TESTS_INTEGRATION_TEST_CLIENTS_H_
#define REFIR_BRIDGE_TESTS_INTEGRATION_TEST_CLIENTS_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

namespace refir::bridge::testing {

struct HttpResult {
  int status = 0;  // 0: no response (connection failed)
  std::string body;
  std::string content_type;
  std::string retry_after;
  std::string allow;
  // Every response header, by its name as sent (the last of repeated ones).
  std::map<std::string, std::string> headers;
  // The body parsed as JSON; discarded (null) when it is not JSON.
  nlohmann::json json;
};

// One request to the bridge on 127.0.0.1:`port`.
HttpResult SendHttp(int port, const std::string& method, const std::string& path,
                    const std::string& body, const std::string& content_type = "application/json",
                    const std::vector<std::pair<std::string, std::string>>& headers = {});

// POST `body` to /webhook as application/json.
HttpResult PostWebhook(int port, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers = {});

// How a test channel connects. The default is what MakeStub(target) uses:
// plaintext, no token.
struct ChannelOptions {
  // Null: plaintext (grpc::InsecureChannelCredentials()).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // When not empty, every call carries "authorization: Bearer <token>" (sent
  // by a client interceptor, so it works over plaintext too).
  std::string bearer_token;
};

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const ChannelOptions& options = {});
std::unique_ptr<v1::EventStream::Stub> MakeStub(const std::string& target);
std::unique_ptr<v1::EventStream::Stub> MakeStub(const std::string& target,
                                                const ChannelOptions& options);

// A synchronous Subscribe stream.
class Subscription {
 public:
  // Opens the stream and sends `init`; `deadline` bounds the whole stream.
  Subscription(v1::EventStream::Stub& stub, const v1::SubscribeInit& init,
               absl::Duration deadline = absl::Seconds(30));
  ~Subscription();

  // Reads the SubscribeConfirm; false if the stream ended instead.
  bool ReadConfirm(v1::SubscribeConfirm* confirm);
  // Reads batches until `count` events arrived in total or the stream ends.
  // Returns the events; `batches` gets the number of batch messages read.
  std::vector<v1::Event> ReadEvents(size_t count, size_t* batches = nullptr);
  // Reads until the stream ends and returns its status.
  grpc::Status Finish();
  void Cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>> stream_;
  bool finished_ = false;
};

v1::SubscribeInit InitFromEarliest(int max_batch = 0);
v1::SubscribeInit InitFromLatest(int max_batch = 0);

// Every stored event, through ListEvents pages.
std::vector<v1::Event> ListAllEvents(v1::EventStream::Stub& stub);

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_INTEGRATION_TEST_CLIENTS_H_
