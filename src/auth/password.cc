#include "auth/password.h"

#include <argon2.h>
#include <liboath/oath.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <mutex>

namespace carechart::auth {

namespace {

constexpr uint32_t kTimeCost = 2;
constexpr uint32_t kMemoryKiB = 19 * 1024;
constexpr uint32_t kParallelism = 1;
constexpr size_t kSaltLen = 16;
constexpr size_t kHashLen = 32;

void Random(void* buf, size_t n) {
  if (RAND_bytes(static_cast<unsigned char*>(buf), static_cast<int>(n)) != 1) {
    std::abort();  // no randomness: nothing secure can be made
  }
}

void InitOath() {
  static std::once_flag once;
  std::call_once(once, [] { oath_init(); });
}

std::optional<std::string> DecodeBase32(std::string_view secret) {
  InitOath();
  char* out = nullptr;
  size_t len = 0;
  std::string in(secret);
  if (oath_base32_decode(in.data(), in.size(), &out, &len) != OATH_OK) {
    return std::nullopt;
  }
  std::string bytes(out, len);
  free(out);
  return bytes;
}

}  // namespace

StatusOr<std::string> HashPassword(std::string_view password) {
  unsigned char salt[kSaltLen];
  Random(salt, sizeof salt);
  size_t encoded_len =
      argon2_encodedlen(kTimeCost, kMemoryKiB, kParallelism, kSaltLen, kHashLen, Argon2_id);
  std::string encoded(encoded_len, '\0');
  int rc =
      argon2id_hash_encoded(kTimeCost, kMemoryKiB, kParallelism, password.data(), password.size(),
                            salt, sizeof salt, kHashLen, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return Status{StatusCode::kInternal, std::string("argon2id: ") + argon2_error_message(rc)};
  }
  encoded.resize(encoded.find('\0') == std::string::npos ? encoded.size() : encoded.find('\0'));
  return encoded;
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  if (!encoded.starts_with("$argon2id$")) {
    return false;
  }
  std::string enc(encoded);
  return argon2id_verify(enc.c_str(), password.data(), password.size()) == ARGON2_OK;
}

std::string NewOneTimePassword() {
  static constexpr std::string_view kAlphabet =
      "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  while (out.size() < 20) {
    unsigned char b;
    Random(&b, 1);
    if (b < 256 - 256 % kAlphabet.size()) {  // no modulo bias
      out += kAlphabet[b % kAlphabet.size()];
    }
  }
  return out;
}

std::string PasswordProblem(std::string_view password) {
  if (password.size() < 12) {
    return "a password needs at least 12 characters";
  }
  if (password.size() > 1024) {
    return "a password may have at most 1024 characters";
  }
  return {};
}

std::string NewTotpSecret() {
  InitOath();
  char raw[20];
  Random(raw, sizeof raw);
  char* b32 = nullptr;
  size_t len = 0;
  oath_base32_encode(raw, sizeof raw, &b32, &len);
  std::string out(b32, len);
  free(b32);
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  return out;
}

std::string TotpUri(std::string_view base32_secret, std::string_view account) {
  return "otpauth://totp/Carechart:" + std::string(account) +
         "?secret=" + std::string(base32_secret) +
         "&issuer=Carechart&algorithm=SHA1&digits=6&period=30";
}

bool VerifyTotp(std::string_view base32_secret, std::string_view code, int64_t unix_time) {
  auto secret = DecodeBase32(base32_secret);
  if (!secret || code.size() != 6) {
    return false;
  }
  std::string c(code);
  int rc = oath_totp_validate(secret->data(), secret->size(), static_cast<time_t>(unix_time),
                              OATH_TOTP_DEFAULT_TIME_STEP_SIZE, 0, 1, c.c_str());
  return rc >= 0;
}

std::string TotpCode(std::string_view base32_secret, int64_t unix_time) {
  auto secret = DecodeBase32(base32_secret);
  if (!secret) {
    return {};
  }
  char otp[7] = {};
  oath_totp_generate(secret->data(), secret->size(), static_cast<time_t>(unix_time),
                     OATH_TOTP_DEFAULT_TIME_STEP_SIZE, 0, 6, otp);
  return otp;
}

}  // namespace carechart::auth
