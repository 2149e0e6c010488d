// Fuzzes every webhook verifier with attacker-controlled headers, query
// parameters and body. Beyond "never crashes": the answer is OK or
// UNAUTHENTICATED, and a forged input is never accepted unless it carries
// the real token or MAC (which the fuzzer cannot guess).
//
// Input layout: byte 0 picks the verifier; the rest is split at '\n' into
// up to three header values and the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "bridge/verify/webhook_verifier.h"

namespace {

using refir::bridge::HmacAlgorithm;
using refir::bridge::SignatureEncoding;
using refir::bridge::VerificationKind;
using refir::bridge::VerifierConfig;
using refir::bridge::WebhookVerifier;

struct FuzzedVerifier {
  std::unique_ptr<WebhookVerifier> verifier;
  // Header names the three fuzzed values go to.
  std::vector<std::string> headers;
};

std::unique_ptr<WebhookVerifier> Make(const VerifierConfig& config) {
  auto verifier = refir::bridge::MakeWebhookVerifier(config);
  if (!verifier.ok()) std::abort();
  return *std::move(verifier);
}

const std::vector<FuzzedVerifier>& Verifiers() {
  static const std::vector<FuzzedVerifier>* verifiers = [] {
    auto* all = new std::vector<FuzzedVerifier>();  // Lives for the whole run.
    VerifierConfig token;
    token.kind = VerificationKind::kToken;
    token.secrets = {"token-secret-1", "token-secret-2"};
    token.token_header = "authorization";
    all->push_back({Make(token), {"authorization", "x-other", "x-third"}});

    VerifierConfig hex;
    hex.kind = VerificationKind::kHmac;
    hex.secrets = {"hmac-secret"};
    hex.signature_header = "x-hub-signature-256";
    hex.signature_prefix = "sha256=";
    all->push_back({Make(hex), {"x-hub-signature-256", "x-other", "x-third"}});

    VerifierConfig base64;
    base64.kind = VerificationKind::kHmac;
    base64.secrets = {"hmac-secret"};
    base64.signature_header = "x-signature";
    base64.algorithm = HmacAlgorithm::kSha512;
    base64.encoding = SignatureEncoding::kBase64;
    all->push_back({Make(base64), {"x-signature", "x-other", "x-third"}});

    VerifierConfig standard;
    standard.kind = VerificationKind::kStandardWebhooks;
    standard.secrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    all->push_back({Make(standard), {"webhook-id", "webhook-timestamp", "webhook-signature"}});
    return all;
  }();
  return *verifiers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::vector<FuzzedVerifier>& verifiers = Verifiers();
  const FuzzedVerifier& chosen = verifiers[data[0] % verifiers.size()];
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> parts = absl::StrSplit(rest, absl::MaxSplits('\n', 3));
  std::vector<std::pair<std::string, std::string>> headers;
  for (size_t i = 0; i + 1 < parts.size() && i < chosen.headers.size(); ++i) {
    headers.emplace_back(chosen.headers[i], parts[i]);
  }
  const std::vector<std::pair<std::string, std::string>> query = {{"token", parts.front()}};
  refir::bridge::VerificationInput input;
  input.body = parts.back();
  input.headers = &headers;
  input.query_parameters = &query;
  input.now = absl::FromUnixSeconds(1614265330);  // The spec's test vector time.
  const absl::Status verdict = chosen.verifier->Verify(input);
  if (!verdict.ok() && verdict.code() != absl::StatusCode::kUnauthenticated) std::abort();
  // The only tokens that pass are the configured ones.
  if (verdict.ok() && &chosen == &verifiers[0]) {
    const std::string& sent = headers.empty() ? std::string() : headers[0].second;
    if (sent.find("token-secret-") == std::string::npos) std::abort();
  }
  return 0;
}
