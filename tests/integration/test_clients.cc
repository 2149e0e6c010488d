#include "tests/integration/test_clients.h"

#include "absl/time/clock.h"
#include "grpcpp/support/client_interceptor.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace refir::bridge::testing {

HttpResult SendHttp(int port, const std::string& method, const std::string& path,
                    const std::string& body, const std::string& content_type,
                    const std::vector<std::pair<std::string, std::string>>& headers) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  httplib::Headers request_headers;
  for (const auto& [name, value] : headers) request_headers.emplace(name, value);
  auto send = [&]() -> httplib::Result {
    if (method == "POST") return client.Post(path, request_headers, body, content_type);
    if (method == "PUT") return client.Put(path, request_headers, body, content_type);
    if (method == "GET") return client.Get(path, request_headers);
    return client.Delete(path, request_headers);
  };
  if (method != "POST" && method != "PUT" && method != "GET" && method != "DELETE") {
    ADD_FAILURE() << "unsupported method " << method;
    return {};
  }
  httplib::Result result = send();
  HttpResult out;
  if (!result) return out;
  out.status = result->status;
  out.body = result->body;
  out.content_type = result->get_header_value("Content-Type");
  out.retry_after = result->get_header_value("Retry-After");
  out.allow = result->get_header_value("Allow");
  for (const auto& [name, value] : result->headers) out.headers[name] = value;
  out.json = nlohmann::json::parse(out.body, nullptr, /*allow_exceptions=*/false);
  if (out.json.is_discarded()) out.json = nullptr;
  return out;
}

HttpResult PostWebhook(int port, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers) {
  return SendHttp(port, "POST", "/webhook", body, "application/json", headers);
}

namespace {

// Adds "authorization: <value>" to every call's initial metadata.
class AuthorizationInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit AuthorizationInterceptor(const std::string& value) : value_(value) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", value_);
    }
    methods->Proceed();
  }

 private:
  const std::string value_;
};

class AuthorizationInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit AuthorizationInterceptorFactory(std::string value) : value_(std::move(value)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new AuthorizationInterceptor(value_);
  }

 private:
  const std::string value_;
};

}  // namespace

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const ChannelOptions& options) {
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      options.credentials != nullptr ? options.credentials : grpc::InsecureChannelCredentials();
  if (options.bearer_token.empty()) return grpc::CreateChannel(target, credentials);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(
      std::make_unique<AuthorizationInterceptorFactory>("Bearer " + options.bearer_token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      target, credentials, grpc::ChannelArguments(), std::move(factories));
}

std::unique_ptr<v1::EventStream::Stub> MakeStub(const std::string& target) {
  return MakeStub(target, ChannelOptions());
}

std::unique_ptr<v1::EventStream::Stub> MakeStub(const std::string& target,
                                                const ChannelOptions& options) {
  return v1::EventStream::NewStub(MakeChannel(target, options));
}

Subscription::Subscription(v1::EventStream::Stub& stub, const v1::SubscribeInit& init,
                           absl::Duration deadline) {
  context_.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  stream_ = stub.Subscribe(&context_);
  v1::SubscribeRequest request;
  *request.mutable_init() = init;
  EXPECT_TRUE(stream_->Write(request)) << "could not send init";
}

Subscription::~Subscription() {
  if (!finished_) {
    context_.TryCancel();
    stream_->Finish().ok();
  }
}

bool Subscription::ReadConfirm(v1::SubscribeConfirm* confirm) {
  v1::SubscribeResponse response;
  if (!stream_->Read(&response)) return false;
  if (response.kind_case() != v1::SubscribeResponse::kConfirm) {
    ADD_FAILURE() << "expected confirm, got " << response.DebugString();
    return false;
  }
  *confirm = response.confirm();
  return true;
}

std::vector<v1::Event> Subscription::ReadEvents(size_t count, size_t* batches) {
  std::vector<v1::Event> events;
  size_t batch_count = 0;
  v1::SubscribeResponse response;
  while (events.size() < count && stream_->Read(&response)) {
    if (response.kind_case() != v1::SubscribeResponse::kBatch) continue;
    ++batch_count;
    for (const v1::Delivery& delivery : response.batch().deliveries()) {
      events.push_back(delivery.event());
    }
  }
  if (batches != nullptr) *batches = batch_count;
  return events;
}

grpc::Status Subscription::Finish() {
  v1::SubscribeResponse response;
  while (stream_->Read(&response)) {
  }
  finished_ = true;
  return stream_->Finish();
}

v1::SubscribeInit InitFromEarliest(int max_batch) {
  v1::SubscribeInit init;
  init.set_client_id("integration-test");
  init.mutable_start()->mutable_earliest();
  init.set_max_batch(max_batch);
  return init;
}

v1::SubscribeInit InitFromLatest(int max_batch) {
  v1::SubscribeInit init;
  init.set_client_id("integration-test");
  init.mutable_start()->mutable_latest();
  init.set_max_batch(max_batch);
  return init;
}

std::vector<v1::Event> ListAllEvents(v1::EventStream::Stub& stub) {
  std::vector<v1::Event> events;
  v1::ListEventsRequest request;
  request.set_page_size(1000);
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::ListEventsResponse response;
    grpc::Status status = stub.ListEvents(&context, request, &response);
    if (!status.ok()) {
      ADD_FAILURE() << "ListEvents: " << status.error_message();
      return events;
    }
    if (response.events().empty()) return events;
    for (const v1::Event& event : response.events()) events.push_back(event);
    request.set_page_token(response.next_page_token());
  }
}

}  // namespace refir::bridge::testing
