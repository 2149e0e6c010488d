#include "bridge/journal/jetstream/nats_connection.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bridge/common/log.h"
#include "bridge/common/status_macros.h"
#include "bridge/journal/jetstream/nats_status.h"

namespace refir::bridge::jetstream {
namespace {

std::string ConnectedUrl(natsConnection* connection) {
  char url[256] = {0};
  if (natsConnection_GetConnectedUrl(connection, url, sizeof(url)) != NATS_OK) return "";
  return url;
}

void OnDisconnected(natsConnection* connection, void* /*closure*/) {
  if (natsConnection_IsClosed(connection)) return;
  LogWarning("disconnected from NATS; reconnecting", {});
}

void OnReconnected(natsConnection* connection, void* /*closure*/) {
  LogInfo("reconnected to NATS", {{"server", ConnectedUrl(connection)}});
}

void OnAsyncError(natsConnection* /*connection*/, natsSubscription* /*subscription*/,
                  natsStatus error, void* /*closure*/) {
  LogWarning("NATS asynchronous error", {{"error", natsStatus_GetText(error)}});
}

}  // namespace

absl::Status NatsConnectionOptions::Validate() const {
  if (servers.empty()) {
    return absl::InvalidArgumentError("--nats_servers needs at least one nats://host:port URL");
  }
  for (const std::string& server : servers) {
    if (!absl::StartsWith(server, "nats://") && !absl::StartsWith(server, "tls://")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--nats_servers: \"", server, "\" is not a nats://host:port or tls://host:port URL"));
    }
  }
  if (!password.empty() && !token.empty()) {
    return absl::InvalidArgumentError(
        "--nats_password_file and --nats_token_file cannot both be set");
  }
  if (!password.empty() && user.empty()) {
    return absl::InvalidArgumentError("--nats_password_file needs --nats_user");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<NatsConnection>> NatsConnection::Connect(
    const NatsConnectionOptions& options) {
  REFIR_RETURN_IF_ERROR(options.Validate());
  natsOptions* raw_options = nullptr;
  REFIR_RETURN_IF_ERROR(NatsStatus(natsOptions_Create(&raw_options), "natsOptions_Create"));
  NatsOptionsPtr nats_options(raw_options);

  std::vector<const char*> servers;
  servers.reserve(options.servers.size());
  for (const std::string& server : options.servers) servers.push_back(server.c_str());
  REFIR_RETURN_IF_ERROR(NatsStatus(
      natsOptions_SetServers(raw_options, servers.data(), static_cast<int>(servers.size())),
      "--nats_servers"));
  REFIR_RETURN_IF_ERROR(
      NatsStatus(natsOptions_SetName(raw_options, options.name.c_str()), "connection name"));
  REFIR_RETURN_IF_ERROR(NatsStatus(
      natsOptions_SetTimeout(raw_options, absl::ToInt64Milliseconds(options.connect_timeout)),
      "connect timeout"));
  // Reconnect forever, to whichever server answers; publishes made while
  // disconnected fail at once (the sender gets 503) instead of piling up.
  REFIR_RETURN_IF_ERROR(NatsStatus(natsOptions_SetMaxReconnect(raw_options, -1), "reconnects"));
  REFIR_RETURN_IF_ERROR(
      NatsStatus(natsOptions_SetReconnectWait(raw_options, 250), "reconnect wait"));
  REFIR_RETURN_IF_ERROR(
      NatsStatus(natsOptions_SetReconnectBufSize(raw_options, 0), "reconnect buffer"));
  REFIR_RETURN_IF_ERROR(
      NatsStatus(natsOptions_SetDisconnectedCB(raw_options, OnDisconnected, nullptr), "callbacks"));
  REFIR_RETURN_IF_ERROR(
      NatsStatus(natsOptions_SetReconnectedCB(raw_options, OnReconnected, nullptr), "callbacks"));
  REFIR_RETURN_IF_ERROR(
      NatsStatus(natsOptions_SetErrorHandler(raw_options, OnAsyncError, nullptr), "callbacks"));
  if (!options.user.empty()) {
    REFIR_RETURN_IF_ERROR(NatsStatus(
        natsOptions_SetUserInfo(raw_options, options.user.c_str(), options.password.c_str()),
        "--nats_user"));
  }
  if (!options.token.empty()) {
    REFIR_RETURN_IF_ERROR(
        NatsStatus(natsOptions_SetToken(raw_options, options.token.c_str()), "--nats_token_file"));
  }
  if (!options.tls_ca_file.empty()) {
    REFIR_RETURN_IF_ERROR(NatsStatus(natsOptions_SetSecure(raw_options, true), "TLS"));
    REFIR_RETURN_IF_ERROR(
        NatsStatus(natsOptions_LoadCATrustedCertificates(raw_options, options.tls_ca_file.c_str()),
                   "--nats_tls_ca_file"));
  }

  natsConnection* raw_connection = nullptr;
  const natsStatus status = natsConnection_Connect(&raw_connection, raw_options);
  NatsConnectionPtr connection(raw_connection);
  if (status != NATS_OK) {
    const absl::Status error = NatsStatus(status, "connecting to NATS");
    return absl::Status(error.code(), absl::StrCat(error.message(), "; tried ",
                                                   absl::StrJoin(options.servers, ", ")));
  }
  LogInfo("connected to NATS", {{"server", ConnectedUrl(connection.get())}});
  return std::make_unique<NatsConnection>(std::move(connection));
}

NatsConnection::~NatsConnection() { Close(); }

bool NatsConnection::connected() const {
  return connection_ != nullptr &&
         natsConnection_Status(connection_.get()) == NATS_CONN_STATUS_CONNECTED;
}

void NatsConnection::Close() {
  if (connection_ == nullptr || natsConnection_IsClosed(connection_.get())) return;
  // Errors here only mean the connection is already gone.
  (void)natsConnection_FlushTimeout(connection_.get(), 1000);
  natsConnection_Close(connection_.get());
}

}  // namespace refir::bridge::jetstream
