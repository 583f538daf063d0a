#include "auth/password.h"

#include <gtest/gtest.h>

namespace carechart::auth {
namespace {

TEST(Password, HashAndVerify) {
  auto h = HashPassword("correct horse battery staple");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_TRUE(h->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *h;
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *h));
  EXPECT_FALSE(VerifyPassword("correct horse battery stapl", *h));
  EXPECT_FALSE(VerifyPassword("", *h));
  auto h2 = HashPassword("correct horse battery staple");
  EXPECT_NE(*h, *h2);  // fresh salt each time
  EXPECT_FALSE(VerifyPassword("x", "plain-text-is-never-accepted"));
}

TEST(Password, OneTimePasswordsAreRandomAndStrong) {
  std::string a = NewOneTimePassword();
  std::string b = NewOneTimePassword();
  EXPECT_EQ(a.size(), 20u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(PasswordProblem(a).empty());
  EXPECT_FALSE(PasswordProblem("short").empty());
}

TEST(Totp, Rfc6238Vector) {
  // RFC 6238 appendix B: secret "12345678901234567890" (base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ),
  // T = 59 s → 94287082 (8 digits); the 6-digit code is the last six: 287082.
  const std::string secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
  EXPECT_EQ(TotpCode(secret, 59), "287082");
  EXPECT_TRUE(VerifyTotp(secret, "287082", 59));
  EXPECT_TRUE(VerifyTotp(secret, "287082", 59 + 30));  // one step of drift
  EXPECT_FALSE(VerifyTotp(secret, "287082", 59 + 120));
  EXPECT_FALSE(VerifyTotp(secret, "000000", 59));
  std::string fresh = NewTotpSecret();
  EXPECT_TRUE(VerifyTotp(fresh, TotpCode(fresh, 1000000), 1000000));
}

}  // namespace
}  // namespace carechart::auth
