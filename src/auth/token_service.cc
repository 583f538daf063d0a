#include "auth/token_service.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "auth/roles.h"
#include "auth/scopes.h"

namespace carechart::auth {

namespace {

Status Unauth(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }

json::Value StringArray(const std::vector<std::string>& v) {
  json::Value a = json::Value::Array();
  for (const auto& s : v) {
    a.push_back(json::Value::String(s));
  }
  return a;
}

std::vector<std::string> Strings(const json::Value* v) {
  std::vector<std::string> out;
  if (v && v->is_array()) {
    for (const auto& i : v->items()) {
      if (i.is_string()) {
        out.push_back(i.text());
      }
    }
  }
  return out;
}

std::string Iso(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Principal PrincipalFromClaims(const json::Value& claims) {
  Principal p;
  p.role = ParseRole(claims.string_at("role")).value_or(Role::kBackendService);
  p.client_id = std::string(claims.string_at("client_id"));
  if (p.role != Role::kBackendService) {
    p.user_id = std::string(claims.string_at("sub"));
  }
  p.display = std::string(claims.string_at("name"));
  p.facility_ids = Strings(claims.find("facilities"));
  p.practitioner_id = std::string(claims.string_at("practitioner"));
  p.patient_id = std::string(claims.string_at("patient"));
  p.proxy_patient_ids = Strings(claims.find("proxy_patients"));
  p.scopes = SplitScopes(claims.string_at("scope"));
  p.token_id = std::string(claims.string_at("jti"));
  return p;
}

TokenService::TokenService(AuthStore& store, TokenSettings settings, std::unique_ptr<Key> key)
    : store_(store), settings_(std::move(settings)), key_(std::move(key)) {
  if (!settings_.now) {
    settings_.now = [] { return static_cast<int64_t>(std::time(nullptr)); };
  }
}

StatusOr<std::unique_ptr<TokenService>> TokenService::Create(AuthStore& store,
                                                             TokenSettings settings) {
  ASSIGN_OR_RETURN(std::vector<std::string> keys, store.SigningKeys());
  if (keys.empty()) {
    ASSIGN_OR_RETURN(std::unique_ptr<Key> fresh, Key::GenerateEs256());
    RETURN_IF_ERROR(store.AddSigningKeyIfNone(fresh->kid(), fresh->PrivatePem()));
    ASSIGN_OR_RETURN(keys, store.SigningKeys());  // another node may have stored one first
    if (keys.empty()) {
      return InternalError("the signing key could not be stored");
    }
    spdlog::info("generated the server's token signing key");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Key> key, Key::FromPrivatePem(keys.front()));
  auto svc =
      std::unique_ptr<TokenService>(new TokenService(store, std::move(settings), std::move(key)));
  svc->RefreshRevocations();
  return svc;
}

int64_t TokenService::Now() const { return settings_.now(); }

StatusOr<IssuedToken> TokenService::IssueAccessToken(const Principal& p, const std::string& issuer,
                                                     const std::string& audience, int64_t lifetime,
                                                     int64_t not_before) {
  int64_t now = Now();
  IssuedToken out;
  out.jti = RandomToken(16);
  out.expires_at = now + (lifetime != 0 ? lifetime : settings_.access_token_seconds);
  json::Value c = json::Value::Object();
  c.set("iss", json::Value::String(issuer));
  c.set("aud", json::Value::String(audience));
  c.set("sub", json::Value::String(p.user_id.empty() ? p.client_id : p.user_id));
  c.set("client_id", json::Value::String(p.client_id));
  c.set("role", json::Value::String(std::string(RoleName(p.role))));
  c.set("scope", json::Value::String(JoinScopes(p.scopes)));
  c.set("iat", json::Value::Int(now));
  if (not_before != 0) {
    c.set("nbf", json::Value::Int(now + not_before));
  }
  c.set("exp", json::Value::Int(out.expires_at));
  c.set("jti", json::Value::String(out.jti));
  if (!p.display.empty()) {
    c.set("name", json::Value::String(p.display));
  }
  if (!p.facility_ids.empty()) {
    c.set("facilities", StringArray(p.facility_ids));
  }
  if (!p.practitioner_id.empty()) {
    c.set("practitioner", json::Value::String(p.practitioner_id));
  }
  if (!p.patient_id.empty()) {
    c.set("patient", json::Value::String(p.patient_id));
  }
  if (!p.proxy_patient_ids.empty()) {
    c.set("proxy_patients", StringArray(p.proxy_patient_ids));
  }
  ASSIGN_OR_RETURN(out.token, SignJwt(c, *key_));
  return out;
}

StatusOr<std::string> TokenService::IssueIdToken(const Principal& p, const std::string& issuer,
                                                 const std::string& fhir_user,
                                                 const std::string& nonce) {
  int64_t now = Now();
  json::Value c = json::Value::Object();
  c.set("iss", json::Value::String(issuer));
  c.set("sub", json::Value::String(p.user_id));
  c.set("aud", json::Value::String(p.client_id));
  c.set("iat", json::Value::Int(now));
  c.set("exp", json::Value::Int(now + settings_.access_token_seconds));
  if (!fhir_user.empty()) {
    c.set("fhirUser", json::Value::String(fhir_user));
  }
  if (!p.display.empty()) {
    c.set("name", json::Value::String(p.display));
  }
  if (!nonce.empty()) {
    c.set("nonce", json::Value::String(nonce));
  }
  return SignJwt(c, *key_);
}

StatusOr<json::Value> TokenService::VerifiedClaims(std::string_view token) {
  ASSIGN_OR_RETURN(DecodedJwt jwt, DecodeJwt(token));
  if (!jwt.kid.empty() && jwt.kid != key_->kid()) {
    return Unauth("the token is signed by an unknown key (kid " + jwt.kid + ")");
  }
  RETURN_IF_ERROR(VerifySignature(jwt.alg, jwt.signing_input, jwt.signature, *key_));
  return std::move(jwt.claims);
}

StatusOr<std::shared_ptr<const Principal>> TokenService::Verify(std::string_view token,
                                                                const std::string& issuer,
                                                                const std::string& audience) {
  {
    std::shared_lock lock(cache_mu_);
    auto it = cache_.find(std::string(token));
    if (it != cache_.end() && it->second.issuer == issuer && it->second.audience == audience &&
        it->second.exp + settings_.leeway_seconds > Now()) {
      const Verified& v = it->second;
      if (std::string why = RevocationReason(v.principal->token_id, v.principal->user_id);
          !why.empty()) {
        return Unauth(why);
      }
      return v.principal;
    }
  }
  ASSIGN_OR_RETURN(json::Value claims, VerifiedClaims(token));
  if (claims.string_at("iss") != issuer) {
    return Unauth("the token was issued by '" + std::string(claims.string_at("iss")) +
                  "', not by this server (" + issuer + ")");
  }
  if (!AudienceContains(claims, audience)) {
    return Unauth("the token's audience is not this server's FHIR base " + audience);
  }
  int64_t now = Now();
  auto exp = NumericDateClaim(claims, "exp");
  if (!exp) {
    return Unauth("the token has no exp (expiry) claim");
  }
  if (*exp + settings_.leeway_seconds <= now) {
    return Unauth("the token expired at " + Iso(*exp));
  }
  if (auto nbf = NumericDateClaim(claims, "nbf"); nbf && *nbf - settings_.leeway_seconds > now) {
    return Unauth("the token is not valid before " + Iso(*nbf));
  }
  if (auto iat = NumericDateClaim(claims, "iat"); iat && *iat - settings_.leeway_seconds > now) {
    return Unauth("the token claims to be issued in the future (" + Iso(*iat) + ")");
  }
  std::string jti(claims.string_at("jti"));
  if (jti.empty()) {
    return Unauth("the token has no jti claim");
  }
  auto p = std::make_shared<Principal>(PrincipalFromClaims(claims));
  if (std::string why = RevocationReason(jti, p->user_id); !why.empty()) {
    return Unauth(why);
  }
  std::shared_ptr<const Principal> principal = std::move(p);
  {
    std::unique_lock lock(cache_mu_);
    if (cache_.size() >= 10000) {
      cache_.clear();  // simplest bound: tokens are re-verified once after a flush
    }
    cache_[std::string(token)] = Verified{principal, issuer, audience, *exp};
  }
  return principal;
}

Status TokenService::Revoke(const std::string& jti, int64_t expires_at) {
  RETURN_IF_ERROR(store_.RevokeAccessToken(jti, expires_at));
  std::unique_lock lock(revoked_mu_);
  revoked_.insert(jti);
  return Status::Ok();
}

json::Value TokenService::Jwks() const {
  json::Value keys = json::Value::Array();
  json::Value jwk = key_->PublicJwk();
  jwk.set("alg", json::Value::String("ES256"));
  keys.push_back(std::move(jwk));
  json::Value doc = json::Value::Object();
  doc.set("keys", std::move(keys));
  return doc;
}

std::string TokenService::RevocationReason(const std::string& jti, const std::string& user_id) {
  int64_t now_ns = std::chrono::steady_clock::now().time_since_epoch().count();
  if (now_ns >= next_refresh_ns_.load(std::memory_order_relaxed)) {
    RefreshRevocations();
  }
  std::shared_lock lock(revoked_mu_);
  if (revoked_.contains(jti)) {
    return "the token has been revoked";
  }
  if (!user_id.empty() && disabled_users_.contains(user_id)) {
    return "the token's user account is disabled";
  }
  return {};
}

void TokenService::RefreshRevocations() {
  std::unique_lock refresh(refresh_mu_, std::try_to_lock);
  if (!refresh.owns_lock()) {
    return;  // another thread is refreshing; the current set is at most one poll old
  }
  int64_t last = revoked_seq_;
  auto added = store_.RevokedSince(revoked_seq_, &last);
  auto disabled = store_.DisabledUserIds();
  if (!added.ok() || !disabled.ok()) {
    spdlog::warn("could not refresh token revocations: {}",
                 (!added.ok() ? added.status() : disabled.status()).ToString());
    return;
  }
  {
    std::unique_lock lock(revoked_mu_);
    revoked_.insert(added->begin(), added->end());
    disabled_users_ = std::unordered_set<std::string>(disabled->begin(), disabled->end());
  }
  revoked_seq_ = last;
  next_refresh_ns_.store(
      (std::chrono::steady_clock::now() + settings_.revocation_poll).time_since_epoch().count(),
      std::memory_order_relaxed);
}

}  // namespace carechart::auth
