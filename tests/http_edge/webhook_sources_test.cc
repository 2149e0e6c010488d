// Unit tests of the per-source pipeline of the webhook handler: routing,
// the order of the checks, allowlists, rate limits, body and depth limits,
// verification (with a fake verifier) and the two mappings.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bridge/common/error_reason.h"
#include "bridge/http_edge/webhook_handler.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/common/fake_journal.h"

namespace refir::bridge {
namespace {

using testing::FakeJournal;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

// What the fake verifier saw, shared with the test.
struct VerifierLog {
  int calls = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> query;
  absl::Time now;
  absl::Status result;
};

class FakeVerifier : public WebhookVerifier {
 public:
  explicit FakeVerifier(VerifierLog* log) : log_(log) {}
  absl::Status Verify(const VerificationInput& input) const override {
    ++log_->calls;
    log_->body = std::string(input.body);
    log_->headers = *input.headers;
    log_->query = *input.query_parameters;
    log_->now = input.now;
    return log_->result;
  }

 private:
  VerifierLog* log_;
};

std::string HeaderOf(const HttpReply& reply, const std::string& name) {
  for (const auto& [key, value] : reply.headers) {
    if (key == name) return value;
  }
  return "";
}

std::string ErrorOf(const HttpReply& reply) {
  const nlohmann::json body = nlohmann::json::parse(reply.body);
  auto it = body.find("error");
  if (it == body.end() || !it->is_string()) return "";
  return it->get_ref<const std::string&>();
}

class WebhookSourcesTest : public ::testing::Test {
 protected:
  static SourceConfig Refir() { return SourceConfig(); }

  static SourceConfig Generic() {
    SourceConfig config;
    config.name = "shop";
    config.path = "/hooks/shop";
    config.mapping = MappingKind::kGeneric;
    config.type_field = "topic";
    return config;
  }

  void Make(std::vector<SourceConfig> sources) {
    absl::StatusOr<std::unique_ptr<WebhookHandler>> handler = WebhookHandler::Create(
        sources, &journal_,
        [this](const VerifierConfig&) -> absl::StatusOr<std::unique_ptr<WebhookVerifier>> {
          return std::make_unique<FakeVerifier>(&verifier_);
        });
    ASSERT_TRUE(handler.ok()) << handler.status();
    handler_ = *std::move(handler);
  }

  static WebhookRequest Post(const std::string& path, std::string body,
                             const std::string& client_ip = "127.0.0.1") {
    WebhookRequest request;
    request.method = "POST";
    request.path = path;
    request.client_ip = client_ip;
    request.remote_addr = client_ip + ":4000";
    request.content_type = "application/json";
    request.headers = {{"Content-Type", "application/json"}};
    request.content_length = body.size();
    request.body = std::move(body);
    request.received_at = kNow;
    return request;
  }

  FakeJournal journal_;
  VerifierLog verifier_;
  std::unique_ptr<WebhookHandler> handler_;
};

TEST_F(WebhookSourcesTest, RoutesByPathAndStampsTheSourceName) {
  Make({Refir(), Generic()});
  ASSERT_EQ(handler_->Handle(Post("/webhook", R"({"event":"user_added","lead":{"id":1}})")).status,
            200);
  ASSERT_EQ(
      handler_->Handle(Post("/hooks/shop", R"({"topic":"order.paid","lead":{"id":1}})")).status,
      200);
  ASSERT_EQ(journal_.appended.size(), 2u);
  EXPECT_EQ(journal_.appended[0].source(), "refir");
  EXPECT_EQ(journal_.appended[0].type(), "refir.user.added");
  EXPECT_EQ(journal_.appended[0].refir().lead().id(), "1");
  EXPECT_EQ(journal_.appended[1].source(), "shop");
  EXPECT_EQ(journal_.appended[1].type(), "order.paid");
  EXPECT_FALSE(journal_.appended[1].has_refir());
  EXPECT_EQ(handler_->PathsForTesting(), (std::vector<std::string>{"/webhook", "/hooks/shop"}));
}

SourceConfig Keeping(SourceConfig config) {
  config.invalid_body = InvalidBody::kKeep;
  return config;
}

// invalid_body keep: each kind of body that is not a JSON object is stored
// byte-exact as "<source>.unparsed" and answered 200.
TEST_F(WebhookSourcesTest, KeepStoresWhatIsNotAJsonObjectUnparsed) {
  SourceConfig config = Keeping(Refir());
  config.name = "raw";
  config.limits.max_json_depth = 2;
  Make({config});
  WebhookRequest text_plain = Post("/webhook", "plain text");
  text_plain.content_type = "text/plain";
  WebhookRequest no_type = Post("/webhook", R"({"event":"user_added"})");
  no_type.content_type = "";
  const std::vector<WebhookRequest> requests = {Post("/webhook", "not json {"),
                                                Post("/webhook", "[1,2]"),
                                                Post("/webhook", R"("s")"),
                                                Post("/webhook", ""),
                                                Post("/webhook", "[[[1]]]"),
                                                text_plain,
                                                no_type,
                                                Post("/webhook", "{\"a\":\"\xff\"}")};
  for (const WebhookRequest& request : requests) {
    WebhookRequest copy = request;
    HttpReply reply = handler_->Handle(copy);
    EXPECT_EQ(reply.status, 200) << request.body << ": " << reply.body;
    EXPECT_TRUE(reply.unparsed) << request.body;
    EXPECT_EQ(nlohmann::json::parse(reply.body).value("unparsed", false), true);
  }
  ASSERT_EQ(journal_.appended.size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const v1::Event& event = journal_.appended[i];
    EXPECT_EQ(event.type(), "raw.unparsed");
    EXPECT_EQ(event.source(), "raw");
    EXPECT_EQ(event.body(), requests[i].body);
    EXPECT_EQ(event.content_type(), requests[i].content_type);
    EXPECT_FALSE(event.has_refir());
    EXPECT_EQ(journal_.keys[i].key, "") << "no webhook-id: no dedup";
  }
  // A JSON object is converted as ever.
  HttpReply good = handler_->Handle(Post("/webhook", R"({"event":"user_added"})"));
  EXPECT_EQ(good.status, 200);
  EXPECT_FALSE(good.unparsed);
  EXPECT_EQ(journal_.appended.back().type(), "refir.user.added");
}

TEST_F(WebhookSourcesTest, KeepStillRefusesBadHeadersSizeAndVerification) {
  SourceConfig config = Keeping(Refir());
  config.limits.max_body_bytes = 16;
  Make({config});
  WebhookRequest bad_id = Post("/webhook", "not json");
  bad_id.headers.emplace_back("webhook-id", "has space");
  EXPECT_EQ(ErrorOf(handler_->Handle(bad_id)), "invalid_header");
  EXPECT_EQ(handler_->Handle(Post("/webhook", std::string(17, 'x'))).status, 413);
  verifier_.result = absl::UnauthenticatedError("no");
  EXPECT_EQ(handler_->Handle(Post("/webhook", "not json")).status, 401);
  EXPECT_TRUE(journal_.appended.empty());
}

// Unparsed bodies dedup by webhook-id / svix-id where the source would read a
// JSON field; by the body's hash where it hashes the body.
TEST_F(WebhookSourcesTest, KeptBodiesDedupByWebhookIdOrBodyHash) {
  SourceConfig by_field = Keeping(Refir());
  by_field.dedup.by = DedupBy::kJsonField;
  by_field.dedup.json_field = "/id";
  SourceConfig by_hash = Keeping(Generic());
  by_hash.dedup.by = DedupBy::kBodySha256;
  Make({by_field, by_hash});
  WebhookRequest with_id = Post("/webhook", "not json");
  with_id.headers.emplace_back("webhook-id", "wh-9");
  ASSERT_EQ(handler_->Handle(with_id).status, 200);
  ASSERT_EQ(handler_->Handle(Post("/webhook", "not json")).status, 200);
  ASSERT_EQ(handler_->Handle(Post("/hooks/shop", "not json")).status, 200);
  ASSERT_EQ(journal_.keys.size(), 3u);
  EXPECT_EQ(journal_.keys[0].key, "refir|webhook_id|wh-9");
  EXPECT_EQ(journal_.keys[1].key, "");
  EXPECT_EQ(journal_.keys[2].key.rfind("shop|body_sha256|", 0), 0u) << journal_.keys[2].key;
}

TEST_F(WebhookSourcesTest, RejectIsTheDefault) {
  Make({Refir()});
  WebhookRequest text_plain = Post("/webhook", "x");
  text_plain.content_type = "text/plain";
  EXPECT_EQ(handler_->Handle(text_plain).status, 415);
  EXPECT_EQ(ErrorOf(handler_->Handle(Post("/webhook", "[1]"))), "invalid_json");
  EXPECT_TRUE(journal_.appended.empty());
}

TEST_F(WebhookSourcesTest, UnknownPathIs404AndOtherMethodsAre405) {
  Make({Refir()});
  HttpReply missing = handler_->Handle(Post("/nope", "{}"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorOf(missing), "not_found");
  WebhookRequest get = Post("/webhook", "");
  get.method = "GET";
  HttpReply wrong_method = handler_->Handle(get);
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(HeaderOf(wrong_method, "Allow"), "POST");
  EXPECT_TRUE(journal_.appended.empty());
}

// One source with every check armed; each step fixes the request's earlier
// failures and shows the next check answers.
TEST_F(WebhookSourcesTest, ChecksRunInOrder) {
  SourceConfig config = Refir();
  config.allow_cidrs = {"10.0.0.0/8"};
  config.limits.rate = RateLimitConfig{1, 3};
  config.limits.max_body_bytes = 64;
  config.limits.max_json_depth = 2;
  Make({config});
  verifier_.result = ErrorWithReason(absl::StatusCode::kUnauthenticated, "unauthenticated",
                                     "no matching signature");
  const std::string deep = "[[[1]]]";

  // 1. method: a GET from a refused address with a bad body is a 405.
  WebhookRequest request = Post("/webhook", std::string(100, '{'), "127.0.0.1");
  request.method = "PUT";
  request.content_type = "text/plain";
  EXPECT_EQ(handler_->Handle(request).status, 405);

  // 2. allowlist before rate limits, size, content type: 403 without detail.
  request.method = "POST";
  HttpReply forbidden = handler_->Handle(request);
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(forbidden.body, R"({"error":"forbidden"})");

  // 3. size before content type; refusals before verification spend no
  // token of the source's rate.
  request.client_ip = "10.1.2.3";
  EXPECT_EQ(handler_->Handle(request).status, 413);

  // 4. content type before verification.
  request.body = deep;
  request.content_length = deep.size();
  HttpReply unsupported = handler_->Handle(request);
  EXPECT_EQ(unsupported.status, 415);
  EXPECT_EQ(verifier_.calls, 0);

  // 5. verification before the JSON depth: 401, no detail; the source's
  // token is given back.
  request.content_type = "application/json";
  HttpReply unauthenticated = handler_->Handle(request);
  EXPECT_EQ(unauthenticated.status, 401);
  EXPECT_EQ(unauthenticated.body, R"({"error":"unauthenticated"})");
  EXPECT_EQ(verifier_.calls, 1);

  // 6. verified, then too deep; these spend the source's tokens (3 of 3).
  verifier_.result = absl::OkStatus();
  for (int i = 0; i < 3; ++i) {
    HttpReply too_deep = handler_->Handle(request);
    EXPECT_EQ(too_deep.status, 400);
    EXPECT_EQ(ErrorOf(too_deep), "json_too_deep");
  }
  EXPECT_EQ(verifier_.calls, 4);

  // 7. the rate limit comes before verification: the bucket is empty now.
  HttpReply limited = handler_->Handle(request);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(ErrorOf(limited), "rate_limited");
  EXPECT_EQ(HeaderOf(limited, "Retry-After"), "1");
  EXPECT_EQ(verifier_.calls, 4);

  // 8. one second later: parsing.
  request.received_at = kNow + absl::Seconds(1);
  request.body = "[[1]";
  HttpReply invalid = handler_->Handle(request);
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(ErrorOf(invalid), "invalid_json");

  // 9. and finally stored.
  request.received_at = kNow + absl::Seconds(2);
  request.body = R"({"a":[1]})";
  EXPECT_EQ(handler_->Handle(request).status, 200);
  EXPECT_EQ(journal_.appended.size(), 1u);
}

TEST_F(WebhookSourcesTest, VerifierSeesBodyHeadersQueryAndArrivalTime) {
  Make({Refir()});
  WebhookRequest request = Post("/webhook", R"({"x":1})");
  request.headers.emplace_back("X-Signature", "abc");
  request.query_parameters = {{"token", "t0k"}};
  ASSERT_EQ(handler_->Handle(request).status, 200);
  EXPECT_EQ(verifier_.calls, 1);
  EXPECT_EQ(verifier_.body, R"({"x":1})");
  EXPECT_EQ(verifier_.headers, request.headers);
  EXPECT_EQ(verifier_.query, request.query_parameters);
  EXPECT_EQ(verifier_.now, kNow);
}

TEST_F(WebhookSourcesTest, SourcesHaveTheirOwnLimits) {
  SourceConfig small = Generic();
  small.limits.max_body_bytes = 8;
  small.limits.rate = RateLimitConfig{1, 1};
  Make({Refir(), small});
  EXPECT_EQ(handler_->BodyLimit("/hooks/shop"), 8u);
  EXPECT_EQ(handler_->BodyLimit("/webhook"), 1024u * 1024u);
  EXPECT_EQ(handler_->BodyLimit("/none"), 0u);
  EXPECT_EQ(handler_->MaxBodyLimit(), 1024u * 1024u);

  const std::string body = R"({"topic":"long"})";
  EXPECT_EQ(handler_->Handle(Post("/hooks/shop", body)).status, 413);
  EXPECT_EQ(handler_->Handle(Post("/webhook", body)).status, 200);
  // The 413 spent no token of the shop's one; this does.
  EXPECT_EQ(handler_->Handle(Post("/hooks/shop", "{}")).status, 200);
  // The shop bucket is empty; the refir source has no limit.
  EXPECT_EQ(handler_->Handle(Post("/hooks/shop", "{}")).status, 429);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(handler_->Handle(Post("/webhook", "{}")).status, 200);
}

TEST_F(WebhookSourcesTest, BodyLargerThanTheLimitWithoutContentLengthIs413) {
  SourceConfig config = Refir();
  config.limits.max_body_bytes = 4;
  Make({config});
  WebhookRequest request = Post("/webhook", R"({"a":1})");
  request.content_length.reset();  // chunked
  EXPECT_FALSE(handler_->Admit(&request).has_value());
  HttpReply reply = handler_->Process(&request);
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(ErrorOf(reply), "payload_too_large");
  EXPECT_EQ(verifier_.calls, 0);
}

TEST_F(WebhookSourcesTest, PerClientRateLimitsEachAddressSeparately) {
  SourceConfig config = Refir();
  config.limits.per_client_rate = RateLimitConfig{0.5, 2};
  Make({config});
  EXPECT_EQ(handler_->Handle(Post("/webhook", "{}", "192.0.2.1")).status, 200);
  EXPECT_EQ(handler_->Handle(Post("/webhook", "{}", "192.0.2.1")).status, 200);
  HttpReply limited = handler_->Handle(Post("/webhook", "{}", "192.0.2.1"));
  EXPECT_EQ(limited.status, 429);
  // 0.5 tokens per second: the next one is 2 s away.
  EXPECT_EQ(HeaderOf(limited, "Retry-After"), "2");
  EXPECT_EQ(handler_->Handle(Post("/webhook", "{}", "192.0.2.2")).status, 200);
}

// Forged requests (failing verification) must not spend the source's
// budget: five of them, then the real sender still gets its burst.
TEST_F(WebhookSourcesTest, FailedVerificationsDoNotSpendTheSourceRate) {
  SourceConfig config = Refir();
  config.limits.rate = RateLimitConfig{1, 2};
  Make({config});
  verifier_.result = absl::UnauthenticatedError("bad signature");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(handler_->Handle(Post("/webhook", "{}", "198.51.100.66")).status, 401);
  }
  verifier_.result = absl::OkStatus();
  EXPECT_EQ(handler_->Handle(Post("/webhook", "{}", "192.0.2.1")).status, 200);
  EXPECT_EQ(handler_->Handle(Post("/webhook", "{}", "192.0.2.1")).status, 200);
  // The bucket is real: the third in the same instant is over the rate.
  EXPECT_EQ(handler_->Handle(Post("/webhook", "{}", "192.0.2.1")).status, 429);
}

TEST_F(WebhookSourcesTest, RepeatedFailedVerificationIs429BeforeTheBody) {
  SourceConfig config = Refir();
  config.limits.failed_verification_rate = RateLimitConfig{0.5, 3};
  Make({config});
  verifier_.result = absl::UnauthenticatedError("bad signature");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(handler_->Handle(Post("/webhook", "{}", "198.51.100.66")).status, 401);
  }
  EXPECT_EQ(verifier_.calls, 3);
  // Refused by Admit, before the body: the verifier is not asked again.
  WebhookRequest request = Post("/webhook", "{}", "198.51.100.66");
  std::optional<HttpReply> refused = handler_->Admit(&request);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(ErrorOf(*refused), "rate_limited");
  EXPECT_EQ(HeaderOf(*refused, "Retry-After"), "2");
  EXPECT_EQ(verifier_.calls, 3);
  // Other clients are not affected, and successes cost nothing.
  verifier_.result = absl::OkStatus();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(handler_->Handle(Post("/webhook", "{}", "192.0.2.1")).status, 200);
  }
  // Two seconds later the failing client has one attempt again.
  WebhookRequest later = Post("/webhook", "{}", "198.51.100.66");
  later.received_at = kNow + absl::Seconds(2);
  EXPECT_EQ(handler_->Handle(later).status, 200);
}

TEST_F(WebhookSourcesTest, BodiesNeverVerifiedGiveTheSourceTokenBack) {
  SourceConfig config = Refir();
  config.limits.rate = RateLimitConfig{1, 1};
  config.limits.max_body_bytes = 4;
  Make({config});
  // Cut off or too large while being read: the edge calls Abandon.
  WebhookRequest cut = Post("/webhook", "{}");
  ASSERT_FALSE(handler_->Admit(&cut).has_value());
  handler_->Abandon(cut);
  // Too large without a Content-Length: refused by Process.
  WebhookRequest chunked = Post("/webhook", R"({"a":1})");
  chunked.content_length.reset();
  ASSERT_FALSE(handler_->Admit(&chunked).has_value());
  EXPECT_EQ(handler_->Process(&chunked).status, 413);
  // The one token is still there.
  EXPECT_EQ(handler_->Handle(Post("/webhook", "{}")).status, 200);
  EXPECT_EQ(handler_->Handle(Post("/webhook", "{}")).status, 429);
}

TEST_F(WebhookSourcesTest, DefaultDepthLimitIs64) {
  Make({Refir()});
  std::string ok = R"({"a":)" + std::string(63, '[') + std::string(63, ']') + "}";
  std::string deep = R"({"a":)" + std::string(64, '[') + std::string(64, ']') + "}";
  EXPECT_EQ(handler_->Handle(Post("/webhook", ok)).status, 200);
  HttpReply reply = handler_->Handle(Post("/webhook", deep));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(ErrorOf(reply), "json_too_deep");
}

TEST_F(WebhookSourcesTest, CreateNamesTheSourceWhoseVerifierFails) {
  SourceConfig config = Generic();
  config.verification.kind = VerificationKind::kToken;
  absl::StatusOr<std::unique_ptr<WebhookHandler>> handler = WebhookHandler::Create(
      {Refir(), config}, &journal_,
      [](const VerifierConfig& verifier) -> absl::StatusOr<std::unique_ptr<WebhookVerifier>> {
        if (verifier.kind == VerificationKind::kToken) {
          return absl::InvalidArgumentError("no token_header");
        }
        return MakeWebhookVerifier(verifier);
      });
  ASSERT_FALSE(handler.ok());
  EXPECT_EQ(handler.status().message(), "source \"shop\": verification: no token_header");
  EXPECT_FALSE(WebhookHandler::Create({}, &journal_).ok());
}

TEST_F(WebhookSourcesTest, DrainingComesFirst) {
  Make({Refir()});
  handler_->StartDraining();
  EXPECT_EQ(handler_->Handle(Post("/nope", "{}")).status, 503);
}

}  // namespace
}  // namespace refir::bridge
