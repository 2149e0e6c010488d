// Test helpers for the webhook verifiers: a request (headers, query, body,
// receiving time) that owns its storage and hands out a VerificationInput,
// and status matchers for the two outcomes.
#ifndef REFIR_BRIDGE_TESTS_VERIFY_VERIFY_TEST_UTIL_H_
#define REFIR_BRIDGE_TESTS_VERIFY_VERIFY_TEST_UTIL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bridge/common/error_reason.h"
#include "bridge/verify/webhook_verifier.h"
#include "gmock/gmock.h"

namespace refir::bridge::testing {

struct FakeRequest {
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> query;
  std::string body;
  absl::Time now = absl::FromUnixSeconds(1700000000);

  VerificationInput input() const {
    VerificationInput in;
    in.body = body;
    in.headers = &headers;
    in.query_parameters = &query;
    in.now = now;
    return in;
  }
};

// The status is UNAUTHENTICATED, has reason "unauthenticated" and a message
// containing `fragment`.
MATCHER_P(IsUnauthenticated, fragment, "") {
  if (arg.code() != absl::StatusCode::kUnauthenticated) {
    *result_listener << "code is " << absl::StatusCodeToString(arg.code()) << ": " << arg.message();
    return false;
  }
  if (ReasonOf(arg) != "unauthenticated") {
    *result_listener << "reason is \"" << ReasonOf(arg) << "\"";
    return false;
  }
  if (arg.message().find(fragment) == absl::string_view::npos) {
    *result_listener << "message is \"" << arg.message() << "\"";
    return false;
  }
  return true;
}

// The status is INVALID_ARGUMENT with a message containing `fragment`.
MATCHER_P(IsInvalidArgument, fragment, "") {
  if (arg.code() != absl::StatusCode::kInvalidArgument) {
    *result_listener << "code is " << absl::StatusCodeToString(arg.code()) << ": " << arg.message();
    return false;
  }
  if (arg.message().find(fragment) == absl::string_view::npos) {
    *result_listener << "message is \"" << arg.message() << "\"";
    return false;
  }
  return true;
}

// `config` builds; the test fails (and the result is null) otherwise.
inline std::unique_ptr<WebhookVerifier> MustMake(const VerifierConfig& config) {
  absl::StatusOr<std::unique_ptr<WebhookVerifier>> verifier = MakeWebhookVerifier(config);
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  return verifier.ok() ? *std::move(verifier) : nullptr;
}

}  // namespace refir::bridge::testing

#endif  // REFIR_BRIDGE_TESTS_VERIFY_VERIFY_TEST_UTIL_H_
