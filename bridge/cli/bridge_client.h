// BridgeClient: how a client command talks to the bridge's gRPC API. It
// holds the channel (plain, TLS or mTLS), sends the bearer token, puts a
// deadline on every call and turns gRPC errors into absl statuses whose
// message a person can act on ("cannot reach the bridge at HOST:PORT: ...").
#ifndef REFIR_BRIDGE_CLI_BRIDGE_CLIENT_H_
#define REFIR_BRIDGE_CLI_BRIDGE_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bridge/cli/command_line.h"
#include "refir/bridge/v1/event_stream.grpc.pb.h"

namespace refir::bridge::cli {

struct ClientOptions {
  std::string target = "127.0.0.1:50051";
  std::string ca_file;                         // TLS: the CA that signed the bridge's certificate
  std::string cert_file;                       // mTLS: this client's certificate chain
  std::string key_file;                        // mTLS: its private key
  std::string token_file;                      // a bearer token from --grpc_tokens_file
  absl::Duration timeout = absl::Seconds(10);  // per call, connecting included
};

// The flags every client command takes (--target, --ca_file, --cert_file,
// --key_file, --token_file, --timeout).
const std::vector<FlagSpec>& ClientFlags();

// The options from a parsed command line; INVALID_ARGUMENT for a cert
// without a key (or the reverse), a cert without a CA, a bad timeout.
absl::StatusOr<ClientOptions> ClientOptionsFrom(const CommandLine& line);

class BridgeClient {
 public:
  // Reads the TLS files and the token; NOT_FOUND and the like name the file.
  // Does not connect: the first call does, within the call's deadline.
  static absl::StatusOr<std::unique_ptr<BridgeClient>> Create(const ClientOptions& options);
  // Use Create; public for std::make_unique.
  BridgeClient(ClientOptions options, std::string token, std::shared_ptr<grpc::Channel> channel)
      : options_(std::move(options)),
        token_(std::move(token)),
        channel_(channel),
        stub_(v1::EventStream::NewStub(std::move(channel))) {}

  const std::string& target() const { return options_.target; }

  absl::StatusOr<v1::ConsumerGroup> GetConsumerGroup(const std::string& name);
  // Every group, all pages.
  absl::StatusOr<std::vector<v1::ConsumerGroup>> ListConsumerGroups();
  absl::Status DeleteConsumerGroup(const std::string& name);
  absl::StatusOr<v1::ListDeadLettersResponse> ListDeadLetters(
      const v1::ListDeadLettersRequest& request);
  absl::StatusOr<v1::RequeueDeadLettersResponse> RequeueDeadLetters(
      const v1::RequeueDeadLettersRequest& request);
  absl::StatusOr<v1::SeekConsumerGroupResponse> SeekConsumerGroup(
      const v1::SeekConsumerGroupRequest& request);

  // Waits until the channel is connected, at most the call timeout; for
  // streams, which carry no deadline. UNAVAILABLE "cannot reach the bridge
  // at ..." when it does not.
  absl::Status WaitForConnection();

  // For streaming calls: a context with the token and, when `deadline` is
  // not infinite, a deadline that far away.
  std::unique_ptr<grpc::ClientContext> NewContext(absl::Duration deadline) const;
  v1::EventStream::Stub& stub() { return *stub_; }

  // The status of a failed call, for people: UNAVAILABLE and
  // DEADLINE_EXCEEDED before any answer say the bridge cannot be reached.
  absl::Status FromRpc(const grpc::Status& status) const;

 private:
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(grpc::Status (v1::EventStream::StubInterface::*method)(
                                    grpc::ClientContext*, const Request&, Response*),
                                const Request& request);

  const ClientOptions options_;
  const std::string token_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::EventStream::Stub> stub_;
};

}  // namespace refir::bridge::cli

#endif  // REFIR_BRIDGE_CLI_BRIDGE_CLIENT_H_
