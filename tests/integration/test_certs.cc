#include "tests/integration/test_certs.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace refir::bridge::testing {
namespace {

constexpr char kConfig[] = R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
)";

constexpr char kNewKey[] = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

// Runs `command` in a shell, its output appended to `log`.
absl::Status Run(const std::string& command, const std::string& log) {
  const std::string line = absl::StrCat(command, " >>'", log, "' 2>&1");
  const int status = std::system(line.c_str());
  if (status != 0) {
    return absl::InternalError(absl::StrCat("`", command, "` failed (", status, "); see ", log));
  }
  return absl::OkStatus();
}

class PkiWriter {
 public:
  explicit PkiWriter(std::string dir)
      : dir_(std::move(dir)),
        config_(absl::StrCat(dir_, "/openssl.cnf")),
        log_(absl::StrCat(dir_, "/openssl.log")) {}

  absl::Status WriteConfig() {
    return WriteTestFile(config_, kConfig) ? absl::OkStatus()
                                           : absl::InternalError("cannot write openssl.cnf");
  }

  // A self-signed CA named `name`; returns its certificate path.
  absl::StatusOr<std::string> MakeCa(const std::string& name) {
    const std::string cert = Path(name, ".pem");
    absl::Status made =
        Run(absl::StrCat("openssl req -x509 -config '", config_, "' -extensions ca_ext ", kNewKey,
                         " -keyout '", Path(name, ".key"), "' -out '", cert,
                         "' -days 2 -subj /CN=", name),
            log_);
    if (!made.ok()) return made;
    return cert;
  }

  // A leaf for `common_name`, signed by CA `ca`, with extensions `section`.
  absl::StatusOr<CertFiles> MakeLeaf(const std::string& name, const std::string& common_name,
                                     const std::string& ca, const std::string& section) {
    CertFiles files{Path(name, ".pem"), Path(name, ".key")};
    const std::string csr = Path(name, ".csr");
    absl::Status made =
        Run(absl::StrCat("openssl req -new -config '", config_, "' ", kNewKey, " -keyout '",
                         files.key, "' -out '", csr, "' -subj /CN=", common_name),
            log_);
    if (!made.ok()) return made;
    made =
        Run(absl::StrCat("openssl x509 -req -in '", csr, "' -CA '", Path(ca, ".pem"), "' -CAkey '",
                         Path(ca, ".key"), "' -set_serial ", ++serial_, " -days 2 -extfile '",
                         config_, "' -extensions ", section, " -out '", files.cert, "'"),
            log_);
    if (!made.ok()) return made;
    return files;
  }

 private:
  std::string Path(const std::string& name, const char* suffix) const {
    return absl::StrCat(dir_, "/", name, suffix);
  }

  const std::string dir_;
  const std::string config_;
  const std::string log_;
  int serial_ = 1000;
};

}  // namespace

absl::StatusOr<TestPki> MakeTestPki(const std::string& dir) {
  PkiWriter writer(dir);
  if (absl::Status written = writer.WriteConfig(); !written.ok()) return written;
  TestPki pki;
  absl::StatusOr<std::string> ca = writer.MakeCa("ca");
  if (!ca.ok()) return ca.status();
  pki.ca_cert = *ca;
  absl::StatusOr<CertFiles> server = writer.MakeLeaf("server", "localhost", "ca", "server_ext");
  if (!server.ok()) return server.status();
  pki.server = *server;
  absl::StatusOr<CertFiles> client = writer.MakeLeaf("client", "test-client", "ca", "client_ext");
  if (!client.ok()) return client.status();
  pki.client = *client;
  absl::StatusOr<std::string> other_ca = writer.MakeCa("other-ca");
  if (!other_ca.ok()) return other_ca.status();
  pki.other_ca_cert = *other_ca;
  absl::StatusOr<CertFiles> other_client =
      writer.MakeLeaf("other-client", "test-client", "other-ca", "client_ext");
  if (!other_client.ok()) return other_client.status();
  pki.other_client = *other_client;
  return pki;
}

std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

bool WriteTestFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) {
    ADD_FAILURE() << "cannot write " << path;
    return false;
  }
  return true;
}

}  // namespace refir::bridge::testing
