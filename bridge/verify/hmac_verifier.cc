#include "bridge/verify/hmac_verifier.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/verify/crypto.h"
#include "bridge/verify/verifier_support.h"

namespace refir::bridge::verify_internal {
namespace {

class HmacVerifier : public WebhookVerifier {
 public:
  explicit HmacVerifier(const VerifierConfig& config)
      : secrets_(config.secrets),
        header_(config.signature_header),
        algorithm_(config.algorithm),
        encoding_(config.encoding),
        prefix_(config.signature_prefix) {}

  absl::Status Verify(const VerificationInput& input) const override {
    const std::string* value = FindHeader(input, header_);
    if (value == nullptr) return Unauthenticated(absl::StrCat("missing header ", header_));
    absl::string_view text = absl::StripAsciiWhitespace(*value);
    if (!prefix_.empty()) {
      if (!absl::StartsWithIgnoreCase(text, prefix_)) {
        return Unauthenticated(
            absl::StrCat("header ", header_, " does not start with \"", prefix_, "\""));
      }
      text.remove_prefix(prefix_.size());
    }
    const std::optional<std::string> signature =
        encoding_ == SignatureEncoding::kHex ? DecodeHex(text) : DecodeBase64(text);
    const size_t expected_size = HmacSize(algorithm_);
    if (!signature.has_value() || signature->size() != expected_size) {
      return Unauthenticated(absl::StrCat(
          "header ", header_, " is not a ", encoding_ == SignatureEncoding::kHex ? "hex" : "base64",
          " ", HmacName(algorithm_), " (", expected_size, " bytes)"));
    }
    bool matched = false;
    for (const std::string& secret : secrets_) {
      absl::StatusOr<std::string> mac = Hmac(algorithm_, secret, input.body);
      if (!mac.ok()) return mac.status();
      matched |= ConstantTimeEquals(*mac, *signature);
    }
    if (!matched) {
      return Unauthenticated(absl::StrCat("the ", HmacName(algorithm_), " in header ", header_,
                                          " matches the body under no configured secret"));
    }
    return absl::OkStatus();
  }

 private:
  const std::vector<std::string> secrets_;
  const std::string header_;
  const HmacAlgorithm algorithm_;
  const SignatureEncoding encoding_;
  const std::string prefix_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WebhookVerifier>> MakeHmacVerifier(const VerifierConfig& config) {
  if (config.signature_header.empty()) {
    return absl::InvalidArgumentError("HMAC verification needs a signature_header");
  }
  if (config.secrets.empty()) {
    return absl::InvalidArgumentError("HMAC verification needs at least one secret");
  }
  for (size_t i = 0; i < config.secrets.size(); ++i) {
    if (config.secrets[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("HMAC verification: secret #", i + 1, " is empty"));
    }
  }
  return std::make_unique<HmacVerifier>(config);
}

}  // namespace refir::bridge::verify_internal
