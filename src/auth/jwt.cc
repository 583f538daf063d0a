#include "auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/base64.h"

namespace carechart::auth {

struct Key::Impl {
  EVP_PKEY* pkey = nullptr;
  bool is_ec = false;
  int ec_bits = 0;  // 256 or 384
  ~Impl() { EVP_PKEY_free(pkey); }
};

namespace {

Status Unauth(std::string message) { return {StatusCode::kUnauthenticated, std::move(message)}; }

std::string B64Url(std::string_view bytes) {
  std::string s = Base64Encode(bytes, /*url_alphabet=*/true);
  while (!s.empty() && s.back() == '=') {
    s.pop_back();
  }
  return s;
}

// Base64url without padding only (RFC 7515 §2): '+', '/' and '=' are refused.
std::optional<std::string> B64UrlDecode(std::string_view text) {
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      return std::nullopt;
    }
  }
  return Base64Decode(text);
}

std::string BnBytes(const BIGNUM* bn, int pad_to) {
  std::string out(pad_to > 0 ? pad_to : BN_num_bytes(bn), '\0');
  if (pad_to > 0) {
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), pad_to);
  } else {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  return out;
}

std::string GetBnParam(EVP_PKEY* pkey, const char* name, int pad_to) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
    return {};
  }
  std::string out = BnBytes(bn, pad_to);
  BN_free(bn);
  return out;
}

const EVP_MD* DigestFor(std::string_view alg) {
  return alg.ends_with("384") ? EVP_sha384() : EVP_sha256();
}

// RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
std::string Thumbprint(const json::Value& jwk) {
  json::Value canon = json::Value::Object();
  for (const char* k : {"crv", "e", "kty", "n", "x", "y"}) {
    if (const json::Value* v = jwk.find(k)) {
      canon.set(k, *v);
    }
  }
  return Sha256Base64Url(json::Write(canon));
}

std::unique_ptr<Key> Wrap(EVP_PKEY* pkey, std::string kid) {
  auto impl = std::make_unique<Key::Impl>();
  impl->pkey = pkey;
  impl->is_ec = EVP_PKEY_is_a(pkey, "EC");
  if (impl->is_ec) {
    impl->ec_bits = EVP_PKEY_get_bits(pkey);
  }
  auto key = std::make_unique<Key>(std::move(impl));
  if (kid.empty()) {
    kid = Thumbprint(key->PublicJwk());
  }
  key->set_kid(std::move(kid));
  return key;
}

StatusOr<EVP_PKEY*> EcFromJwk(const json::Value& jwk) {
  std::string_view crv = jwk.string_at("crv");
  const char* group = crv == "P-256" ? "prime256v1" : crv == "P-384" ? "secp384r1" : nullptr;
  size_t len = crv == "P-256" ? 32 : 48;
  if (!group) {
    return Unauth("JWK crv '" + std::string(crv) + "' is not supported (P-256 or P-384)");
  }
  auto x = B64UrlDecode(jwk.string_at("x"));
  auto y = B64UrlDecode(jwk.string_at("y"));
  if (!x || !y || x->size() != len || y->size() != len) {
    return Unauth("JWK x/y are not base64url coordinates of " + std::string(crv));
  }
  std::string point = "\x04" + *x + *y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  if (!ok) {
    return Unauth("JWK is not a valid " + std::string(crv) + " public key");
  }
  return pkey;
}

StatusOr<EVP_PKEY*> RsaFromJwk(const json::Value& jwk) {
  auto n = B64UrlDecode(jwk.string_at("n"));
  auto e = B64UrlDecode(jwk.string_at("e"));
  if (!n || !e || n->size() < 256 || e->empty()) {
    return Unauth("RSA JWK needs base64url n (2048 bits or more) and e");
  }
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), n->size(), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), e->size(), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  if (!ok) {
    return Unauth("JWK is not a valid RSA public key");
  }
  return pkey;
}

// JWS ECDSA signatures are r||s of fixed width; OpenSSL speaks DER.
std::optional<std::string> DerToRaw(std::string_view der, int width) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) {
    return std::nullopt;
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string out = BnBytes(r, width) + BnBytes(s, width);
  ECDSA_SIG_free(sig);
  return out;
}

std::optional<std::string> RawToDer(std::string_view raw) {
  size_t w = raw.size() / 2;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), w, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + w), w, nullptr);
  ECDSA_SIG_set0(sig, r, s);
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) {
    return std::nullopt;
  }
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

Key::Key(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Key::~Key() = default;

StatusOr<std::unique_ptr<Key>> Key::GenerateEs256() {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  if (!pkey) {
    return Status{StatusCode::kInternal, "OpenSSL could not generate an EC P-256 key"};
  }
  return Wrap(pkey, "");
}

StatusOr<std::unique_ptr<Key>> Key::FromPrivatePem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!pkey) {
    return Status{StatusCode::kInternal, "the stored signing key is not a PEM private key"};
  }
  return Wrap(pkey, "");
}

StatusOr<std::unique_ptr<Key>> Key::FromJwk(const json::Value& jwk) {
  if (!jwk.is_object()) {
    return Unauth("a JWK must be a JSON object");
  }
  std::string_view kty = jwk.string_at("kty");
  StatusOr<EVP_PKEY*> pkey = kty == "EC" ? EcFromJwk(jwk)
                             : kty == "RSA"
                                 ? RsaFromJwk(jwk)
                                 : StatusOr<EVP_PKEY*>(Unauth("JWK kty '" + std::string(kty) +
                                                              "' is not supported (EC or RSA)"));
  if (!pkey.ok()) {
    return pkey.status();
  }
  return Wrap(*pkey, std::string(jwk.string_at("kid")));
}

bool Key::Supports(std::string_view alg) const {
  if (impl_->is_ec) {
    return (alg == "ES256" && impl_->ec_bits == 256) || (alg == "ES384" && impl_->ec_bits == 384);
  }
  return alg == "RS256" || alg == "RS384";
}

std::string Key::PrivatePem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, impl_->pkey, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, len);
  BIO_free(bio);
  return out;
}

json::Value Key::PublicJwk() const {
  json::Value jwk = json::Value::Object();
  if (impl_->is_ec) {
    int width = impl_->ec_bits == 384 ? 48 : 32;
    jwk.set("kty", json::Value::String("EC"));
    jwk.set("crv", json::Value::String(width == 48 ? "P-384" : "P-256"));
    jwk.set("x",
            json::Value::String(B64Url(GetBnParam(impl_->pkey, OSSL_PKEY_PARAM_EC_PUB_X, width))));
    jwk.set("y",
            json::Value::String(B64Url(GetBnParam(impl_->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, width))));
    jwk.set("alg", json::Value::String(width == 48 ? "ES384" : "ES256"));
  } else {
    jwk.set("kty", json::Value::String("RSA"));
    jwk.set("n", json::Value::String(B64Url(GetBnParam(impl_->pkey, OSSL_PKEY_PARAM_RSA_N, 0))));
    jwk.set("e", json::Value::String(B64Url(GetBnParam(impl_->pkey, OSSL_PKEY_PARAM_RSA_E, 0))));
  }
  jwk.set("use", json::Value::String("sig"));
  if (!kid_.empty()) {
    jwk.set("kid", json::Value::String(kid_));
  }
  return jwk;
}

StatusOr<KeySet> ParseJwks(std::string_view jwks_json) {
  auto doc = json::Parse(jwks_json);
  if (!doc.ok()) {
    return Status{StatusCode::kInvalid, "JWKS is not JSON: " + doc.status().message()};
  }
  const json::Value* keys = doc->find("keys");
  if (!keys || !keys->is_array()) {
    return Status{StatusCode::kInvalid, "JWKS must be an object with a \"keys\" array"};
  }
  KeySet set;
  for (const json::Value& k : keys->items()) {
    auto key = Key::FromJwk(k);
    if (key.ok()) {
      set.keys.push_back(std::move(*key));
    } else {
      set.skipped.push_back(key.status().message());
    }
  }
  return set;
}

StatusOr<std::string> SignJwt(const json::Value& claims, const Key& key) {
  const Key::Impl& impl = key.impl();
  std::string alg = impl.is_ec ? (impl.ec_bits == 384 ? "ES384" : "ES256") : "RS256";
  json::Value header = json::Value::Object();
  header.set("alg", json::Value::String(alg));
  header.set("typ", json::Value::String("JWT"));
  header.set("kid", json::Value::String(key.kid()));
  std::string input = B64Url(json::Write(header)) + "." + B64Url(json::Write(claims));
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(md, nullptr, DigestFor(alg), nullptr, impl.pkey) == 1 &&
            EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(md);
  if (!ok) {
    return Status{StatusCode::kInternal, "OpenSSL could not sign the token"};
  }
  if (impl.is_ec) {
    auto raw = DerToRaw(sig, impl.ec_bits / 8);
    if (!raw) {
      return Status{StatusCode::kInternal, "OpenSSL returned a malformed ECDSA signature"};
    }
    sig = *raw;
  }
  return input + "." + B64Url(sig);
}

StatusOr<DecodedJwt> DecodeJwt(std::string_view token) {
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return Unauth("the token is not a JWT (three base64url parts separated by dots)");
  }
  auto header = B64UrlDecode(token.substr(0, d1));
  auto payload = B64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = B64UrlDecode(token.substr(d2 + 1));
  if (!header || !payload || !sig) {
    return Unauth("the token has a part that is not base64url");
  }
  DecodedJwt out;
  auto h = json::Parse(*header);
  auto c = json::Parse(*payload);
  if (!h.ok() || !h->is_object() || !c.ok() || !c->is_object()) {
    return Unauth("the token's header or claims are not a JSON object");
  }
  out.header = std::move(*h);
  out.claims = std::move(*c);
  out.alg = std::string(out.header.string_at("alg"));
  out.kid = std::string(out.header.string_at("kid"));
  if (out.alg.empty() || out.alg == "none" || out.alg == "None" || out.alg == "NONE") {
    return Unauth("the token is unsigned (alg none); only signed tokens are accepted");
  }
  if (out.alg != "ES256" && out.alg != "ES384" && out.alg != "RS256" && out.alg != "RS384") {
    return Unauth("token alg '" + out.alg + "' is not accepted (ES256, ES384, RS256, RS384)");
  }
  out.signing_input = std::string(token.substr(0, d2));
  out.signature = std::move(*sig);
  return out;
}

Status VerifySignature(std::string_view alg, std::string_view signing_input,
                       std::string_view signature, const Key& key) {
  if (!key.Supports(alg)) {
    return Unauth("token alg " + std::string(alg) + " does not match key " + key.kid());
  }
  const Key::Impl& impl = key.impl();
  std::string sig(signature);
  if (impl.is_ec) {
    if (sig.size() != static_cast<size_t>(impl.ec_bits / 4)) {
      return Unauth("the token signature has the wrong length for " + std::string(alg));
    }
    auto der = RawToDer(sig);
    if (!der) {
      return Unauth("the token signature is malformed");
    }
    sig = *der;
  }
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(md, nullptr, DigestFor(alg), nullptr, impl.pkey) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) {
    return Unauth("the token signature does not verify");
  }
  return Status::Ok();
}

std::string Sha256Base64Url(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return B64Url(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

std::string RandomToken(size_t bytes) {
  std::string buf(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(buf.data()), static_cast<int>(bytes)) != 1) {
    std::abort();  // no randomness: nothing secure can be issued
  }
  return B64Url(buf);
}

std::optional<int64_t> NumericDateClaim(const json::Value& claims, std::string_view name) {
  const json::Value* v = claims.find(name);
  if (!v || !v->is_number()) {
    return std::nullopt;
  }
  try {
    return static_cast<int64_t>(std::stod(v->text()));
  } catch (...) {
    return std::nullopt;
  }
}

bool AudienceContains(const json::Value& claims, const std::string& audience) {
  const json::Value* aud = claims.find("aud");
  if (aud && aud->is_string()) {
    return aud->text() == audience;
  }
  if (aud && aud->is_array()) {
    for (const auto& a : aud->items()) {
      if (a.is_string() && a.text() == audience) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace carechart::auth
