// Interop: webhooks signed by the npm packages `standardwebhooks` and `svix`
// (tests/verify/interop/sign_samples.js, run by run.sh, which installs the
// versions pinned in package-lock.json with `npm ci`) get the verdict the
// reference implementation gives them from the bridge's verifier.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/verify/webhook_verifier.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/example_process.h"
#include "tests/verify/verify_test_util.h"

namespace refir::bridge::testing {
namespace {

// Every sample sign_samples.js must print; a script that prints fewer (or
// none) fails the test instead of passing it vacuously.
const std::set<std::string>& RequiredSamples() {
  static const auto* const kNames = new std::set<std::string>{
      "valid",
      "valid_svix",
      "valid_svix_headers",
      "valid_unicode_body",
      "valid_empty_body",
      "valid_bare_base64_secret",
      "tampered_body",
      "tampered_body_svix",
      "wrong_secret",
      "stale_timestamp",
      "old_within_tolerance",
      "future_timestamp",
      "future_within_tolerance",
      "multiple_signatures_one_matches",
      "multiple_secrets_second_matches",
      "multiple_secrets_svix",
      "multiple_secrets_none_match",
  };
  return *kNames;
}

// What the bridge's message must say for a rejected sample.
std::string RejectionFragment(const std::string& name) {
  if (name == "stale_timestamp") return "old, beyond the tolerance";
  if (name == "future_timestamp") return "in the future, beyond the tolerance";
  return "no webhook-signature entry matches";
}

std::vector<std::string> RunSigner() {
  ExampleProcess signer({"bash", REFIR_INTEROP_RUN_SH},
                        {{"REFIR_INTEROP_BUILD_DIR", REFIR_INTEROP_BUILD_DIR}});
  const absl::Status started = signer.Start();
  EXPECT_TRUE(started.ok()) << started;
  if (!started.ok()) return {};
  std::vector<std::string> lines;
  // npm ci on a fresh machine downloads a few small packages.
  const absl::StatusOr<int> exit_code = signer.WaitForExit(absl::Now() + absl::Minutes(4), &lines);
  EXPECT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(exit_code.value_or(-1), 0) << "run.sh failed; its stderr is above";
  return lines;
}

TEST(StandardWebhooksInteropTest, NpmSignedSamplesGetTheReferenceVerdict) {
  const std::vector<std::string> lines = RunSigner();
  std::set<std::string> seen;
  for (const std::string& line : lines) {
    const nlohmann::json sample = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(sample.is_object()) << "not a JSON object: " << line;
    const std::string name = sample.at("name").get<std::string>();
    SCOPED_TRACE(
        absl::StrCat("sample ", name, " signed by ", sample.at("signer").get<std::string>()));
    seen.insert(name);

    // The expectation written in the script agrees with the reference
    // implementation's own verify().
    EXPECT_EQ(sample.at("expect"), sample.at("reference"));

    VerifierConfig config;
    config.kind = VerificationKind::kStandardWebhooks;
    config.secrets = sample.at("secrets").get<std::vector<std::string>>();
    absl::StatusOr<std::unique_ptr<WebhookVerifier>> verifier = MakeWebhookVerifier(config);
    ASSERT_TRUE(verifier.ok()) << verifier.status();

    const std::string prefix = sample.at("header_prefix").get<std::string>();
    FakeRequest request;
    request.body = sample.at("body").get<std::string>();
    request.now = absl::FromUnixSeconds(sample.at("now").get<int64_t>());
    request.headers = {{"Content-Type", "application/json"},
                       {prefix + "-id", sample.at("id").get<std::string>()},
                       {prefix + "-timestamp", sample.at("timestamp").get<std::string>()},
                       {prefix + "-signature", sample.at("signature").get<std::string>()}};
    const absl::Status verdict = (*verifier)->Verify(request.input());
    if (sample.at("expect") == "accept") {
      EXPECT_TRUE(verdict.ok()) << verdict;
    } else {
      EXPECT_THAT(verdict, IsUnauthenticated(RejectionFragment(name)));
    }
  }
  for (const std::string& name : RequiredSamples()) {
    EXPECT_TRUE(seen.count(name) == 1) << "sign_samples.js printed no sample " << name;
  }
}

}  // namespace
}  // namespace refir::bridge::testing
