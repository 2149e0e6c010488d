// The client commands of the real binary (refir-bridge send, tail, groups,
// dead-letters, replay) against a real bridge: aligned tables, the state a
// consumer left, every subcommand's effect, usage errors (exit 2), a
// refusal by the bridge or a bridge that cannot be reached (exit 1, one
// line, within the timeout), bearer tokens.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/command_runner.h"
#include "tests/integration/test_certs.h"
#include "tests/integration/test_clients.h"

namespace refir::bridge::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kGroup[] = "billing";

// A consumer of kGroup that took three events, acked 1 and 3 and
// dead-lettered 2, and stays connected until Close.
class DeadLetteringConsumer {
 public:
  explicit DeadLetteringConsumer(v1::EventStream::Stub& stub) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    stream_ = stub.Subscribe(&context_);
  }
  ~DeadLetteringConsumer() { Close(); }

  // True when all went as planned.
  bool Run() {
    v1::SubscribeRequest init;
    init.mutable_init()->set_consumer_group(kGroup);
    init.mutable_init()->set_client_id("cli-test-consumer");
    init.mutable_init()->mutable_start()->mutable_earliest();
    if (!stream_->Write(init)) return false;
    std::vector<v1::Delivery> deliveries;
    v1::SubscribeResponse response;
    while (deliveries.size() < 3 && stream_->Read(&response)) {
      for (const v1::Delivery& delivery : response.batch().deliveries()) {
        deliveries.push_back(delivery);
      }
    }
    if (deliveries.size() != 3) return false;
    v1::SubscribeRequest settle;
    for (const v1::Delivery& delivery : deliveries) {
      if (delivery.event().sequence() == 2) {
        v1::Nack* nack = settle.mutable_settle()->add_nacks();
        nack->set_ack_id(delivery.ack_id());
        nack->set_action(v1::Nack::DEAD_LETTER);
        nack->set_reason("bad payload");
      } else {
        settle.mutable_settle()->add_ack_ids(delivery.ack_id());
      }
    }
    if (!stream_->Write(settle)) return false;
    while (stream_->Read(&response)) {
      if (response.has_settled()) {
        return response.settled().acked() == 2 && response.settled().nacked() == 1;
      }
    }
    return false;
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    context_.TryCancel();
    stream_->Finish();
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>> stream_;
  bool closed_ = false;
};

// A loopback port nothing listens on (bound, then released).
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return -1;
  }
  close(fd);
  return ntohs(address.sin_port);
}

class CliE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = std::make_unique<BridgeProcess>(MakeTempDir());
    ASSERT_TRUE(bridge_->Start().ok());
    for (int i = 1; i <= 3; ++i) {
      ASSERT_EQ(
          PostWebhook(bridge_->http_port(), absl::StrCat(R"({"event":"user_added","n":)", i, "}"))
              .status,
          200);
    }
  }

  // `refir-bridge <words> --target=<the bridge>`.
  CommandResult Cli(const std::string& words) {
    return RunCommand(absl::StrCat(BridgeProcess::BinaryPath(), " ", words,
                                   " --target=", bridge_->grpc_target()));
  }

  std::unique_ptr<BridgeProcess> bridge_;
};

TEST_F(CliE2eTest, GroupsDeadLettersAndReplayShowAndChangeWhatAConsumerLeft) {
  std::unique_ptr<v1::EventStream::Stub> stub = MakeStub(bridge_->grpc_target());
  auto consumer = std::make_unique<DeadLetteringConsumer>(*stub);
  ASSERT_TRUE(consumer->Run());

  // The table: headers, one row, columns aligned on the headers.
  CommandResult list = Cli("groups");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  std::vector<std::string> lines = absl::StrSplit(list.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << list.output;
  EXPECT_THAT(lines[0], ::testing::MatchesRegex(
                            "NAME +FILTER +LAG +PENDING +DEAD +CONSUMERS +OLDEST_UNACKED"));
  EXPECT_THAT(lines[1], ::testing::MatchesRegex("billing +\\* +0 +0 +1 +1 +-")) << list.output;
  EXPECT_EQ(lines[0].find("FILTER"), lines[1].find('*'));
  // Numbers are right-aligned under their header.
  EXPECT_EQ(lines[0].find("CONSUMERS") + std::string("CONSUMERS").size() - 1, lines[1].rfind('1'));
  // `groups list` is the same listing.
  EXPECT_EQ(Cli("groups list").output, list.output);

  CommandResult get = Cli("groups get billing");
  ASSERT_EQ(get.exit_code, 0) << get.output;
  EXPECT_THAT(get.output, HasSubstr("dead_letters:          1"));
  EXPECT_THAT(get.output, HasSubstr("ack_floor:             4"));
  EXPECT_THAT(get.output, HasSubstr("cli-test-consumer"));
  EXPECT_THAT(get.output, HasSubstr("retry_policy:          none (redelivered at once)"));

  CommandResult dead = Cli("dead-letters list billing");
  ASSERT_EQ(dead.exit_code, 0) << dead.output;
  EXPECT_THAT(dead.output, ::testing::ContainsRegex("\n +2 +1 +[0-9T:-]+Z +refir\\.user\\.added "
                                                    "+bad payload\n"));

  // Deleting a group with a connected stream is refused by the bridge.
  CommandResult busy = Cli("groups delete billing");
  EXPECT_EQ(busy.exit_code, 1) << busy.output;
  EXPECT_THAT(busy.output, HasSubstr("refir-bridge: "));

  CommandResult requeue = Cli("dead-letters requeue billing 2 7");
  ASSERT_EQ(requeue.exit_code, 0) << requeue.output;
  EXPECT_THAT(requeue.output, HasSubstr("requeued 1 of 2 dead letters of billing"));
  EXPECT_THAT(Cli("dead-letters list billing").output, HasSubstr("(no dead letters in billing)"));

  CommandResult replay = Cli("replay billing --from=2");
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_THAT(replay.output, HasSubstr("consumer group billing now delivers from sequence 2"));
  CommandResult replay_time = Cli("replay billing --from=2001-01-01T00:00:00Z");
  ASSERT_EQ(replay_time.exit_code, 0) << replay_time.output;
  EXPECT_THAT(replay_time.output, HasSubstr("now delivers from sequence 1"));

  // Once the stream is gone (waited for, not slept on), delete succeeds.
  consumer->Close();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  CommandResult deleted;
  do {
    deleted = Cli("groups delete billing");
  } while (deleted.exit_code != 0 && absl::Now() < deadline);
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_THAT(deleted.output, HasSubstr("deleted consumer group billing"));
  EXPECT_THAT(Cli("groups").output, HasSubstr("(no consumer groups)"));
  CommandResult gone = Cli("groups get billing");
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_THAT(gone.output, HasSubstr("billing"));
}

TEST_F(CliE2eTest, UsageErrorsExitTwoWithTheUsage) {
  for (const char* words : {"groups get", "groups frob", "groups --bogus", "replay billing",
                            "replay billing --from=yesterday", "dead-letters list",
                            "dead-letters requeue billing", "dead-letters requeue billing --all 3",
                            "dead-letters requeue billing x", "groups --timeout=0s"}) {
    CommandResult result = Cli(words);
    EXPECT_EQ(result.exit_code, 2) << words << "\n" << result.output;
    EXPECT_THAT(result.output, HasSubstr("refir-bridge: ")) << words;
    EXPECT_THAT(result.output, HasSubstr("Usage: refir-bridge ")) << words;
  }
  CommandResult help = Cli("dead-letters --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--target", "--ca_file", "--cert_file", "--key_file", "--token_file",
                           "--timeout", "--all"}) {
    EXPECT_THAT(help.output, HasSubstr(flag));
  }
}

TEST_F(CliE2eTest, TailPrintsStoredEventsAsLinesOrJsonAndFiltersByType) {
  ASSERT_EQ(PostWebhook(bridge_->http_port(),
                        R"({"event":"referral_created","lead":{"email":"ana@example.com"}})")
                .status,
            200);
  CommandResult json = Cli("tail --from=earliest --count=2 --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  std::vector<std::string> lines = absl::StrSplit(json.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << json.output;
  EXPECT_THAT(lines[0], ::testing::StartsWith("{"));
  EXPECT_THAT(lines[0], HasSubstr(R"("sequence":"1")"));
  EXPECT_THAT(lines[1], HasSubstr(R"("sequence":"2")"));
  EXPECT_THAT(lines[1], HasSubstr(R"("type":"refir.user.added")"));

  CommandResult referral = Cli("tail --from=2 --type=refir.referral --count=1");
  ASSERT_EQ(referral.exit_code, 0) << referral.output;
  EXPECT_THAT(referral.output,
              ::testing::MatchesRegex("4 [0-9T:.-]+Z refir\\.referral\\.created id=[^ ]+ "
                                      "source=refir lead\\.email=ana@example\\.com\n"));
  // An ephemeral stream leaves no group behind.
  EXPECT_THAT(Cli("groups").output, HasSubstr("(no consumer groups)"));
  EXPECT_EQ(Cli("tail --count=0").exit_code, 2);
  EXPECT_EQ(Cli("tail --from=soon").exit_code, 2);
}

TEST(CliUnreachableE2eTest, AnUnreachableBridgeIsOneLineAndExitOneWithinTheTimeout) {
  const int port = UnusedPort();
  ASSERT_GT(port, 0);
  const absl::Time start = absl::Now();
  CommandResult result = RunCommand(
      absl::StrCat(BridgeProcess::BinaryPath(), " groups --timeout=3s --target=127.0.0.1:", port));
  EXPECT_LT(absl::Now() - start, absl::Seconds(6));
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output,
              ::testing::StartsWith(absl::StrCat("refir-bridge: cannot reach the bridge at "
                                                 "127.0.0.1:",
                                                 port, ": ")));
  EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;

  CommandResult missing_ca = RunCommand(
      absl::StrCat(BridgeProcess::BinaryPath(), " groups --ca_file=/nonexistent/ca.pem"));
  EXPECT_EQ(missing_ca.exit_code, 1);
  EXPECT_THAT(missing_ca.output, HasSubstr("--ca_file=/nonexistent/ca.pem"));
}

// `send` signs as each kind of source of a sources file; the bridge
// verifies and stores what it sent, byte-exact for --file.
TEST(CliSendE2eTest, SendSignsTheWayEachSourceVerifiesAndReportsRefusals) {
  const std::string dir = MakeTempDir();
  ASSERT_TRUE(WriteTestFile(dir + "/token", "t0p-s3cret\n"));
  ASSERT_TRUE(WriteTestFile(dir + "/hmac", "hmac-s3cret"));
  ASSERT_TRUE(WriteTestFile(dir + "/sw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"));
  const std::string sources = dir + "/sources.json";
  ASSERT_TRUE(WriteTestFile(sources, absl::StrCat(
                                         R"({"sources": [
    {"name": "token", "path": "/hooks/token",
     "verification": {"kind": "token", "token_header": "Authorization",
                      "secrets": [{"file": ")",
                                         dir, R"(/token"}]}},
    {"name": "hmac", "path": "/hooks/hmac",
     "verification": {"kind": "hmac", "signature_header": "X-Hub-Signature-256",
                      "encoding": "base64", "signature_prefix": "sha256=",
                      "secrets": [{"file": ")",
                                         dir, R"(/hmac"}]}},
    {"name": "sw", "path": "/hooks/sw",
     "verification": {"kind": "standard_webhooks", "secrets": [{"file": ")",
                                         dir, R"(/sw"}]}}]})")));
  BridgeProcess bridge(dir + "/data", {"--sources_file=" + sources});
  ASSERT_TRUE(bridge.Start().ok());
  const std::string base =
      absl::StrCat(BridgeProcess::BinaryPath(), " send --sources_file=", sources,
                   " --kind=user_added --count=2");
  for (const char* source : {"token", "hmac", "sw"}) {
    CommandResult sent =
        RunCommand(absl::StrCat(base, " --source=", source, " --url=http://",
                                "127.0.0.1:", bridge.http_port(), "/hooks/", source));
    EXPECT_EQ(sent.exit_code, 0) << source << "\n" << sent.output;
    EXPECT_THAT(sent.output, ::testing::ContainsRegex("1 POST http://[^ ]+ -> 200 "));
    EXPECT_THAT(sent.output, ::testing::ContainsRegex("\n2 POST http://[^ ]+ -> 200 "));
  }
  // Unsigned: refused, reported, exit 1.
  CommandResult unsigned_send =
      RunCommand(absl::StrCat(BridgeProcess::BinaryPath(),
                              " send --url=http://127.0.0.1:", bridge.http_port(), "/hooks/hmac"));
  EXPECT_EQ(unsigned_send.exit_code, 1) << unsigned_send.output;
  EXPECT_THAT(unsigned_send.output, HasSubstr("-> 401 "));
  EXPECT_THAT(unsigned_send.output, HasSubstr("1 of 1 webhooks were not answered 2xx"));
  // A file's bytes, as they are.
  const std::string body = R"({"event":"referral_created","lead":{"id":18446744073709551617}})";
  ASSERT_TRUE(WriteTestFile(dir + "/body.json", body));
  CommandResult file = RunCommand(
      absl::StrCat(base, " --count=1 --source=sw --file=", dir,
                   "/body.json --url=http://127.0.0.1:", bridge.http_port(), "/hooks/sw"));
  EXPECT_EQ(file.exit_code, 0) << file.output;

  std::unique_ptr<v1::EventStream::Stub> stub = MakeStub(bridge.grpc_target());
  std::vector<v1::Event> events = ListAllEvents(*stub);
  ASSERT_EQ(events.size(), 7u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(events[i].type(), "refir.user.added") << i;
    EXPECT_THAT(events[i].body(), HasSubstr(R"("event":"user_added","lead":{"id":)"));
  }
  EXPECT_EQ(events[6].body(), body);
  EXPECT_EQ(bridge.Stop().value_or(-1), 0);

  CommandResult unreachable = RunCommand(
      absl::StrCat(BridgeProcess::BinaryPath(),
                   " send --timeout=2s --url=http://127.0.0.1:", UnusedPort(), "/webhook"));
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_THAT(unreachable.output, HasSubstr("refir-bridge: cannot reach http://127.0.0.1:"));
  EXPECT_EQ(RunCommand(absl::StrCat(BridgeProcess::BinaryPath(), " send --kind=refund")).exit_code,
            2);
}

TEST(CliTokenE2eTest, TheTokenFileAuthenticatesTheCommands) {
  const std::string dir = MakeTempDir();
  ASSERT_TRUE(WriteTestFile(dir + "/tokens", "admin  admin-token-0123456789  *\n"));
  ASSERT_TRUE(WriteTestFile(dir + "/admin.token", "admin-token-0123456789\n"));
  ASSERT_TRUE(WriteTestFile(dir + "/wrong.token", "wrong-token-0123456789\n"));
  BridgeProcess bridge(dir + "/data", {"--grpc_tokens_file=" + dir + "/tokens"});
  ASSERT_TRUE(bridge.Start().ok());
  const std::string base =
      absl::StrCat(BridgeProcess::BinaryPath(), " groups --target=", bridge.grpc_target());

  CommandResult without = RunCommand(base);
  EXPECT_EQ(without.exit_code, 1) << without.output;
  EXPECT_THAT(without.output, Not(HasSubstr("cannot reach")));
  CommandResult wrong = RunCommand(absl::StrCat(base, " --token_file=", dir, "/wrong.token"));
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  CommandResult with = RunCommand(absl::StrCat(base, " --token_file=", dir, "/admin.token"));
  EXPECT_EQ(with.exit_code, 0) << with.output;
  EXPECT_THAT(with.output, HasSubstr("(no consumer groups)"));
  EXPECT_EQ(bridge.Stop().value_or(-1), 0);
}

}  // namespace
}  // namespace refir::bridge::testing
