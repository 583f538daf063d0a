// Password hashing with Argon2id (libargon2, the reference implementation) and the random
// one-time passwords and TOTP second factor (liboath) of sign-in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace carechart::auth {

// An Argon2id encoded hash ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash") of `password` with a
// fresh random salt. Parameters follow the OWASP recommendation (19 MiB, 2 passes).
StatusOr<std::string> HashPassword(std::string_view password);
// True when `password` matches `encoded` (constant-time compare inside libargon2).
bool VerifyPassword(std::string_view password, std::string_view encoded);

// A random password of 20 characters from an unambiguous alphabet (≈ 115 bits).
std::string NewOneTimePassword();

// Passwords must have at least 12 characters; a message saying why not, or empty when fine.
std::string PasswordProblem(std::string_view password);

// A new TOTP secret (20 random bytes) in base32, for authenticator apps.
std::string NewTotpSecret();
// The otpauth:// URI an authenticator app reads (from a QR code or typed in).
std::string TotpUri(std::string_view base32_secret, std::string_view account);
// True when `code` is the 6-digit TOTP (RFC 6238, 30 s steps) of `base32_secret` at `unix_time`,
// allowing one step of clock drift either way.
bool VerifyTotp(std::string_view base32_secret, std::string_view code, int64_t unix_time);
// The current code (for tests and the CLI's confirmation step).
std::string TotpCode(std::string_view base32_secret, int64_t unix_time);

}  // namespace carechart::auth
