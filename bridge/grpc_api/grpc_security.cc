#include "bridge/grpc_api/grpc_security.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/common/log.h"
#include "bridge/common/read_small_file.h"
#include "bridge/common/status_macros.h"
#include "bridge/grpc_api/token_file.h"
#include "grpcpp/security/server_credentials.h"

namespace refir::bridge {
namespace {

constexpr size_t kMaxPemBytes = 1024 * 1024;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// "--flag \"path\": "
std::string Where(absl::string_view flag, absl::string_view path) {
  return absl::StrCat("--", flag, " \"", path, "\": ");
}

// The oldest queued OpenSSL error as text; clears the queue.
std::string TakeOpenSslError() {
  const unsigned long code = ERR_peek_error();
  ERR_clear_error();
  if (code == 0) return "no detail";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

absl::StatusOr<std::string> ReadFlagFile(absl::string_view flag, const std::string& path) {
  absl::StatusOr<std::string> contents = ReadSmallFile(path, kMaxPemBytes);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(),
                        absl::StrCat(Where(flag, path), contents.status().message()));
  }
  return contents;
}

BioPtr MemoryBio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Every PEM certificate in `pem`; an error when there is none.
absl::StatusOr<std::vector<X509Ptr>> ParseCertificates(absl::string_view flag,
                                                       const std::string& path,
                                                       const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  const std::string error = TakeOpenSslError();  // The end of input, after the last one.
  if (certs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(flag, path), "no PEM certificate in it (", error, ")"));
  }
  return certs;
}

// A password callback that refuses: encrypted keys are an error, not a prompt.
int NoPassword(char*, int, int, void*) { return 0; }

absl::StatusOr<PkeyPtr> ParsePrivateKey(absl::string_view flag, const std::string& path,
                                        const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(flag, path), "no unencrypted PEM private key in it (", TakeOpenSslError(), ")"));
  }
  return key;
}

// Checks the certificate chain and key files and returns their contents.
absl::Status LoadServerKeyPair(const GrpcSecurityOptions& options, std::string* cert_pem,
                               std::string* key_pem) {
  REFIR_ASSIGN_OR_RETURN(*cert_pem, ReadFlagFile("grpc_tls_cert_file", options.tls_cert_file));
  REFIR_ASSIGN_OR_RETURN(*key_pem, ReadFlagFile("grpc_tls_key_file", options.tls_key_file));
  REFIR_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain,
                         ParseCertificates("grpc_tls_cert_file", options.tls_cert_file, *cert_pem));
  REFIR_ASSIGN_OR_RETURN(PkeyPtr key,
                         ParsePrivateKey("grpc_tls_key_file", options.tls_key_file, *key_pem));
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(Where("grpc_tls_key_file", options.tls_key_file),
                     "is not the key of the first certificate in --grpc_tls_cert_file \"",
                     options.tls_cert_file, "\""));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(chain.front().get())) < 0) {
    LogWarning(absl::StrCat(Where("grpc_tls_cert_file", options.tls_cert_file),
                            "the certificate has expired; TLS clients will refuse it"));
  } else if (X509_cmp_current_time(X509_get0_notBefore(chain.front().get())) > 0) {
    LogWarning(absl::StrCat(Where("grpc_tls_cert_file", options.tls_cert_file),
                            "the certificate is not valid yet"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLoopbackAddress(absl::string_view address) {
  if (absl::StartsWith(address, "[") && absl::EndsWith(address, "]")) {
    address = address.substr(1, address.size() - 2);
  }
  if (absl::EqualsIgnoreCase(address, "localhost")) return true;
  const std::string text(address);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

absl::StatusOr<GrpcSecurity> LoadGrpcSecurity(const GrpcSecurityOptions& options,
                                              absl::string_view listen_address) {
  const bool has_cert = !options.tls_cert_file.empty();
  const bool has_key = !options.tls_key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        "--grpc_tls_cert_file and --grpc_tls_key_file must be set together");
  }
  if (!options.tls_client_ca_file.empty() && !has_cert) {
    return absl::InvalidArgumentError(
        "--grpc_tls_client_ca_file needs TLS: set --grpc_tls_cert_file and --grpc_tls_key_file");
  }
  GrpcSecurity security;
  if (has_cert) {
    std::string cert_pem;
    std::string key_pem;
    REFIR_RETURN_IF_ERROR(LoadServerKeyPair(options, &cert_pem, &key_pem));
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    security.description = "TLS";
    if (!options.tls_client_ca_file.empty()) {
      REFIR_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                             ReadFlagFile("grpc_tls_client_ca_file", options.tls_client_ca_file));
      REFIR_RETURN_IF_ERROR(ParseCertificates("grpc_tls_client_ca_file", options.tls_client_ca_file,
                                              ssl.pem_root_certs)
                                .status());
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
      security.description = "mutual TLS (client certificates required)";
    }
    ssl.pem_key_cert_pairs.push_back({std::move(key_pem), std::move(cert_pem)});
    security.credentials = grpc::SslServerCredentials(ssl);
  } else {
    security.credentials = grpc::InsecureServerCredentials();
    security.description = "plaintext";
  }
  if (!options.tokens_file.empty()) {
    REFIR_ASSIGN_OR_RETURN(security.authorizer, LoadTokenFile(options.tokens_file));
    absl::StrAppend(&security.description, ", bearer tokens required (",
                    security.authorizer->size(), " configured)");
    if (!has_cert && !IsLoopbackAddress(listen_address)) {
      LogWarning(absl::StrCat(
          "bearer tokens travel in plaintext on --grpc_address=", listen_address,
          ": anyone on the network path can read and replay them; set --grpc_tls_cert_file and "
          "--grpc_tls_key_file"));
    }
  }
  const bool mutual_tls = has_cert && !options.tls_client_ca_file.empty();
  if (security.authorizer == nullptr && !mutual_tls && !IsLoopbackAddress(listen_address)) {
    if (!options.allow_insecure_remote) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--grpc_address=", listen_address,
          " is not a loopback address and the gRPC API would need no authentication: anyone who "
          "can reach the port could read and settle every event. Set --grpc_tokens_file (bearer "
          "tokens), or --grpc_tls_client_ca_file with --grpc_tls_cert_file and "
          "--grpc_tls_key_file (mutual TLS), or bind --grpc_address=127.0.0.1; "
          "--grpc_allow_insecure_remote starts anyway"));
    }
    LogWarning(absl::StrCat(
        "INSECURE: the gRPC API on --grpc_address=", listen_address,
        " needs no authentication (--grpc_allow_insecure_remote): anyone who can reach the port "
        "can read and settle every event; set --grpc_tokens_file or mutual TLS"));
  }
  if (security.credentials == nullptr) {
    return absl::InternalError("gRPC could not make the server credentials");
  }
  return security;
}

}  // namespace refir::bridge
