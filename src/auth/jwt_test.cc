#include "auth/jwt.h"

#include <gtest/gtest.h>

namespace carechart::auth {
namespace {

json::Value Claims() {
  auto c = json::Parse(R"({"iss":"https://ehr.example/auth","sub":"u1","exp":4102444800})");
  return *c;
}

TEST(Jwt, SignVerifyRoundTrip) {
  auto key = Key::GenerateEs256();
  ASSERT_TRUE(key.ok());
  auto token = SignJwt(Claims(), **key);
  ASSERT_TRUE(token.ok());
  auto d = DecodeJwt(*token);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->alg, "ES256");
  EXPECT_EQ(d->kid, (*key)->kid());
  EXPECT_EQ(d->claims.string_at("sub"), "u1");
  EXPECT_TRUE(VerifySignature(d->alg, d->signing_input, d->signature, **key).ok());
}

TEST(Jwt, TamperedPayloadFails) {
  auto key = Key::GenerateEs256();
  auto token = *SignJwt(Claims(), **key);
  size_t dot = token.find('.');
  token[dot + 5] = token[dot + 5] == 'A' ? 'B' : 'A';
  auto d = DecodeJwt(token);
  if (d.ok()) {
    EXPECT_FALSE(VerifySignature(d->alg, d->signing_input, d->signature, **key).ok());
  }
}

TEST(Jwt, OtherKeyFails) {
  auto key = Key::GenerateEs256();
  auto other = Key::GenerateEs256();
  auto d = *DecodeJwt(*SignJwt(Claims(), **key));
  EXPECT_FALSE(VerifySignature(d.alg, d.signing_input, d.signature, **other).ok());
}

TEST(Jwt, RefusesNoneAndHmacAndJunk) {
  EXPECT_FALSE(DecodeJwt("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.").ok());  // alg none
  auto hs = DecodeJwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
  EXPECT_FALSE(hs.ok());
  EXPECT_NE(hs.status().message().find("HS256"), std::string::npos);
  EXPECT_FALSE(DecodeJwt("a.b").ok());
  EXPECT_FALSE(DecodeJwt("a.b.c.d").ok());
  EXPECT_FALSE(DecodeJwt("!!.??.**").ok());
}

TEST(Jwt, PemAndJwkRoundTrip) {
  auto key = std::move(Key::GenerateEs256()).value();
  auto again = Key::FromPrivatePem(key->PrivatePem());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->kid(), key->kid());
  auto pub = Key::FromJwk(key->PublicJwk());
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  auto d = *DecodeJwt(*SignJwt(Claims(), *key));
  EXPECT_TRUE(VerifySignature(d.alg, d.signing_input, d.signature, **pub).ok());
  std::string jwks = R"({"keys":[)" + json::Write(key->PublicJwk()) + R"(,{"kty":"oct","k":"x"}]})";
  auto set = ParseJwks(jwks);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->keys.size(), 1u);
  EXPECT_EQ(set->skipped.size(), 1u);
}

}  // namespace
}  // namespace carechart::auth
