// Security of the gRPC listener, built from the --grpc_tls_* and
// --grpc_tokens_file flags: the server credentials (plaintext, TLS, or mutual
// TLS that requires a client certificate signed by a given CA) and the
// bearer-token authorizer the EventStream service enforces. Every file is read
// and checked here, at startup; errors name the flag and the file.
#ifndef REFIR_BRIDGE_GRPC_API_GRPC_SECURITY_H_
#define REFIR_BRIDGE_GRPC_API_GRPC_SECURITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/grpc_api/token_authorizer.h"
#include "grpcpp/security/server_credentials.h"

namespace refir::bridge {

struct GrpcSecurityOptions {
  // PEM server certificate (chain) and its private key: both or neither.
  // Neither: plaintext.
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM CA certificate(s). When set (needs TLS), clients must present a
  // certificate signed by one of them (mutual TLS).
  std::string tls_client_ca_file;
  // Bearer tokens (format in token_file.h). Empty: no tokens required.
  std::string tokens_file;
  // Start even when the listener is not on loopback and clients need
  // neither a token nor a certificate (--grpc_allow_insecure_remote).
  bool allow_insecure_remote = false;
};

struct GrpcSecurity {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // Null when no tokens are configured.
  std::unique_ptr<TokenAuthorizer> authorizer;
  // For the startup log: "plaintext", "TLS" or "mutual TLS", plus tokens.
  std::string description;
};

// Reads and checks the files. `listen_address` is the --grpc_address. On an
// address that is not loopback (0.0.0.0 and [::] included), a listener that
// needs neither bearer tokens nor client certificates (mutual TLS) is
// FAILED_PRECONDITION saying what to set, unless allow_insecure_remote
// (then a warning is logged); tokens over plaintext there log a warning.
absl::StatusOr<GrpcSecurity> LoadGrpcSecurity(const GrpcSecurityOptions& options,
                                              absl::string_view listen_address);

// True for 127.0.0.0/8, ::1 and "localhost" (brackets allowed).
bool IsLoopbackAddress(absl::string_view address);

}  // namespace refir::bridge

#endif  // REFIR_BRIDGE_GRPC_API_GRPC_SECURITY_H_
