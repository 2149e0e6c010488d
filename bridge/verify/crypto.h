// Small wrappers over OpenSSL's libcrypto for the webhook verifiers: one-shot
// HMAC-SHA256/-SHA512, SHA-256, constant-time comparison, strict hex and
// base64 decoding. No state; safe to call from any thread.
#ifndef REFIR_BRIDGE_VERIFY_CRYPTO_H_
#define REFIR_BRIDGE_VERIFY_CRYPTO_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/verify/webhook_verifier.h"

namespace refir::bridge::verify_internal {

// Bytes in the MAC `algorithm` produces (32 or 64).
size_t HmacSize(HmacAlgorithm algorithm);

// "HMAC-SHA256" or "HMAC-SHA512", for messages.
absl::string_view HmacName(HmacAlgorithm algorithm);

// The raw (binary) HMAC of `data` under `key`. INTERNAL when libcrypto fails.
absl::StatusOr<std::string> Hmac(HmacAlgorithm algorithm, absl::string_view key,
                                 absl::string_view data);

// The raw SHA-256 digest of `data`. INTERNAL when libcrypto fails.
absl::StatusOr<std::string> Sha256(absl::string_view data);

// True when `a` and `b` are equal. Runs in time independent of their content
// (CRYPTO_memcmp); only their lengths, which must be public, may leak.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// `hex` (upper or lower case, even length, nothing else) as bytes; nullopt
// when it is anything else.
std::optional<std::string> DecodeHex(absl::string_view hex);

// Standard (RFC 4648 section 4) base64 with its padding as bytes; nullopt
// when `text` is empty or not exactly that.
std::optional<std::string> DecodeBase64(absl::string_view text);

}  // namespace refir::bridge::verify_internal

#endif  // REFIR_BRIDGE_VERIFY_CRYPTO_H_
