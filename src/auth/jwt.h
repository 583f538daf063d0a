// JSON Web Tokens (RFC 7519) signed with JWS compact serialisation (RFC 7515), and JSON Web Keys
// (RFC 7517). OpenSSL does every signature and key operation; this file only arranges bytes.
// Algorithms: ES256/ES384 (ECDSA P-256/P-384) and RS256/RS384 (RSASSA-PKCS1-v1_5). "none" and
// every HMAC algorithm are refused: a token is accepted only when an asymmetric key we trust
// verifies it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/json.h"

namespace carechart::auth {

// A public or private key (an OpenSSL EVP_PKEY behind the scenes) with its key id.
class Key {
 public:
  ~Key();
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;

  // A new EC P-256 private key (the server's signing key), kid = its RFC 7638 thumbprint.
  static StatusOr<std::unique_ptr<Key>> GenerateEs256();
  // A private key from PEM (PKCS#8) as stored in the database.
  static StatusOr<std::unique_ptr<Key>> FromPrivatePem(std::string_view pem);
  // A public key from one JWK object (kty EC with crv P-256/P-384, or kty RSA).
  static StatusOr<std::unique_ptr<Key>> FromJwk(const json::Value& jwk);

  const std::string& kid() const { return kid_; }
  void set_kid(std::string kid) { kid_ = std::move(kid); }
  // "ES256", "ES384", "RS256" or "RS384" for EC keys (by curve); RSA keys accept both RS*.
  bool Supports(std::string_view alg) const;
  std::string PrivatePem() const;
  // The public JWK (kty, crv/x/y or n/e, kid, alg, use=sig).
  json::Value PublicJwk() const;

  struct Impl;  // the OpenSSL key; defined in jwt.cc
  explicit Key(std::unique_ptr<Impl> impl);
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
  std::string kid_;
};

// The keys of a JWKS document ({"keys":[...]}); entries that cannot be used are skipped and
// reported in `skipped`.
struct KeySet {
  std::vector<std::unique_ptr<Key>> keys;
  std::vector<std::string> skipped;
};
StatusOr<KeySet> ParseJwks(std::string_view jwks_json);

// Signs `claims` with `key` (alg ES256 for the server key); header carries alg, typ JWT and kid.
StatusOr<std::string> SignJwt(const json::Value& claims, const Key& key);

// A token split and decoded, signature not yet checked.
struct DecodedJwt {
  json::Value header;
  json::Value claims;
  std::string alg;
  std::string kid;
  std::string signing_input;  // "header.payload" as sent
  std::string signature;      // raw bytes
};
// Splits and base64url-decodes a compact JWS. kUnauthenticated with the reason on any defect
// (not three parts, bad base64url, not JSON objects, alg missing, "none" or not supported).
StatusOr<DecodedJwt> DecodeJwt(std::string_view token);

// Checks the signature of `jwt` with `key` (alg must be one the key supports).
Status VerifySignature(std::string_view alg, std::string_view signing_input,
                       std::string_view signature, const Key& key);

// SHA-256 of `text` as base64url (stored form of codes, refresh tokens and jti values).
std::string Sha256Base64Url(std::string_view text);

// A NumericDate claim (exp, nbf, iat), or nullopt when absent or not a number.
std::optional<int64_t> NumericDateClaim(const json::Value& claims, std::string_view name);
// True when `aud` is `audience` or an array containing it (RFC 7519 §4.1.3).
bool AudienceContains(const json::Value& claims, const std::string& audience);
// `bytes` cryptographically random bytes as base64url text.
std::string RandomToken(size_t bytes = 32);

}  // namespace carechart::auth
