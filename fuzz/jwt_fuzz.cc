// libFuzzer target for the JWT verifier (src/auth/jwt.h): every bearer token and every client
// assertion comes from outside. The input is decoded as a compact JWS and, when that succeeds,
// its signature is checked against a server key (a forgery must never verify); the same bytes
// are also parsed as a JWKS document (clients register their keys as JWKS).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/jwt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carechart;
  static const auto generated = auth::Key::GenerateEs256();
  const auth::Key* key = generated->get();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto jwt = auth::DecodeJwt(in);
  if (jwt.ok()) {
    if (key->Supports(jwt->alg) &&
        auth::VerifySignature(jwt->alg, jwt->signing_input, jwt->signature, *key).ok()) {
      std::abort();  // a token we did not sign verified
    }
  }
  auto jwks = auth::ParseJwks(in);
  if (jwks.ok()) {
    for (const auto& k : jwks->keys) {
      (void)k->PublicJwk();
      if (jwt.ok() && k->Supports(jwt->alg)) {
        (void)auth::VerifySignature(jwt->alg, jwt->signing_input, jwt->signature, *k);
      }
    }
  }
  return 0;
}
