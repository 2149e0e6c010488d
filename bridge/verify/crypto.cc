#include "bridge/verify/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace refir::bridge::verify_internal {
namespace {

const EVP_MD* DigestOf(HmacAlgorithm algorithm) {
  return algorithm == HmacAlgorithm::kSha512 ? EVP_sha512() : EVP_sha256();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsBase64Character(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

}  // namespace

size_t HmacSize(HmacAlgorithm algorithm) {
  return algorithm == HmacAlgorithm::kSha512 ? SHA512_DIGEST_LENGTH : SHA256_DIGEST_LENGTH;
}

absl::string_view HmacName(HmacAlgorithm algorithm) {
  return algorithm == HmacAlgorithm::kSha512 ? "HMAC-SHA512" : "HMAC-SHA256";
}

absl::StatusOr<std::string> Hmac(HmacAlgorithm algorithm, absl::string_view key,
                                 absl::string_view data) {
  std::string mac(EVP_MAX_MD_SIZE, '\0');
  unsigned int length = 0;
  // HMAC() wants a non-null key pointer even for an empty key.
  static constexpr unsigned char kEmpty[1] = {0};
  const void* key_bytes = key.empty() ? kEmpty : static_cast<const void*>(key.data());
  const auto* data_bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (HMAC(DigestOf(algorithm), key_bytes, static_cast<int>(key.size()),
           data.empty() ? kEmpty : data_bytes, data.size(),
           reinterpret_cast<unsigned char*>(mac.data()), &length) == nullptr) {
    return absl::InternalError(absl::StrCat("libcrypto failed to compute ", HmacName(algorithm)));
  }
  mac.resize(length);
  return mac;
}

absl::StatusOr<std::string> Sha256(absl::string_view data) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(digest.data()), &length,
                 EVP_sha256(), nullptr) != 1 ||
      length != SHA256_DIGEST_LENGTH) {
    return absl::InternalError("libcrypto failed to compute SHA-256");
  }
  return digest;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> DecodeHex(absl::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = HexValue(hex[i]);
    const int low = HexValue(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}

std::optional<std::string> DecodeBase64(absl::string_view text) {
  // absl::Base64Unescape is lenient (it skips whitespace, accepts missing
  // padding): check the exact alphabet and padding first.
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  while (padding < 2 && text[text.size() - 1 - padding] == '=') ++padding;
  for (size_t i = 0; i < text.size() - padding; ++i) {
    if (!IsBase64Character(text[i])) return std::nullopt;
  }
  std::string bytes;
  if (!absl::Base64Unescape(text, &bytes)) return std::nullopt;
  // Reject non-canonical encodings (stray bits in the last character), so
  // that one byte string has exactly one accepted text.
  if (absl::Base64Escape(bytes) != text) return std::nullopt;
  return bytes;
}

}  // namespace refir::bridge::verify_internal
