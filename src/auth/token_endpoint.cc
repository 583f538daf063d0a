// POST /auth/token: client authentication (none + PKCE, client secret, private_key_jwt) and the
// authorization_code, refresh_token and client_credentials grants.
#include <spdlog/spdlog.h>

#include "auth/accounts.h"
#include "auth/jwt.h"
#include "auth/oauth_internal.h"
#include "auth/oauth_server.h"
#include "auth/password.h"
#include "auth/roles.h"
#include "auth/scopes.h"
#include "core/base64.h"
#include "http/url.h"

namespace carechart::auth {

namespace {

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

Status InvalidClient(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }

// Basic credentials "id:secret" (RFC 6749 §2.3.1: both form-urlencoded before base64).
std::optional<std::pair<std::string, std::string>> BasicCredentials(const http::Request& r) {
  std::string_view h = r.header("authorization");
  if (!h.starts_with("Basic ") && !h.starts_with("basic ")) {
    return std::nullopt;
  }
  auto decoded = Base64Decode(h.substr(6));
  if (!decoded) {
    return std::nullopt;
  }
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  auto id = http::PercentDecode(decoded->substr(0, colon), true);
  auto secret = http::PercentDecode(decoded->substr(colon + 1), true);
  if (!id || !secret) {
    return std::nullopt;
  }
  return std::make_pair(*id, *secret);
}

std::string RateKey(const http::Request& r) { return "addr:" + r.remote_address; }

}  // namespace

StatusOr<OAuthServer::ClientAuth> OAuthServer::AuthenticateClient(const http::Request& request,
                                                                  const Form& form) {
  ClientAuth out;
  std::string assertion_type = FormValue(form, "client_assertion_type");
  std::string assertion = FormValue(form, "client_assertion");
  auto basic = BasicCredentials(request);
  std::string client_id = FormValue(form, "client_id");
  if (!assertion_type.empty() || !assertion.empty()) {
    if (assertion_type != kJwtBearer) {
      return InvalidClient("client_assertion_type must be " + std::string(kJwtBearer));
    }
    ASSIGN_OR_RETURN(DecodedJwt jwt, DecodeJwt(assertion));
    std::string iss(jwt.claims.string_at("iss"));
    if (iss.empty() || jwt.claims.string_at("sub") != iss) {
      return InvalidClient("the client assertion's iss and sub must both be the client id");
    }
    if (!client_id.empty() && client_id != iss) {
      return InvalidClient("client_id does not match the client assertion's iss");
    }
    ASSIGN_OR_RETURN(std::optional<Client> client, store_.GetClient(iss));
    if (!client || client->jwks.empty()) {
      return InvalidClient("no client '" + iss + "' with registered public keys");
    }
    ASSIGN_OR_RETURN(KeySet keys, ParseJwks(client->jwks));
    const Key* key = nullptr;
    for (const auto& k : keys.keys) {
      if ((jwt.kid.empty() || k->kid() == jwt.kid) && k->Supports(jwt.alg)) {
        key = k.get();
        break;
      }
    }
    if (!key) {
      return InvalidClient("the client assertion is signed with a key (kid '" + jwt.kid + "', " +
                           jwt.alg + ") that client '" + iss + "' has not registered");
    }
    RETURN_IF_ERROR(VerifySignature(jwt.alg, jwt.signing_input, jwt.signature, *key));
    ServerUrls u = UrlsFor(request, options_);
    if (!AudienceContains(jwt.claims, u.token)) {
      return InvalidClient("the client assertion's aud must be the token endpoint " + u.token);
    }
    int64_t now = tokens_.Now();
    auto exp = NumericDateClaim(jwt.claims, "exp");
    if (!exp || *exp <= now - 30) {
      return InvalidClient("the client assertion has expired (or has no exp)");
    }
    if (*exp > now + 300 + 30) {
      return InvalidClient("the client assertion's exp is more than five minutes ahead");
    }
    std::string jti(jwt.claims.string_at("jti"));
    if (jti.empty()) {
      return InvalidClient("the client assertion has no jti");
    }
    ASSIGN_OR_RETURN(bool fresh, store_.RememberAssertion(iss, jti, *exp + 60));
    if (!fresh) {
      return InvalidClient("the client assertion was already used (jti replay)");
    }
    out.client = std::move(*client);
    out.authenticated = true;
    return out;
  }
  std::string secret = FormValue(form, "client_secret");
  if (basic) {
    client_id = basic->first;
    secret = basic->second;
  }
  if (client_id.empty()) {
    return InvalidClient(
        "the client is not identified (client_id, Basic credentials or a "
        "client assertion)");
  }
  ASSIGN_OR_RETURN(std::optional<Client> client, store_.GetClient(client_id));
  if (!client) {
    return InvalidClient("no client '" + client_id + "'");
  }
  if (client->kind == ClientKind::kConfidential) {
    if (secret.empty() || !VerifyPassword(secret, client->secret_hash)) {
      return InvalidClient("the client secret is wrong or missing");
    }
    out.authenticated = true;
  } else if (client->kind == ClientKind::kBackend) {
    return InvalidClient("client '" + client_id +
                         "' must authenticate with a client assertion "
                         "(private_key_jwt)");
  } else if (!secret.empty()) {
    return InvalidClient("client '" + client_id + "' is public and has no secret");
  }
  out.client = std::move(*client);
  return out;
}

http::Response OAuthServer::Token(const http::Request& request) {
  int64_t now = tokens_.Now();
  if (int64_t wait = address_limiter_.RetryAfter(RateKey(request), now); wait > 0) {
    http::Response r = OAuthError(429, "slow_down",
                                  "too many failed token requests from this "
                                  "address; try again later");
    r.set_header("Retry-After", std::to_string(wait));
    return r;
  }
  auto form = ParseForm(request);
  if (!form) {
    return OAuthError(400, "invalid_request",
                      "the token request must be application/x-www-form-urlencoded");
  }
  std::string grant = FormValue(*form, "grant_type");
  // RFC 6749 §6: a public client may refresh without naming itself (SMART's own JS client does);
  // the refresh token says whose it is, and TokenForRefresh checks that it is a public client's.
  bool unnamed_refresh = grant == "refresh_token" && FormValue(*form, "client_id").empty() &&
                         FormValue(*form, "client_assertion").empty() &&
                         request.header("authorization").empty();
  auto client =
      unnamed_refresh ? StatusOr<ClientAuth>(ClientAuth{}) : AuthenticateClient(request, *form);
  if (!client.ok()) {
    address_limiter_.RecordFailure(RateKey(request), now);
    return OAuthError(401, "invalid_client", client.status().message());
  }
  http::Response r;
  if (grant == "authorization_code") {
    r = TokenForCode(request, *client, *form);
  } else if (grant == "refresh_token") {
    r = TokenForRefresh(request, *client, *form);
  } else if (grant == "client_credentials") {
    r = TokenForClient(request, *client, *form);
  } else {
    return OAuthError(400, "unsupported_grant_type",
                      "grant_type must be authorization_code, refresh_token or "
                      "client_credentials, not '" +
                          grant + "'");
  }
  if (r.status >= 400) {
    address_limiter_.RecordFailure(RateKey(request), now);
  }
  return r;
}

http::Response OAuthServer::TokenForCode(const http::Request& request, const ClientAuth& client,
                                         const Form& form) {
  auto code = store_.TakeCode(Sha256Base64Url(FormValue(form, "code")), tokens_.Now());
  if (!code.ok()) {
    return OAuthError(400, "invalid_grant", code.status().message());
  }
  if (code->client_id != client.client.id) {
    return OAuthError(400, "invalid_grant", "the code was issued to another client");
  }
  if (code->redirect_uri != FormValue(form, "redirect_uri")) {
    return OAuthError(400, "invalid_grant", "redirect_uri must be the one sent to /auth/authorize");
  }
  std::string verifier = FormValue(form, "code_verifier");
  if (!code->code_challenge.empty()) {
    if (verifier.empty()) {
      return OAuthError(400, "invalid_grant", "code_verifier is missing (PKCE)");
    }
    if (!PkceMatches(verifier, code->code_challenge)) {
      return OAuthError(400, "invalid_grant", "code_verifier does not match the code_challenge");
    }
  } else if (!client.authenticated) {
    return OAuthError(400, "invalid_grant", "a public client must use PKCE");
  }
  auto user = store_.GetUser(code->user_id);
  if (!user.ok() || !*user || (*user)->disabled) {
    return OAuthError(400, "invalid_grant", "the user account is no longer active");
  }
  auto scopes = SplitScopes(code->scope);
  bool refresh = std::find(scopes.begin(), scopes.end(), "offline_access") != scopes.end() ||
                 std::find(scopes.begin(), scopes.end(), "online_access") != scopes.end();
  return IssueUserTokens(request, **user, client.client.id, code->scope, code->patient_id,
                         code->encounter_id, code->nonce, code->code_hash, refresh,
                         code->facility_id);
}

http::Response OAuthServer::TokenForRefresh(const http::Request& request, const ClientAuth& client,
                                            const Form& form) {
  auto old = store_.RotateRefresh(Sha256Base64Url(FormValue(form, "refresh_token")), tokens_.Now());
  if (!old.ok()) {
    return OAuthError(400, "invalid_grant", old.status().message());
  }
  if (client.client.id.empty()) {
    // (The token is spent either way: a confidential client that forgets to authenticate must
    // sign in again, as after any misuse of a refresh token.)
    auto owner = store_.GetClient(old->client_id);
    if (!owner.ok() || !*owner || (*owner)->kind != ClientKind::kPublic) {
      return OAuthError(401, "invalid_client",
                        "this refresh token belongs to a confidential client, which must "
                        "authenticate to use it");
    }
  } else if (old->client_id != client.client.id) {
    return OAuthError(400, "invalid_grant", "the refresh token was issued to another client");
  }
  auto user = store_.GetUser(old->user_id);
  if (!user.ok() || !*user || (*user)->disabled) {
    return OAuthError(400, "invalid_grant", "the user account is no longer active");
  }
  std::string scope = old->scope;
  if (std::string narrower = FormValue(form, "scope"); !narrower.empty()) {
    auto granted = IntersectScopes(SplitScopes(narrower), SplitScopes(old->scope));
    if (granted.empty()) {
      return OAuthError(400, "invalid_scope", "the requested scopes were not granted originally");
    }
    scope = JoinScopes(granted);
  }
  return IssueUserTokens(request, **user, client.client.id, scope, old->patient_id, "", "",
                         old->family, true, old->facility_id);
}

http::Response OAuthServer::TokenForClient(const http::Request& request, const ClientAuth& client,
                                           const Form& form) {
  if (!client.authenticated) {
    return OAuthError(401, "invalid_client",
                      "client_credentials needs an authenticated client (private_key_jwt)");
  }
  std::string requested = FormValue(form, "scope");
  std::vector<std::string> granted;
  for (const std::string& s : IntersectScopes(SplitScopes(requested), client.client.scopes)) {
    if (s.starts_with("system/")) {
      granted.push_back(s);
    }
  }
  if (granted.empty()) {
    return OAuthError(400, "invalid_scope",
                      "none of the requested scopes ('" + requested + "') is allowed for client '" +
                          client.client.id + "' (system/ scopes only; allowed: " +
                          JoinScopes(client.client.scopes) + ")");
  }
  Principal p;
  p.role = Role::kBackendService;
  p.client_id = client.client.id;
  p.display = client.client.name;
  p.scopes = granted;
  auto out = AccessTokenResponse(request, p);
  if (!out.ok()) {
    return OAuthError(500, "server_error", "the token could not be signed");
  }
  spdlog::info("token issued to client {} (client_credentials)", client.client.id);
  return NoStoreJson(*out);
}

StatusOr<json::Value> OAuthServer::AccessTokenResponse(const http::Request& request,
                                                       const Principal& p) {
  ServerUrls u = UrlsFor(request, options_);
  ASSIGN_OR_RETURN(auto issued, tokens_.IssueAccessToken(p, u.auth, u.fhir));
  json::Value out = json::Value::Object();
  out.set("access_token", json::Value::String(issued.token));
  out.set("token_type", json::Value::String("Bearer"));
  out.set("expires_in", json::Value::Int(issued.expires_at - tokens_.Now()));
  out.set("scope", json::Value::String(JoinScopes(p.scopes)));
  return out;
}

http::Response OAuthServer::IssueUserTokens(const http::Request& request, const User& user,
                                            const std::string& client_id, const std::string& scope,
                                            const std::string& patient_id,
                                            const std::string& encounter_id,
                                            const std::string& nonce, const std::string& family,
                                            bool with_refresh, const std::string& facility_id) {
  Principal p;
  p.role = user.role;
  p.user_id = user.id;
  p.client_id = client_id;
  p.display = user.display;
  p.facility_ids = user.facility_ids;
  // The facility chosen at sign-in (still one of the user's): the token acts there only.
  std::string acting;
  if (std::find(user.facility_ids.begin(), user.facility_ids.end(), facility_id) !=
      user.facility_ids.end()) {
    acting = facility_id;
    p.facility_ids = {facility_id};
  } else if (user.facility_ids.size() == 1) {
    acting = user.facility_ids.front();
  }
  p.practitioner_id = user.practitioner_id;
  p.patient_id = patient_id;
  // A proxy also opens their own record when the account is linked to a Patient (accounts.h).
  p.proxy_patient_ids = user.role == Role::kProxy ? PatientsOf(user) : user.proxy_patient_ids;
  p.scopes = SplitScopes(scope);
  auto issued = AccessTokenResponse(request, p);
  if (!issued.ok()) {
    return OAuthError(500, "server_error", "the token could not be signed");
  }
  json::Value& out = *issued;
  ServerUrls u = UrlsFor(request, options_);
  if (!patient_id.empty()) {
    out.set("patient", json::Value::String(patient_id));
  }
  if (!encounter_id.empty()) {
    out.set("encounter", json::Value::String(encounter_id));
  }
  if (!acting.empty() && user.role != Role::kPatient && user.role != Role::kProxy) {
    // Where the user works this session: the web app sends it as X-Carechart-Facility.
    json::Value f = json::Value::Object();
    f.set("id", json::Value::String(acting));
    std::string name = options_.facility_name ? options_.facility_name(acting) : "";
    f.set("name", json::Value::String(name.empty() ? acting : name));
    out.set("facility", std::move(f));
  }
  std::string fhir_user = FhirUserReference(user);
  if (std::find(p.scopes.begin(), p.scopes.end(), "openid") != p.scopes.end()) {
    auto id_token =
        tokens_.IssueIdToken(p, u.auth, fhir_user.empty() ? "" : u.fhir + "/" + fhir_user, nonce);
    if (id_token.ok()) {
      out.set("id_token", json::Value::String(*id_token));
    }
  }
  if (with_refresh) {
    RefreshToken rt;
    std::string token = RandomToken(32);
    rt.token_hash = Sha256Base64Url(token);
    rt.family = family.empty() ? rt.token_hash : family;
    rt.client_id = client_id;
    rt.user_id = user.id;
    rt.scope = scope;
    rt.patient_id = patient_id;
    rt.facility_id = acting;
    rt.expires_at = tokens_.Now() + options_.refresh_token_seconds;
    if (Status s = store_.PutRefresh(rt); !s.ok()) {
      return OAuthError(503, "temporarily_unavailable", s.message());
    }
    out.set("refresh_token", json::Value::String(token));
  }
  spdlog::info("token issued to user {} via client {}", user.username, client_id);
  return NoStoreJson(out);
}

}  // namespace carechart::auth
