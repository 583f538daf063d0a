// Routing of the auth endpoints, discovery, JWKS, introspection, revocation, EHR launch
// registration, the Bearer gate and the security/CORS headers. The token endpoint is in
// token_endpoint.cc, the sign-in pages in sign_in.cc.
#include "auth/oauth_server.h"

#include <spdlog/spdlog.h>

#include "auth/jwt.h"
#include "auth/oauth_internal.h"
#include "auth/roles.h"
#include "http/url.h"

namespace carechart::auth {

// ---- helpers shared by the endpoint files (oauth_internal.h) ----

std::optional<Form> ParseForm(const http::Request& request) {
  if (http::MediaType(request.header("content-type")) != "application/x-www-form-urlencoded") {
    return std::nullopt;
  }
  return http::ParseQuery(request.body);
}

std::string FormValue(const Form& form, std::string_view name) {
  for (const auto& [k, v] : form) {
    if (k == name) {
      return v;
    }
  }
  return {};
}

http::Response NoStoreJson(const json::Value& body) {
  http::Response r;
  r.set_header("Content-Type", "application/json; charset=utf-8");
  r.set_header("Cache-Control", "no-store");
  r.set_header("Pragma", "no-cache");
  r.body = json::Write(body);
  return r;
}

http::Response OAuthError(int status, std::string_view error, std::string_view description) {
  json::Value b = json::Value::Object();
  b.set("error", json::Value::String(std::string(error)));
  b.set("error_description", json::Value::String(std::string(description)));
  http::Response r = NoStoreJson(b);
  r.status = status;
  if (status == 401) {
    r.set_header("WWW-Authenticate", "Basic realm=\"carechart\"");
  }
  return r;
}

http::Response Redirect(const std::string& location) {
  http::Response r;
  r.status = 302;
  r.set_header("Location", location);
  r.set_header("Cache-Control", "no-store");
  return r;
}

std::string WithQuery(const std::string& url, const Form& params) {
  std::string out = url;
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    out += sep;
    out += http::PercentEncode(k) + "=" + http::PercentEncode(v);
    sep = '&';
  }
  return out;
}

std::string CookieValue(const http::Request& request, std::string_view name) {
  for (const auto& [k, v] : request.headers) {
    if (k != "cookie") {
      continue;
    }
    std::string_view rest = v;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view part = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!part.empty() && part.front() == ' ') {
        part.remove_prefix(1);
      }
      if (part.starts_with(name) && part.size() > name.size() && part[name.size()] == '=') {
        return std::string(part.substr(name.size() + 1));
      }
    }
  }
  return {};
}

std::string CookieHeader(std::string_view name, std::string_view value, int64_t max_age,
                         bool secure) {
  return std::string(name) + "=" + std::string(value) +
         "; Path=/auth; Max-Age=" + std::to_string(max_age) + "; HttpOnly; SameSite=Lax" +
         (secure ? "; Secure" : "");
}

bool PkceMatches(std::string_view verifier, std::string_view challenge) {
  if (verifier.size() < 43 || verifier.size() > 128) {
    return false;
  }
  for (char c : verifier) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
          c == '~')) {
      return false;
    }
  }
  return Sha256Base64Url(verifier) == challenge;
}

std::string FhirUserReference(const User& user) {
  if (!user.practitioner_id.empty()) {
    return "Practitioner/" + user.practitioner_id;
  }
  if (!user.patient_id.empty()) {
    return "Patient/" + user.patient_id;
  }
  return {};
}

// ---- the server ----

ServerUrls UrlsFor(const http::Request& request, const AuthOptions& options) {
  ServerUrls u;
  if (!options.public_base_url.empty()) {
    u.fhir = options.public_base_url;
    while (!u.fhir.empty() && u.fhir.back() == '/') {
      u.fhir.pop_back();
    }
    size_t scheme = u.fhir.find("://");
    size_t path = u.fhir.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    u.origin = u.fhir.substr(0, path);
  } else {
    std::string_view host = request.header("host");
    u.origin = std::string(options.tls ? "https://" : "http://") +
               std::string(host.empty() ? "localhost" : host);
    u.fhir = u.origin + "/fhir";
  }
  u.auth = u.origin + "/auth";
  u.token = u.auth + "/token";
  return u;
}

OAuthServer::OAuthServer(AuthStore& store, TokenService& tokens, AuthOptions options,
                         PatientFinder find_patients)
    : store_(store),
      tokens_(tokens),
      options_(std::move(options)),
      find_patients_(std::move(find_patients)),
      address_limiter_(options_.max_failures_per_address, 60) {}

bool OAuthServer::Serves(const std::string& path) {
  return path.starts_with("/auth/") || path == "/fhir/.well-known/smart-configuration";
}

http::Response OAuthServer::Handle(const http::Request& request) {
  const std::string& p = request.path;
  const std::string& m = request.method;
  auto only = [&](const char* method) -> std::optional<http::Response> {
    if (m == method || (std::string_view(method) == "GET" && m == "HEAD")) {
      return std::nullopt;
    }
    http::Response r = OAuthError(405, "invalid_request", m + " is not allowed on " + p);
    r.set_header("Allow", method);
    return r;
  };
  std::optional<http::Response> wrong;
  if (p == "/fhir/.well-known/smart-configuration") {
    return (wrong = only("GET")) ? *wrong : SmartConfiguration(request);
  }
  if (p == "/auth/jwks") {
    return (wrong = only("GET")) ? *wrong : Jwks();
  }
  if (p == "/auth/token") {
    return (wrong = only("POST")) ? *wrong : Token(request);
  }
  if (p == "/auth/introspect") {
    return (wrong = only("POST")) ? *wrong : Introspect(request);
  }
  if (p == "/auth/revoke") {
    return (wrong = only("POST")) ? *wrong : Revoke(request);
  }
  if (p == "/auth/launch") {
    return (wrong = only("POST")) ? *wrong : Launch(request);
  }
  if (p == "/auth/authorize") {
    if (m == "GET" || m == "HEAD") {
      return AuthorizeGet(request);
    }
    if (m == "POST") {
      return AuthorizePost(request);
    }
    return *only("GET");
  }
  if (p == "/auth/activate" || p.starts_with("/auth/account/")) {
    return Account(request);  // portal accounts: account_endpoints.cc
  }
  return OAuthError(404, "invalid_request", "nothing is served at " + p);
}

http::Response OAuthServer::SmartConfiguration(const http::Request& request) {
  ServerUrls u = UrlsFor(request, options_);
  auto strings = [](std::initializer_list<const char*> items) {
    json::Value a = json::Value::Array();
    for (const char* s : items) {
      a.push_back(json::Value::String(s));
    }
    return a;
  };
  json::Value c = json::Value::Object();
  c.set("issuer", json::Value::String(u.auth));
  c.set("jwks_uri", json::Value::String(u.auth + "/jwks"));
  c.set("authorization_endpoint", json::Value::String(u.auth + "/authorize"));
  c.set("token_endpoint", json::Value::String(u.token));
  c.set("introspection_endpoint", json::Value::String(u.auth + "/introspect"));
  c.set("revocation_endpoint", json::Value::String(u.auth + "/revoke"));
  c.set("grant_types_supported",
        strings({"authorization_code", "refresh_token", "client_credentials"}));
  c.set("token_endpoint_auth_methods_supported",
        strings({"private_key_jwt", "client_secret_basic", "client_secret_post", "none"}));
  c.set("token_endpoint_auth_signing_alg_values_supported",
        strings({"RS384", "ES384", "RS256", "ES256"}));
  c.set("scopes_supported",
        strings({"openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter",
                 "offline_access", "online_access", "patient/*.cruds", "user/*.cruds",
                 "system/*.cruds", "patient/*.rs", "user/*.rs", "system/*.rs"}));
  c.set("response_types_supported", strings({"code"}));
  c.set("code_challenge_methods_supported", strings({"S256"}));
  c.set("capabilities",
        strings({"launch-ehr", "launch-standalone", "client-public",
                 "client-confidential-symmetric", "client-confidential-asymmetric",
                 "context-ehr-patient", "context-ehr-encounter", "context-standalone-patient",
                 "permission-offline", "permission-online", "permission-patient", "permission-user",
                 "permission-v1", "permission-v2", "sso-openid-connect", "authorize-post"}));
  http::Response r;
  r.set_header("Content-Type", "application/json; charset=utf-8");
  r.body = json::Write(c);
  return r;
}

http::Response OAuthServer::Jwks() {
  http::Response r;
  r.set_header("Content-Type", "application/json; charset=utf-8");
  r.body = json::Write(tokens_.Jwks());
  return r;
}

namespace {

std::string BearerToken(const http::Request& request) {
  std::string_view h = request.header("authorization");
  if (h.size() > 7 && (h.starts_with("Bearer ") || h.starts_with("bearer "))) {
    h.remove_prefix(7);
    while (!h.empty() && h.front() == ' ') {
      h.remove_prefix(1);
    }
    return std::string(h);
  }
  return {};
}

http::Response Unauthorized(const std::string& error, const std::string& reason) {
  http::Response r;
  r.status = 401;
  r.set_header("Content-Type", "application/fhir+json; charset=utf-8");
  std::string challenge = "Bearer realm=\"carechart\"";
  if (!error.empty()) {
    std::string safe;
    for (char c : reason) {
      safe += (c == '"' || c == '\\') ? '\'' : c;
    }
    challenge += ", error=\"" + error + "\", error_description=\"" + safe + "\"";
  }
  r.set_header("WWW-Authenticate", challenge);
  json::Value issue = json::Value::Object();
  issue.set("severity", json::Value::String("error"));
  issue.set("code", json::Value::String("login"));
  issue.set("diagnostics", json::Value::String(reason));
  json::Value issues = json::Value::Array();
  issues.push_back(std::move(issue));
  json::Value oo = json::Value::Object();
  oo.set("resourceType", json::Value::String("OperationOutcome"));
  oo.set("issue", std::move(issues));
  r.body = json::Write(oo);
  return r;
}

}  // namespace

std::variant<std::shared_ptr<const Principal>, http::Response> OAuthServer::Authenticate(
    const http::Request& request) {
  std::string token = BearerToken(request);
  if (token.empty()) {
    bool other_scheme = !request.header("authorization").empty();
    return Unauthorized(other_scheme ? "invalid_request" : "",
                        other_scheme ? "the Authorization header must be 'Bearer <access token>'"
                                     : "this request needs an access token (Authorization: "
                                       "Bearer ...); see /fhir/.well-known/smart-configuration");
  }
  ServerUrls u = UrlsFor(request, options_);
  auto p = tokens_.Verify(token, u.auth, u.fhir);
  if (!p.ok()) {
    return Unauthorized("invalid_token", p.status().message());
  }
  // A copy: the verified Principal is shared by every request carrying the same token.
  auto principal = std::make_shared<Principal>(**p);
  principal->remote_address = request.remote_address;
  return std::shared_ptr<const Principal>(principal);
}

http::Response OAuthServer::Introspect(const http::Request& request) {
  auto form = ParseForm(request);
  if (!form) {
    return OAuthError(400, "invalid_request",
                      "send token=... as application/x-www-form-urlencoded");
  }
  // RFC 7662 §2.1: the caller must be authorised: a client's credentials, or a valid token.
  auto caller = AuthenticateClient(request, *form);
  if (!caller.ok()) {
    auto gate = Authenticate(request);
    if (std::holds_alternative<http::Response>(gate)) {
      return OAuthError(401, "invalid_client",
                        "introspection needs client authentication or a Bearer access token");
    }
  }
  std::string token = FormValue(*form, "token");
  json::Value out = json::Value::Object();
  ServerUrls u = UrlsFor(request, options_);
  auto p = tokens_.Verify(token, u.auth, u.fhir);
  if (!p.ok()) {
    out.set("active", json::Value::Bool(false));
    return NoStoreJson(out);
  }
  auto claims = tokens_.VerifiedClaims(token);
  out.set("active", json::Value::Bool(true));
  for (const char* k :
       {"scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "patient"}) {
    if (const json::Value* v = claims->find(k)) {
      out.set(k, *v);
    }
  }
  out.set("token_type", json::Value::String("Bearer"));
  if (!(*p)->user_id.empty()) {
    if (auto user = store_.GetUser((*p)->user_id); user.ok() && *user) {
      out.set("username", json::Value::String((*user)->username));
      if (std::string fu = FhirUserReference(**user); !fu.empty()) {
        out.set("fhirUser", json::Value::String(u.fhir + "/" + fu));
      }
    }
  }
  return NoStoreJson(out);
}

http::Response OAuthServer::Revoke(const http::Request& request) {
  auto form = ParseForm(request);
  if (!form) {
    return OAuthError(400, "invalid_request",
                      "send token=... as application/x-www-form-urlencoded");
  }
  // Holding the token is proof enough to revoke it; RFC 7009 §2.2 answers 200 even for tokens
  // that are unknown, so a caller learns nothing about tokens it does not have.
  std::string token = FormValue(*form, "token");
  if (token.empty()) {
    return OAuthError(400, "invalid_request", "the token parameter is missing");
  }
  if (auto claims = tokens_.VerifiedClaims(token); claims.ok()) {
    std::string jti(claims->string_at("jti"));
    int64_t exp = 0;
    if (const json::Value* e = claims->find("exp"); e && e->is_number()) {
      exp = std::stoll(e->text());
    }
    if (!jti.empty()) {
      if (Status s = tokens_.Revoke(jti, exp); !s.ok()) {
        return OAuthError(503, "temporarily_unavailable", s.message());
      }
    }
  } else {
    auto revoked = store_.RevokeRefresh(Sha256Base64Url(token));
    if (!revoked.ok()) {
      return OAuthError(503, "temporarily_unavailable", revoked.status().message());
    }
  }
  return NoStoreJson(json::Value::Object());
}

http::Response OAuthServer::Launch(const http::Request& request) {
  auto gate = Authenticate(request);
  if (auto* r = std::get_if<http::Response>(&gate)) {
    return *r;
  }
  const Principal& p = *std::get<std::shared_ptr<const Principal>>(gate);
  if (p.user_id.empty() || p.role == Role::kPatient || p.role == Role::kProxy) {
    return OAuthError(403, "access_denied", "only staff users may register an EHR launch");
  }
  auto body = json::Parse(request.body);
  if (!body.ok() || !body->is_object() || body->string_at("patient").empty()) {
    return OAuthError(400, "invalid_request",
                      "send a JSON object {\"patient\": \"<Patient id>\", \"encounter\": "
                      "\"<Encounter id, optional>\"}");
  }
  LaunchContext l;
  l.id = RandomToken(16);
  l.patient_id = std::string(body->string_at("patient"));
  l.encounter_id = std::string(body->string_at("encounter"));
  l.expires_at = tokens_.Now() + 300;
  if (Status s = store_.PutLaunch(l); !s.ok()) {
    return OAuthError(503, "temporarily_unavailable", s.message());
  }
  json::Value out = json::Value::Object();
  out.set("launch", json::Value::String(l.id));
  out.set("expires_in", json::Value::Int(300));
  http::Response r = NoStoreJson(out);
  r.status = 201;
  return r;
}

std::optional<http::Response> OAuthServer::Preflight(const http::Request& request) const {
  if (request.method != "OPTIONS" || request.header("origin").empty()) {
    return std::nullopt;
  }
  http::Response r;
  r.status = 204;
  return r;
}

void OAuthServer::AddSecurityHeaders(const http::Request& request, http::Response& r) const {
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("Referrer-Policy", "no-referrer");
  r.set_header("X-Frame-Options", "DENY");
  if (options_.tls) {
    r.set_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  }
  bool html = false;
  bool has_policy = false;  // the web front end (http/static_files.cc) sends its own policy
  for (const auto& [k, v] : r.headers) {
    if ((k == "Content-Type" || k == "content-type") && v.starts_with("text/html")) {
      html = true;
    }
    has_policy = has_policy || k == "Content-Security-Policy";
  }
  if (html && !has_policy) {
    r.set_header("Content-Security-Policy",
                 "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                 "frame-ancestors 'none'; base-uri 'none'");
  }
  std::string_view origin = request.header("origin");
  if (!origin.empty()) {
    bool allowed = std::find(options_.cors_origins.begin(), options_.cors_origins.end(), origin) !=
                       options_.cors_origins.end() ||
                   std::find(options_.cors_origins.begin(), options_.cors_origins.end(), "*") !=
                       options_.cors_origins.end();
    if (allowed) {
      r.set_header("Access-Control-Allow-Origin", std::string(origin));
      r.set_header("Vary", "Origin");
      r.set_header("Access-Control-Allow-Headers",
                   "Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, "
                   "If-None-Exist, X-Carechart-Facility");
      r.set_header("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
      r.set_header("Access-Control-Expose-Headers",
                   "Location, ETag, Last-Modified, Content-Location");
      r.set_header("Access-Control-Max-Age", "600");
    }
  }
}

}  // namespace carechart::auth
