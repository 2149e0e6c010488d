#include "bridge/grpc_api/group_forwarder.h"

#include <string>
#include <utility>

namespace refir::bridge {
namespace {

// A unary call answered by the serving replica: owns the client side of the
// forwarded call and finishes the server side with its status.
class ForwardedUnaryCall final : public grpc::ServerUnaryReactor {
 public:
  ForwardedUnaryCall(std::unique_ptr<grpc::ClientContext> client,
                     std::shared_ptr<grpc::Channel> channel)
      : client_(std::move(client)), stub_(v1::EventStream::NewStub(channel)) {}

  void Start(const GroupForwarder::UnaryStart& start) {
    // Finish is the callback's last use of `this`: OnDone may follow at once.
    start(stub_->async(), client_.get(), [this](grpc::Status status) { Finish(status); });
  }

  // The caller went away: so does the forwarded call (its status then
  // finishes this one).
  void OnCancel() override { client_->TryCancel(); }
  void OnDone() override { delete this; }

 private:
  const std::unique_ptr<grpc::ClientContext> client_;
  const std::unique_ptr<v1::EventStream::Stub> stub_;
};

// Peer channels: dead peers are found by keepalive pings (every 20 s, above
// the bridges' 10 s minimum ping interval), and responses are not capped
// below what the caller itself accepts.
grpc::ChannelArguments PeerChannelArguments() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetMaxReceiveMessageSize(-1);
  return args;
}

}  // namespace

GroupForwarder::GroupForwarder(std::string replica_id,
                               std::shared_ptr<grpc::ChannelCredentials> credentials)
    : replica_id_(std::move(replica_id)), credentials_(std::move(credentials)) {}

void GroupForwarder::SetServingAddress(std::function<std::string()> serving_address) {
  absl::MutexLock lock(&mu_);
  serving_address_ = std::move(serving_address);
}

std::shared_ptr<grpc::Channel> GroupForwarder::Target(const grpc::CallbackServerContext& context) {
  if (context.client_metadata().count(kForwardedByKey) > 0) return nullptr;
  std::function<std::string()> serving_address;
  {
    absl::MutexLock lock(&mu_);
    serving_address = serving_address_;
  }
  if (!serving_address) return nullptr;
  const std::string address = serving_address();
  if (address.empty()) return nullptr;
  absl::MutexLock lock(&mu_);
  if (channel_ == nullptr || address != address_) {
    address_ = address;
    channel_ = grpc::CreateCustomChannel(address, credentials_, PeerChannelArguments());
  }
  return channel_;
}

std::unique_ptr<grpc::ClientContext> GroupForwarder::ForwardContext(
    const grpc::CallbackServerContext& context) const {
  // Deadline and cancellation propagate from the caller's call.
  std::unique_ptr<grpc::ClientContext> client =
      grpc::ClientContext::FromCallbackServerContext(context);
  auto [begin, end] = context.client_metadata().equal_range("authorization");
  for (auto it = begin; it != end; ++it) {
    client->AddMetadata("authorization", std::string(it->second.data(), it->second.size()));
  }
  client->AddMetadata(kForwardedByKey, replica_id_);
  return client;
}

grpc::ServerUnaryReactor* GroupForwarder::ForwardUnary(grpc::CallbackServerContext* context,
                                                       std::shared_ptr<grpc::Channel> channel,
                                                       const UnaryStart& start) {
  CountForwarded();
  auto* call = new ForwardedUnaryCall(ForwardContext(*context), std::move(channel));
  call->Start(start);
  return call;
}

}  // namespace refir::bridge
