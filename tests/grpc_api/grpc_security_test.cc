#include "bridge/grpc_api/grpc_security.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_certs.h"

namespace refir::bridge {
namespace {

using ::refir::bridge::testing::MakeTestPki;
using ::refir::bridge::testing::TestPki;
using ::refir::bridge::testing::WriteTestFile;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class GrpcSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "grpc-security-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(std::system(("rm -rf '" + dir_ + "' && mkdir -p '" + dir_ + "'").c_str()), 0);
    absl::StatusOr<TestPki> pki = MakeTestPki(dir_);
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *pki;
  }

  GrpcSecurityOptions Tls() const {
    GrpcSecurityOptions options;
    options.tls_cert_file = pki_.server.cert;
    options.tls_key_file = pki_.server.key;
    return options;
  }

  // The error of LoadGrpcSecurity(options); fails the test when it succeeds.
  absl::Status Error(const GrpcSecurityOptions& options) {
    absl::StatusOr<GrpcSecurity> security = LoadGrpcSecurity(options, "127.0.0.1");
    EXPECT_FALSE(security.ok());
    return security.status();
  }

  std::string dir_;
  TestPki pki_;
};

TEST_F(GrpcSecurityTest, PlaintextTlsAndMutualTls) {
  absl::StatusOr<GrpcSecurity> plain = LoadGrpcSecurity({}, "127.0.0.1");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->description, "plaintext");
  EXPECT_NE(plain->credentials, nullptr);
  EXPECT_EQ(plain->authorizer, nullptr);

  absl::StatusOr<GrpcSecurity> tls = LoadGrpcSecurity(Tls(), "127.0.0.1");
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(tls->description, "TLS");

  GrpcSecurityOptions mutual = Tls();
  mutual.tls_client_ca_file = pki_.ca_cert;
  absl::StatusOr<GrpcSecurity> mtls = LoadGrpcSecurity(mutual, "0.0.0.0");
  ASSERT_TRUE(mtls.ok()) << mtls.status();
  EXPECT_THAT(mtls->description, StartsWith("mutual TLS"));
}

TEST_F(GrpcSecurityTest, TokensAlone) {
  GrpcSecurityOptions options;
  options.tokens_file = dir_ + "/tokens";
  ASSERT_TRUE(WriteTestFile(options.tokens_file, "a a-token-0123456789abc g\n"));
  // Over plaintext on a non-loopback address it only warns.
  absl::StatusOr<GrpcSecurity> security = LoadGrpcSecurity(options, "0.0.0.0");
  ASSERT_TRUE(security.ok()) << security.status();
  ASSERT_NE(security->authorizer, nullptr);
  EXPECT_EQ(security->authorizer->size(), 1u);
  EXPECT_EQ(security->description, "plaintext, bearer tokens required (1 configured)");
}

TEST_F(GrpcSecurityTest, RemoteWithoutAuthenticationIsRefused) {
  for (const char* address : {"0.0.0.0", "[::]", "10.0.0.1", "example.com"}) {
    for (const GrpcSecurityOptions& options : {GrpcSecurityOptions(), Tls()}) {
      absl::StatusOr<GrpcSecurity> refused = LoadGrpcSecurity(options, address);
      ASSERT_FALSE(refused.ok()) << address;
      EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
      const std::string message(refused.status().message());
      EXPECT_THAT(message, HasSubstr(absl::StrCat("--grpc_address=", address)));
      EXPECT_THAT(message, HasSubstr("--grpc_tokens_file"));
      EXPECT_THAT(message, HasSubstr("--grpc_tls_client_ca_file"));
      EXPECT_THAT(message, HasSubstr("--grpc_allow_insecure_remote"));
    }
  }
  // Loopback needs nothing.
  for (const char* address : {"127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost"}) {
    EXPECT_TRUE(LoadGrpcSecurity({}, address).ok()) << address;
  }
}

// The warning it logs is checked end to end (grpc_security_e2e_test).
TEST_F(GrpcSecurityTest, RemoteWithoutAuthenticationStartsWhenAllowed) {
  GrpcSecurityOptions options;
  options.allow_insecure_remote = true;
  absl::StatusOr<GrpcSecurity> security = LoadGrpcSecurity(options, "0.0.0.0");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->description, "plaintext");
}

TEST_F(GrpcSecurityTest, CertificateAndKeyGoTogether) {
  GrpcSecurityOptions cert_only = Tls();
  cert_only.tls_key_file.clear();
  EXPECT_THAT(Error(cert_only).message(), HasSubstr("must be set together"));
  GrpcSecurityOptions key_only = Tls();
  key_only.tls_cert_file.clear();
  EXPECT_THAT(Error(key_only).message(), HasSubstr("must be set together"));
  GrpcSecurityOptions ca_only;
  ca_only.tls_client_ca_file = pki_.ca_cert;
  EXPECT_THAT(Error(ca_only).message(), HasSubstr("--grpc_tls_client_ca_file needs TLS"));
}

TEST_F(GrpcSecurityTest, ErrorsNameTheFlagAndTheFile) {
  GrpcSecurityOptions missing_key = Tls();
  missing_key.tls_key_file = dir_ + "/missing.key";
  absl::Status error = Error(missing_key);
  EXPECT_EQ(error.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(error.message(), HasSubstr("--grpc_tls_key_file \"" + dir_ + "/missing.key\""));

  GrpcSecurityOptions not_a_cert = Tls();
  not_a_cert.tls_cert_file = pki_.server.key;
  EXPECT_THAT(Error(not_a_cert).message(),
              HasSubstr("--grpc_tls_cert_file \"" + pki_.server.key + "\": no PEM certificate"));

  GrpcSecurityOptions not_a_key = Tls();
  not_a_key.tls_key_file = pki_.server.cert;
  EXPECT_THAT(Error(not_a_key).message(),
              HasSubstr("--grpc_tls_key_file \"" + pki_.server.cert + "\": no unencrypted PEM"));

  GrpcSecurityOptions wrong_key = Tls();
  wrong_key.tls_key_file = pki_.client.key;
  EXPECT_THAT(Error(wrong_key).message(), HasSubstr("is not the key of the first certificate"));

  GrpcSecurityOptions bad_ca = Tls();
  bad_ca.tls_client_ca_file = pki_.client.key;
  EXPECT_THAT(Error(bad_ca).message(),
              HasSubstr("--grpc_tls_client_ca_file \"" + pki_.client.key + "\": no PEM"));

  GrpcSecurityOptions bad_tokens;
  bad_tokens.tokens_file = dir_ + "/tokens";
  ASSERT_TRUE(WriteTestFile(bad_tokens.tokens_file, "a a-token-0123456789abc\n"));
  EXPECT_THAT(Error(bad_tokens).message(),
              HasSubstr("--grpc_tokens_file \"" + bad_tokens.tokens_file + "\": line 1:"));
}

TEST_F(GrpcSecurityTest, EncryptedKeyIsAnErrorNotAPrompt) {
  const std::string encrypted = dir_ + "/encrypted.key";
  ASSERT_EQ(std::system(absl::StrCat("openssl pkey -in '", pki_.server.key,
                                     "' -aes256 -passout pass:secret -out '", encrypted, "'")
                            .c_str()),
            0);
  GrpcSecurityOptions options = Tls();
  options.tls_key_file = encrypted;
  EXPECT_THAT(Error(options).message(), HasSubstr("no unencrypted PEM private key"));
}

TEST(IsLoopbackAddressTest, Addresses) {
  for (const char* address : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"}) {
    EXPECT_TRUE(IsLoopbackAddress(address)) << address;
  }
  for (const char* address :
       {"0.0.0.0", "::", "[::]", "10.0.0.1", "128.0.0.1", "example.com", ""}) {
    EXPECT_FALSE(IsLoopbackAddress(address)) << address;
  }
}

}  // namespace
}  // namespace refir::bridge
