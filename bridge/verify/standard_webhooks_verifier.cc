#include "bridge/verify/standard_webhooks_verifier.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bridge/verify/crypto.h"
#include "bridge/verify/verifier_support.h"

namespace refir::bridge::verify_internal {
namespace {

constexpr absl::string_view kSecretPrefix = "whsec_";
constexpr absl::string_view kVersion = "v1";
// Unix seconds with more digits than this are far outside any tolerance
// (and would overflow int64 arithmetic).
constexpr size_t kMaxTimestampDigits = 15;

// The value of header `name` ("id", "timestamp", "signature") under its
// webhook- name, else its svix- name; null when both are absent.
const std::string* FindStandardHeader(const VerificationInput& input, absl::string_view name) {
  const std::string* value = FindHeader(input, absl::StrCat("webhook-", name));
  if (value == nullptr) value = FindHeader(input, absl::StrCat("svix-", name));
  return value;
}

std::optional<int64_t> ParseUnixSeconds(absl::string_view text) {
  if (text.empty() || text.size() > kMaxTimestampDigits) return std::nullopt;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(text, &seconds)) return std::nullopt;
  return seconds;
}

class StandardWebhooksVerifier : public WebhookVerifier {
 public:
  StandardWebhooksVerifier(std::vector<std::string> keys, absl::Duration tolerance)
      : keys_(std::move(keys)), tolerance_(tolerance) {}

  absl::Status Verify(const VerificationInput& input) const override {
    const std::string* id = FindStandardHeader(input, "id");
    const std::string* timestamp = FindStandardHeader(input, "timestamp");
    const std::string* signatures = FindStandardHeader(input, "signature");
    if (id == nullptr || id->empty()) return Unauthenticated("missing header webhook-id");
    if (timestamp == nullptr || timestamp->empty()) {
      return Unauthenticated("missing header webhook-timestamp");
    }
    if (signatures == nullptr || signatures->empty()) {
      return Unauthenticated("missing header webhook-signature");
    }
    if (absl::Status fresh = CheckTimestamp(*timestamp, input.now); !fresh.ok()) return fresh;

    const std::string signed_content = absl::StrCat(*id, ".", *timestamp, ".", input.body);
    std::vector<std::string> expected;
    expected.reserve(keys_.size());
    for (const std::string& key : keys_) {
      absl::StatusOr<std::string> mac = Hmac(HmacAlgorithm::kSha256, key, signed_content);
      if (!mac.ok()) return mac.status();
      expected.push_back(*std::move(mac));
    }

    int checked = 0;
    int other_version = 0;
    int malformed = 0;
    for (absl::string_view entry : absl::StrSplit(*signatures, ' ', absl::SkipEmpty())) {
      const std::pair<absl::string_view, absl::string_view> parts =
          absl::StrSplit(entry, absl::MaxSplits(',', 1));
      if (parts.first != kVersion) {
        ++other_version;
        continue;
      }
      const std::optional<std::string> signature = DecodeBase64(parts.second);
      if (!signature.has_value() || signature->size() != kSha256Size) {
        ++malformed;
        continue;
      }
      ++checked;
      bool matched = false;
      for (const std::string& mac : expected) matched |= ConstantTimeEquals(mac, *signature);
      if (matched) return absl::OkStatus();
    }
    return Unauthenticated(
        absl::StrCat("no webhook-signature entry matches under any configured secret (", checked,
                     " v1 signature(s) checked, ", malformed, " malformed, ", other_version,
                     " of another version)"));
  }

 private:
  static constexpr size_t kSha256Size = 32;

  absl::Status CheckTimestamp(absl::string_view text, absl::Time now) const {
    const std::optional<int64_t> seconds = ParseUnixSeconds(text);
    if (!seconds.has_value()) {
      return Unauthenticated("webhook-timestamp is not a unix time in seconds");
    }
    const absl::Duration age = now - absl::FromUnixSeconds(*seconds);
    if (age > tolerance_) {
      return Unauthenticated(absl::StrCat("webhook-timestamp is ", absl::FormatDuration(age),
                                          " old, beyond the tolerance of ",
                                          absl::FormatDuration(tolerance_)));
    }
    if (-age > tolerance_) {
      return Unauthenticated(absl::StrCat("webhook-timestamp is ", absl::FormatDuration(-age),
                                          " in the future, beyond the tolerance of ",
                                          absl::FormatDuration(tolerance_)));
    }
    return absl::OkStatus();
  }

  const std::vector<std::string> keys_;
  const absl::Duration tolerance_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WebhookVerifier>> MakeStandardWebhooksVerifier(
    const VerifierConfig& config) {
  if (config.secrets.empty()) {
    return absl::InvalidArgumentError("standard webhooks verification needs at least one secret");
  }
  if (config.tolerance < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("standard webhooks verification: tolerance ",
                                                   absl::FormatDuration(config.tolerance),
                                                   " is negative"));
  }
  std::vector<std::string> keys;
  for (size_t i = 0; i < config.secrets.size(); ++i) {
    absl::string_view text = absl::StripAsciiWhitespace(config.secrets[i]);
    absl::ConsumePrefix(&text, kSecretPrefix);
    std::optional<std::string> key = DecodeBase64(text);
    if (!key.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("standard webhooks verification: secret #",
                                                     i + 1, " is not whsec_<base64>"));
    }
    keys.push_back(*std::move(key));
  }
  return std::make_unique<StandardWebhooksVerifier>(std::move(keys), config.tolerance);
}

}  // namespace refir::bridge::verify_internal
