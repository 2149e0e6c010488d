// gRPC transport security and bearer tokens on the real bridge binary, with
// real certificates made by the openssl CLI for each test: TLS, mutual TLS,
// tokens with per-token consumer groups, their combinations, probes that stay
// open without a token, and startup refusing bad files.
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/group_test_clients.h"
#include "tests/integration/test_certs.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr char kAlphaToken[] = "alpha-token-0123456789";
constexpr char kBetaToken[] = "beta-token-0123456789";
constexpr char kAdminToken[] = "admin-token-0123456789";
constexpr char kTokensFile[] = R"(# name  token                   groups
alpha   alpha-token-0123456789  group-a
beta    beta-token-0123456789   group-b,group-c
admin   admin-token-0123456789  *
)";

std::chrono::system_clock::time_point In(absl::Duration duration) {
  return absl::ToChronoTime(absl::Now() + duration);
}

class GrpcSecurityE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    absl::StatusOr<TestPki> pki = MakeTestPki(dir_);
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *pki;
    tokens_file_ = dir_ + "/tokens";
    ASSERT_TRUE(WriteTestFile(tokens_file_, kTokensFile));
  }

  std::vector<std::string> TlsFlags() const {
    return {"--grpc_tls_cert_file=" + pki_.server.cert, "--grpc_tls_key_file=" + pki_.server.key};
  }
  std::vector<std::string> MutualTlsFlags() const {
    std::vector<std::string> flags = TlsFlags();
    flags.push_back("--grpc_tls_client_ca_file=" + pki_.ca_cert);
    return flags;
  }
  std::vector<std::string> TokenFlags() const { return {"--grpc_tokens_file=" + tokens_file_}; }

  void StartBridge(std::vector<std::string> flags) {
    bridge_ = std::make_unique<BridgeProcess>(MakeTempDir(), std::move(flags));
    bridge_->set_stderr_file(dir_ + "/bridge.stderr");
    absl::Status started = bridge_->Start();
    ASSERT_TRUE(started.ok()) << started << "\n" << ReadTestFile(dir_ + "/bridge.stderr");
  }

  // TLS channel credentials trusting `ca`, presenting `client` when given.
  std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& ca,
                                                const CertFiles* client = nullptr) const {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadTestFile(ca);
    if (client != nullptr) {
      options.pem_cert_chain = ReadTestFile(client->cert);
      options.pem_private_key = ReadTestFile(client->key);
    }
    return grpc::SslCredentials(options);
  }

  std::unique_ptr<v1::EventStream::Stub> Stub(std::shared_ptr<grpc::ChannelCredentials> credentials,
                                              const std::string& token = "") const {
    ChannelOptions options;
    options.credentials = std::move(credentials);
    options.bearer_token = token;
    return MakeStub(bridge_->grpc_target(), options);
  }

  static grpc::Status ListEvents(v1::EventStream::Stub& stub) {
    grpc::ClientContext context;
    context.set_deadline(In(absl::Seconds(10)));
    v1::ListEventsRequest request;
    v1::ListEventsResponse response;
    return stub.ListEvents(&context, request, &response);
  }

  // POSTs a webhook, then receives it on an ephemeral Subscribe starting at
  // its sequence; fails the test unless that event arrives.
  void ExpectWebhookArrives(v1::EventStream::Stub& stub) {
    const uint64_t sequence = PostEvent(bridge_->http_port());
    ASSERT_GT(sequence, 0u);
    v1::SubscribeInit init = InitFromEarliest();
    init.mutable_start()->set_sequence(sequence);
    Subscription subscription(stub, init);
    v1::SubscribeConfirm confirm;
    ASSERT_TRUE(subscription.ReadConfirm(&confirm)) << subscription.Finish().error_message();
    std::vector<v1::Event> events = subscription.ReadEvents(1);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].sequence(), sequence);
    EXPECT_EQ(events[0].type(), "refir.referral.created");
  }

  std::vector<std::string> GroupNames(v1::EventStream::Stub& stub) {
    grpc::ClientContext context;
    context.set_deadline(In(absl::Seconds(10)));
    v1::ListConsumerGroupsResponse response;
    grpc::Status status =
        stub.ListConsumerGroups(&context, v1::ListConsumerGroupsRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> names;
    for (const v1::ConsumerGroup& group : response.groups()) names.push_back(group.name());
    return names;
  }

  std::string dir_;
  TestPki pki_;
  std::string tokens_file_;
  std::unique_ptr<BridgeProcess> bridge_;
};

TEST_F(GrpcSecurityE2ETest, TlsRefusesPlaintextClients) {
  StartBridge(TlsFlags());
  auto plaintext = MakeStub(bridge_->grpc_target());
  grpc::Status status = ListEvents(*plaintext);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(GrpcSecurityE2ETest, TlsClientTrustingTheCaReceivesAWebhook) {
  StartBridge(TlsFlags());
  auto stub = Stub(Tls(pki_.ca_cert));
  EXPECT_TRUE(ListEvents(*stub).ok());
  ExpectWebhookArrives(*stub);
}

TEST_F(GrpcSecurityE2ETest, TlsClientTrustingAnotherCaRefusesTheServer) {
  StartBridge(TlsFlags());
  auto stub = Stub(Tls(pki_.other_ca_cert));
  grpc::Status status = ListEvents(*stub);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(GrpcSecurityE2ETest, MutualTlsRefusesClientsWithoutACertificate) {
  StartBridge(MutualTlsFlags());
  auto stub = Stub(Tls(pki_.ca_cert));
  grpc::Status status = ListEvents(*stub);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(GrpcSecurityE2ETest, MutualTlsRefusesACertificateFromAnotherCa) {
  StartBridge(MutualTlsFlags());
  auto stub = Stub(Tls(pki_.ca_cert, &pki_.other_client));
  grpc::Status status = ListEvents(*stub);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(GrpcSecurityE2ETest, MutualTlsAcceptsACertificateFromTheClientCa) {
  StartBridge(MutualTlsFlags());
  auto stub = Stub(Tls(pki_.ca_cert, &pki_.client));
  ExpectWebhookArrives(*stub);
}

TEST_F(GrpcSecurityE2ETest, TokensRequiredOnEveryEventStreamCall) {
  StartBridge(TokenFlags());
  for (const std::string token : {"", "wrong-token-0123456789", "alpha-token-012345678"}) {
    SCOPED_TRACE(absl::StrCat("token \"", token, "\""));
    auto stub = Stub(nullptr, token);
    grpc::Status status = ListEvents(*stub);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();

    GroupStream ephemeral(*stub);
    EXPECT_EQ(ephemeral.Open(InitFromEarliest()).status().code(),
              absl::StatusCode::kUnauthenticated);
    GroupStream grouped(*stub);
    EXPECT_EQ(grouped.Open(GroupInit("group-a")).status().code(),
              absl::StatusCode::kUnauthenticated);

    grpc::ClientContext context;
    context.set_deadline(In(absl::Seconds(10)));
    v1::ListConsumerGroupsResponse response;
    EXPECT_EQ(stub->ListConsumerGroups(&context, {}, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    v1::ConsumerGroup group;
    EXPECT_EQ(GetGroup(*stub, "group-a", &group).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST_F(GrpcSecurityE2ETest, ATokenUsesOnlyItsOwnGroups) {
  StartBridge(TokenFlags());
  auto alpha = Stub(nullptr, kAlphaToken);

  GroupStream denied(*alpha);
  absl::StatusOr<v1::SubscribeConfirm> refused = denied.Open(GroupInit("group-b"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("\"group-b\""));

  GroupStream allowed(*alpha);
  absl::StatusOr<v1::SubscribeConfirm> confirm = allowed.Open(GroupInit("group-a"));
  ASSERT_TRUE(confirm.ok()) << confirm.status();
  const uint64_t sequence = PostEvent(bridge_->http_port());
  std::vector<ReceivedDelivery> deliveries = allowed.ReadDeliveries(1, absl::Seconds(10));
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].sequence(), sequence);
  ASSERT_TRUE(allowed.AckAndWait({deliveries[0].ack_id()}).has_value());

  // The group admin RPCs follow the same rule.
  v1::ConsumerGroup group;
  EXPECT_TRUE(GetGroup(*alpha, "group-a", &group).ok());
  grpc::Status status = GetGroup(*alpha, "group-b", &group);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("\"group-b\""));
  {
    grpc::ClientContext context;
    v1::SeekConsumerGroupRequest request;
    request.set_name("group-b");
    request.mutable_earliest();
    v1::SeekConsumerGroupResponse response;
    EXPECT_EQ(alpha->SeekConsumerGroup(&context, request, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    v1::ListDeadLettersRequest request;
    request.set_name("group-b");
    v1::ListDeadLettersResponse response;
    EXPECT_EQ(alpha->ListDeadLetters(&context, request, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    v1::RequeueDeadLettersRequest request;
    request.set_name("group-b");
    request.set_all(true);
    v1::RequeueDeadLettersResponse response;
    EXPECT_EQ(alpha->RequeueDeadLetters(&context, request, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    v1::DeleteConsumerGroupRequest request;
    request.set_name("group-b");
    google::protobuf::Empty empty;
    EXPECT_EQ(alpha->DeleteConsumerGroup(&context, request, &empty).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // A malformed name is still INVALID_ARGUMENT.
  EXPECT_EQ(GetGroup(*alpha, "bad name", &group).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  GroupStream malformed(*alpha);
  EXPECT_EQ(malformed.Open(GroupInit("bad name")).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Any valid token reads events (ListEvents, GetEvent, ephemeral Subscribe).
  EXPECT_TRUE(ListEvents(*alpha).ok());
  {
    grpc::ClientContext context;
    v1::GetEventRequest request;
    request.set_sequence(sequence);
    v1::Event event;
    EXPECT_TRUE(alpha->GetEvent(&context, request, &event).ok());
    EXPECT_EQ(event.sequence(), sequence);
  }
  ExpectWebhookArrives(*alpha);
}

TEST_F(GrpcSecurityE2ETest, ListConsumerGroupsShowsOnlyTheTokensGroups) {
  StartBridge(TokenFlags());
  auto alpha = Stub(nullptr, kAlphaToken);
  auto beta = Stub(nullptr, kBetaToken);
  auto admin = Stub(nullptr, kAdminToken);
  GroupStream a(*alpha);
  ASSERT_TRUE(a.Open(GroupInit("group-a")).ok());
  GroupStream b(*beta);
  ASSERT_TRUE(b.Open(GroupInit("group-b")).ok());
  GroupStream c(*beta);
  ASSERT_TRUE(c.Open(GroupInit("group-c")).ok());

  EXPECT_THAT(GroupNames(*alpha), ElementsAre("group-a"));
  EXPECT_THAT(GroupNames(*beta), UnorderedElementsAre("group-b", "group-c"));
  EXPECT_THAT(GroupNames(*admin), UnorderedElementsAre("group-a", "group-b", "group-c"));
}

TEST_F(GrpcSecurityE2ETest, HealthAndReflectionNeedNoToken) {
  StartBridge(TokenFlags());
  auto channel = MakeChannel(bridge_->grpc_target());
  {
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(In(absl::Seconds(10)));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service("refir.bridge.v1.EventStream");
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = health->Check(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(In(absl::Seconds(10)));
  auto stream = reflection->ServerReflectionInfo(&context);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::vector<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.push_back(service.name());
  }
  EXPECT_THAT(names, Contains("refir.bridge.v1.EventStream"));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(GrpcSecurityE2ETest, MutualTlsAndTokensTogether) {
  StartBridge([&] {
    std::vector<std::string> flags = MutualTlsFlags();
    flags.push_back("--grpc_tokens_file=" + tokens_file_);
    return flags;
  }());
  auto no_token = Stub(Tls(pki_.ca_cert, &pki_.client));
  EXPECT_EQ(ListEvents(*no_token).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto no_cert = Stub(Tls(pki_.ca_cert), kAlphaToken);
  EXPECT_EQ(ListEvents(*no_cert).error_code(), grpc::StatusCode::UNAVAILABLE);
  auto both = Stub(Tls(pki_.ca_cert, &pki_.client), kAlphaToken);
  ExpectWebhookArrives(*both);
  GroupStream denied(*both);
  EXPECT_EQ(denied.Open(GroupInit("group-b")).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(GrpcSecurityE2ETest, TlsAndTokensTogether) {
  StartBridge([&] {
    std::vector<std::string> flags = TlsFlags();
    flags.push_back("--grpc_tokens_file=" + tokens_file_);
    return flags;
  }());
  EXPECT_EQ(ListEvents(*Stub(Tls(pki_.ca_cert))).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto beta = Stub(Tls(pki_.ca_cert), kBetaToken);
  GroupStream stream(*beta);
  ASSERT_TRUE(stream.Open(GroupInit("group-c")).ok());
  EXPECT_THAT(GroupNames(*beta), ElementsAre("group-c"));
}

TEST_F(GrpcSecurityE2ETest, TokensNeverReachTheLog) {
  StartBridge(TokenFlags());
  auto alpha = Stub(nullptr, kAlphaToken);
  EXPECT_TRUE(ListEvents(*alpha).ok());
  EXPECT_EQ(ListEvents(*Stub(nullptr, "wrong-token-0123456789")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  absl::StatusOr<int> exit_code = bridge_->Stop();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  const std::string log = ReadTestFile(dir_ + "/bridge.stderr");
  EXPECT_THAT(log, HasSubstr("bearer tokens required (3 configured)"));
  for (const char* token : {kAlphaToken, kBetaToken, kAdminToken, "wrong-token"}) {
    EXPECT_THAT(log, Not(HasSubstr(token)));
  }
}

// Startup with a bad security flag: the binary exits non-zero and its
// message names the flag (and the file).
class GrpcSecurityStartupTest : public GrpcSecurityE2ETest {
 protected:
  // Starts the binary with `flags`, expects it to exit during startup with a
  // non-zero code, and returns its stderr (as text lines, so messages read
  // as written rather than JSON-escaped).
  std::string StartupFailure(std::vector<std::string> flags) {
    flags.push_back("--log_format=text");
    BridgeProcess bridge(MakeTempDir(), std::move(flags));
    const std::string log = dir_ + "/startup.stderr";
    bridge.set_stderr_file(log);
    absl::Status started = bridge.Start();
    EXPECT_EQ(started.code(), absl::StatusCode::kFailedPrecondition) << started;
    EXPECT_THAT(started.message(), HasSubstr("exited during startup with code"));
    EXPECT_THAT(started.message(), Not(HasSubstr("code 0")));
    return ReadTestFile(log);
  }
};

TEST_F(GrpcSecurityStartupTest, MissingCertificateFile) {
  const std::string missing = dir_ + "/no-such-cert.pem";
  const std::string log =
      StartupFailure({"--grpc_tls_cert_file=" + missing, "--grpc_tls_key_file=" + pki_.server.key});
  EXPECT_THAT(log, HasSubstr("--grpc_tls_cert_file \"" + missing + "\""));
  EXPECT_THAT(log, HasSubstr("No such file"));
}

TEST_F(GrpcSecurityStartupTest, CertificateWithoutKey) {
  EXPECT_THAT(StartupFailure({"--grpc_tls_cert_file=" + pki_.server.cert}),
              HasSubstr("--grpc_tls_cert_file and --grpc_tls_key_file must be set together"));
}

TEST_F(GrpcSecurityStartupTest, FileThatIsNotACertificate) {
  EXPECT_THAT(StartupFailure({"--grpc_tls_cert_file=" + tokens_file_,
                              "--grpc_tls_key_file=" + pki_.server.key}),
              HasSubstr("--grpc_tls_cert_file \"" + tokens_file_ + "\": no PEM certificate"));
}

TEST_F(GrpcSecurityStartupTest, KeyOfAnotherCertificate) {
  EXPECT_THAT(StartupFailure({"--grpc_tls_cert_file=" + pki_.server.cert,
                              "--grpc_tls_key_file=" + pki_.client.key}),
              HasSubstr("--grpc_tls_key_file \"" + pki_.client.key +
                        "\": is not the key of the first certificate"));
}

TEST_F(GrpcSecurityStartupTest, ClientCaWithoutTls) {
  EXPECT_THAT(StartupFailure({"--grpc_tls_client_ca_file=" + pki_.ca_cert}),
              HasSubstr("--grpc_tls_client_ca_file needs TLS"));
}

TEST_F(GrpcSecurityStartupTest, BadTokensFileNamesTheLineNotTheToken) {
  const std::string bad = dir_ + "/bad-tokens";
  ASSERT_TRUE(WriteTestFile(bad,
                            "# ok so far\n"
                            "alpha alpha-token-0123456789 group-a\n"
                            "beta  short-secret  group-b\n"));
  const std::string log = StartupFailure({"--grpc_tokens_file=" + bad});
  EXPECT_THAT(log, HasSubstr("--grpc_tokens_file \"" + bad +
                             "\": line 3: the token (second field): the token must be at least"));
  EXPECT_THAT(log, Not(HasSubstr("short-secret")));
  EXPECT_THAT(log, Not(HasSubstr("alpha-token")));
}

// Token and name in the wrong columns: the error names the line and the
// field, and never prints the token.
TEST_F(GrpcSecurityStartupTest, SwappedTokensFileColumnsNeverPrintTheToken) {
  const std::string swapped = dir_ + "/swapped-tokens";
  ASSERT_TRUE(WriteTestFile(swapped, "k3Y+s3cr3t/t0ken-0123456789== billing billing\n"));
  const std::string log = StartupFailure({"--grpc_tokens_file=" + swapped});
  EXPECT_THAT(log, HasSubstr("--grpc_tokens_file \"" + swapped + "\": line 1: the name"));
  EXPECT_THAT(log, HasSubstr("wrong order"));
  EXPECT_THAT(log, Not(HasSubstr("s3cr3t")));
}

TEST_F(GrpcSecurityStartupTest, NonLoopbackWithoutAuthenticationIsRefused) {
  for (const char* address : {"0.0.0.0", "[::]"}) {
    const std::string log = StartupFailure({absl::StrCat("--grpc_address=", address)});
    EXPECT_THAT(log,
                HasSubstr(absl::StrCat("--grpc_address=", address, " is not a loopback address")));
    EXPECT_THAT(log, HasSubstr("--grpc_tokens_file"));
    EXPECT_THAT(log, HasSubstr("--grpc_allow_insecure_remote"));
  }
  // TLS alone authenticates the server, not the clients: still refused.
  std::vector<std::string> tls = TlsFlags();
  tls.push_back("--grpc_address=0.0.0.0");
  EXPECT_THAT(StartupFailure(tls), HasSubstr("is not a loopback address"));
}

TEST_F(GrpcSecurityE2ETest, NonLoopbackStartsWithTokensMutualTlsOrTheFlag) {
  std::vector<std::string> tokens = TokenFlags();
  tokens.push_back("--grpc_address=0.0.0.0");
  StartBridge(tokens);
  EXPECT_EQ(ListEvents(*Stub(nullptr, kAlphaToken)).error_code(), grpc::StatusCode::OK);
  ASSERT_TRUE(bridge_->Stop().ok());

  std::vector<std::string> mutual = MutualTlsFlags();
  mutual.push_back("--grpc_address=0.0.0.0");
  StartBridge(mutual);
  ASSERT_TRUE(bridge_->Stop().ok());

  StartBridge({"--grpc_address=0.0.0.0", "--grpc_allow_insecure_remote", "--log_format=text"});
  EXPECT_EQ(ListEvents(*Stub(nullptr)).error_code(), grpc::StatusCode::OK);
  EXPECT_THAT(ReadTestFile(dir_ + "/bridge.stderr"),
              HasSubstr("INSECURE: the gRPC API on --grpc_address=0.0.0.0 needs no "
                        "authentication"));
}

TEST_F(GrpcSecurityE2ETest, TokensFileReadableByOthersIsAWarning) {
  ASSERT_EQ(chmod(tokens_file_.c_str(), 0644), 0);
  std::vector<std::string> flags = TokenFlags();
  flags.push_back("--log_format=text");
  StartBridge(flags);
  const std::string log = ReadTestFile(dir_ + "/bridge.stderr");
  EXPECT_THAT(
      log, HasSubstr("--grpc_tokens_file \"" + tokens_file_ + "\" is readable by group or others"));
  for (const char* token : {kAlphaToken, kBetaToken, kAdminToken}) {
    EXPECT_THAT(log, Not(HasSubstr(token)));
  }
}

TEST_F(GrpcSecurityStartupTest, TokensFileReadableByOthersIsRefusedWithTheFlag) {
  ASSERT_EQ(chmod(tokens_file_.c_str(), 0640), 0);
  const std::string log =
      StartupFailure({"--grpc_tokens_file=" + tokens_file_, "--refuse_insecure_secret_files"});
  EXPECT_THAT(log, HasSubstr("--grpc_tokens_file \"" + tokens_file_ +
                             "\" is readable by group or others (mode 0640)"));
  EXPECT_THAT(log, Not(HasSubstr(kAlphaToken)));
  // chmod 600 is enough.
  ASSERT_EQ(chmod(tokens_file_.c_str(), 0600), 0);
  std::vector<std::string> flags = TokenFlags();
  flags.push_back("--refuse_insecure_secret_files");
  flags.push_back("--log_format=text");
  StartBridge(flags);
  EXPECT_THAT(ReadTestFile(dir_ + "/bridge.stderr"), Not(HasSubstr("readable by group")));
}

TEST_F(GrpcSecurityStartupTest, MissingTokensFile) {
  const std::string missing = dir_ + "/no-such-tokens";
  EXPECT_THAT(StartupFailure({"--grpc_tokens_file=" + missing}),
              HasSubstr("--grpc_tokens_file \"" + missing + "\": cannot open"));
}

}  // namespace
}  // namespace refir::bridge::testing
