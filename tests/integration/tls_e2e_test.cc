// HTTPS on the webhook edge: the real bridge binary with a certificate made
// for 127.0.0.1 by a throwaway CA (openssl CLI), a client that verifies it,
// and a plain-HTTP request to the TLS port that must fail.
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

struct TestPki {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
};

// A CA and a server certificate for IP 127.0.0.1 signed by it, in `dir`.
bool MakeTestPki(const std::string& dir, TestPki* pki) {
  const std::string ext = absl::StrCat(dir, "/server.ext");
  {
    std::ofstream out(ext);
    out << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
           "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n";
  }
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string script =
      absl::StrCat("set -e; cd '", dir, "'; ", "openssl req -x509 ", ec,
                   " -keyout ca.key -out ca.pem -days 2 -subj /CN=refir-test-ca; ", "openssl req ",
                   ec, " -keyout server.key -out server.csr -subj /CN=127.0.0.1; ",
                   "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial ",
                   "-out server.pem -days 2 -extfile server.ext");
  const std::string command = absl::StrCat("sh -c \"", script, "\" >/dev/null 2>&1");
  if (std::system(command.c_str()) != 0) return false;
  pki->ca_cert = absl::StrCat(dir, "/ca.pem");
  pki->server_cert = absl::StrCat(dir, "/server.pem");
  pki->server_key = absl::StrCat(dir, "/server.key");
  return true;
}

class TlsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = MakeTempDir();
    ASSERT_TRUE(MakeTestPki(dir, &pki_)) << "openssl could not make the test certificates";
    bridge_ = std::make_unique<BridgeProcess>(
        dir, std::vector<std::string>{absl::StrCat("--http_tls_cert_file=", pki_.server_cert),
                                      absl::StrCat("--http_tls_key_file=", pki_.server_key)});
    ASSERT_TRUE(bridge_->Start().ok());
  }

  TestPki pki_;
  std::unique_ptr<BridgeProcess> bridge_;
};

TEST_F(TlsE2ETest, PostOverVerifiedHttpsIsStored) {
  httplib::SSLClient client("127.0.0.1", bridge_->http_port());
  client.set_ca_cert_path(pki_.ca_cert.c_str());
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  httplib::Result first =
      client.Post("/webhook", R"({"event":"user_added","lead":{"id":9}})", "application/json");
  ASSERT_TRUE(first) << "HTTPS request failed: " << httplib::to_string(first.error())
                     << ", verify result " << client.get_openssl_verify_result();
  EXPECT_EQ(first->status, 200) << first->body;
  // The same keep-alive TLS connection serves limits as it does over HTTP.
  httplib::Result refused = client.Post("/webhook", "{}", "text/plain");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 415);
  httplib::Result second = client.Post("/webhook", R"({"message":"again"})", "application/json");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);

  std::unique_ptr<v1::EventStream::Stub> stub = MakeStub(bridge_->grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type(), "refir.user.added");
  EXPECT_EQ(events[0].refir().lead().id(), "9");
  EXPECT_EQ(events[1].refir().message(), "again");
}

TEST_F(TlsE2ETest, ClientThatDoesNotTrustTheCaIsRefused) {
  httplib::SSLClient client("127.0.0.1", bridge_->http_port());
  client.enable_server_certificate_verification(true);
  client.set_ca_cert_path(pki_.server_cert.c_str());  // not the CA
  client.set_connection_timeout(5);
  httplib::Result result = client.Post("/webhook", "{}", "application/json");
  EXPECT_FALSE(result);
}

TEST_F(TlsE2ETest, PlainHttpToTheTlsPortFails) {
  HttpResult plain = PostWebhook(bridge_->http_port(), R"({"message":"plain"})");
  EXPECT_EQ(plain.status, 0) << "got an HTTP answer over plain HTTP: " << plain.body;
  std::unique_ptr<v1::EventStream::Stub> stub = MakeStub(bridge_->grpc_target());
  EXPECT_TRUE(ListAllEvents(*stub).empty());
}

TEST(TlsE2EStartupTest, UnreadableCertificateStopsStartup) {
  const std::string dir = MakeTempDir();
  BridgeProcess bridge(dir, {"--http_tls_cert_file=/nonexistent/cert.pem",
                             "--http_tls_key_file=/nonexistent/key.pem"});
  EXPECT_FALSE(bridge.Start().ok());
  BridgeProcess half(dir, {"--http_tls_cert_file=/nonexistent/cert.pem"});
  EXPECT_FALSE(half.Start().ok());
}

}  // namespace
}  // namespace refir::bridge::testing
