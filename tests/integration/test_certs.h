// Real X.509 test certificates, made per test with the openssl CLI: a CA, a
// server certificate for localhost / 127.0.0.1 (subjectAltName), a client
// certificate from the same CA, and a second, unrelated CA with a client
// certificate of its own (which the bridge must refuse). EC P-256 keys,
// valid for two days.
#ifndef REFIR_BRIDGE_TESTS_INTEGRATION_TEST_CERTS_H_
#define REFIR_BRIDGE_TESTS_INTEGRATION_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace refir::bridge::testing {

// Paths of a PEM certificate and its unencrypted PEM private key.
struct CertFiles {
  std::string cert;
  std::string key;
};

struct TestPki {
  std::string ca_cert;  // The CA that signed `server` and `client`.
  CertFiles server;     // CN=localhost, SAN DNS:localhost, IP:127.0.0.1.
  CertFiles client;     // CN=test-client, extendedKeyUsage clientAuth.
  std::string other_ca_cert;
  CertFiles other_client;  // Signed by the other CA.
};

// Writes the files into `dir` (which must exist). Fails when openssl does.
absl::StatusOr<TestPki> MakeTestPki(const std::string& dir);

// The whole file; "" (and a test failure) when it cannot be read.
std::string ReadTestFile(const std::string& path);
// Writes `contents` to `path`; false (and a test failure) on error.
bool WriteTestFile(const std::string& path, const std::string& contents);

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_INTEGRATION_TEST_CERTS_H_
