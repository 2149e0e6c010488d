#include "bridge/cli/bridge_client.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "bridge/common/read_small_file.h"

namespace refir::bridge::cli {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;

absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag, const std::string& path) {
  absl::StatusOr<std::string> contents = ReadSmallFile(path, kMaxFileBytes);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(),
                        absl::StrCat("--", flag, "=", path, ": ", contents.status().message()));
  }
  return contents;
}

absl::StatusCode CodeOf(grpc::StatusCode code) {
  // grpc::StatusCode and absl::StatusCode share their numbers.
  return static_cast<absl::StatusCode>(static_cast<int>(code));
}

}  // namespace

const std::vector<FlagSpec>& ClientFlags() {
  static const std::vector<FlagSpec> flags = {
      {"target", "HOST:PORT", "the bridge's gRPC address (default 127.0.0.1:50051)"},
      {"ca_file", "PEM", "TLS: the CA certificate that signed the bridge's certificate"},
      {"cert_file", "PEM", "mTLS: this client's certificate chain (with --key_file)"},
      {"key_file", "PEM", "mTLS: this client's private key"},
      {"token_file", "FILE", "a file holding the bearer token (one of --grpc_tokens_file)"},
      {"timeout", "DURATION", "deadline of each call, connecting included (default 10s)"},
  };
  return flags;
}

absl::StatusOr<ClientOptions> ClientOptionsFrom(const CommandLine& line) {
  ClientOptions options;
  options.target = line.Value("target", options.target);
  options.ca_file = line.Value("ca_file");
  options.cert_file = line.Value("cert_file");
  options.key_file = line.Value("key_file");
  options.token_file = line.Value("token_file");
  if (options.target.empty()) return absl::InvalidArgumentError("--target is empty");
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError("--cert_file and --key_file go together");
  }
  if (!options.cert_file.empty() && options.ca_file.empty()) {
    return absl::InvalidArgumentError("--cert_file needs --ca_file (mTLS is TLS too)");
  }
  absl::StatusOr<absl::Duration> timeout = PositiveDurationFlag(line, "timeout", options.timeout);
  if (!timeout.ok()) return timeout.status();
  options.timeout = *timeout;
  return options;
}

absl::StatusOr<std::unique_ptr<BridgeClient>> BridgeClient::Create(const ClientOptions& options) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!options.ca_file.empty()) {
    grpc::SslCredentialsOptions tls;
    absl::StatusOr<std::string> ca = ReadFlagFile("ca_file", options.ca_file);
    if (!ca.ok()) return ca.status();
    tls.pem_root_certs = *std::move(ca);
    if (!options.cert_file.empty()) {
      absl::StatusOr<std::string> cert = ReadFlagFile("cert_file", options.cert_file);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadFlagFile("key_file", options.key_file);
      if (!key.ok()) return key.status();
      tls.pem_cert_chain = *std::move(cert);
      tls.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(tls);
  }
  std::string token;
  if (!options.token_file.empty()) {
    absl::StatusOr<std::string> read = ReadFlagFile("token_file", options.token_file);
    if (!read.ok()) return read.status();
    token = std::string(absl::StripAsciiWhitespace(*read));
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--token_file=", options.token_file, " is empty"));
    }
  }
  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(options.target, credentials);
  return std::make_unique<BridgeClient>(options, std::move(token), std::move(channel));
}

absl::Status BridgeClient::WaitForConnection() {
  if (channel_->WaitForConnected(absl::ToChronoTime(absl::Now() + options_.timeout))) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat("cannot reach the bridge at ", options_.target,
                                             ": no connection within ",
                                             absl::FormatDuration(options_.timeout)));
}

std::unique_ptr<grpc::ClientContext> BridgeClient::NewContext(absl::Duration deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (deadline != absl::InfiniteDuration()) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  }
  if (!token_.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  return context;
}

absl::Status BridgeClient::FromRpc(const grpc::Status& status) const {
  if (status.ok()) return absl::OkStatus();
  const grpc::StatusCode code = status.error_code();
  if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach the bridge at ", options_.target, ": ", status.error_message()));
  }
  return absl::Status(CodeOf(code), status.error_message());
}

template <typename Request, typename Response>
absl::StatusOr<Response> BridgeClient::Call(grpc::Status (v1::EventStream::StubInterface::*method)(
                                                grpc::ClientContext*, const Request&, Response*),
                                            const Request& request) {
  std::unique_ptr<grpc::ClientContext> context = NewContext(options_.timeout);
  Response response;
  const grpc::Status status = (stub_.get()->*method)(context.get(), request, &response);
  if (!status.ok()) return FromRpc(status);
  return response;
}

absl::StatusOr<v1::ConsumerGroup> BridgeClient::GetConsumerGroup(const std::string& name) {
  v1::GetConsumerGroupRequest request;
  request.set_name(name);
  return Call(&v1::EventStream::StubInterface::GetConsumerGroup, request);
}

absl::StatusOr<std::vector<v1::ConsumerGroup>> BridgeClient::ListConsumerGroups() {
  std::vector<v1::ConsumerGroup> groups;
  v1::ListConsumerGroupsRequest request;
  request.set_page_size(1000);
  while (true) {
    absl::StatusOr<v1::ListConsumerGroupsResponse> page =
        Call(&v1::EventStream::StubInterface::ListConsumerGroups, request);
    if (!page.ok()) return page.status();
    for (v1::ConsumerGroup& group : *page->mutable_groups()) groups.push_back(std::move(group));
    if (page->next_page_token().empty()) return groups;
    request.set_page_token(page->next_page_token());
  }
}

absl::Status BridgeClient::DeleteConsumerGroup(const std::string& name) {
  v1::DeleteConsumerGroupRequest request;
  request.set_name(name);
  return Call(&v1::EventStream::StubInterface::DeleteConsumerGroup, request).status();
}

absl::StatusOr<v1::ListDeadLettersResponse> BridgeClient::ListDeadLetters(
    const v1::ListDeadLettersRequest& request) {
  return Call(&v1::EventStream::StubInterface::ListDeadLetters, request);
}

absl::StatusOr<v1::RequeueDeadLettersResponse> BridgeClient::RequeueDeadLetters(
    const v1::RequeueDeadLettersRequest& request) {
  return Call(&v1::EventStream::StubInterface::RequeueDeadLetters, request);
}

absl::StatusOr<v1::SeekConsumerGroupResponse> BridgeClient::SeekConsumerGroup(
    const v1::SeekConsumerGroupRequest& request) {
  return Call(&v1::EventStream::StubInterface::SeekConsumerGroup, request);
}

}  // namespace refir::bridge::cli
