// The OAuth 2.0 / SMART App Launch v2 endpoints and the Bearer-token gate in front of the FHIR
// API. Routes (all under the server's origin):
//   GET  /fhir/.well-known/smart-configuration   discovery (public)
//   GET  /auth/authorize, POST /auth/authorize    authorization code: sign-in page, TOTP step,
//                                                 password change, patient picker (cookies +
//                                                 CSRF token), then a redirect with the code
//   POST /auth/token        authorization_code (PKCE S256), refresh_token (rotation),
//                           client_credentials (private_key_jwt: RS384/ES384, also RS256/ES256)
//   POST /auth/introspect   RFC 7662
//   POST /auth/revoke       RFC 7009 (access and refresh tokens)
//   GET  /auth/jwks         the server's public signing key
//   POST /auth/launch       EHR launch: registers {patient, encounter} and returns a launch id
//   /auth/activate, /auth/account/*   portal accounts: activation and reset codes, invitations,
//                           whose records I may open, connected apps (account_endpoints.cc)
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "auth/auth_store.h"
#include "auth/rate_limiter.h"
#include "auth/token_service.h"
#include "http/message.h"

namespace carechart::auth {

struct AuthOptions {
  // The FHIR base clients use (e.g. https://ehr.example.org/fhir); empty: from the Host header.
  std::string public_base_url;
  bool tls = false;  // the server itself speaks HTTPS (cookies get Secure, HSTS is sent)
  int64_t code_seconds = 60;
  int64_t refresh_token_seconds = 30 * 86400;
  int64_t session_seconds = 600;  // to finish signing in
  int max_failed_logins = 5;      // per account, then locked for lockout_seconds
  int64_t lockout_seconds = 900;
  int max_failures_per_address = 20;      // per minute, sign-in and token endpoint
  std::vector<std::string> cors_origins;  // origins of SMART apps allowed to call from a browser
  // Called on every successful and failed sign-in (the audit trail records them as AuditEvents).
  // user_id is the account's id, or the name typed when no such account exists.
  std::function<void(const std::string& user_id, const std::string& remote_address, bool success,
                     const std::string& detail)>
      on_sign_in;
  // The display name of a facility (Organization id), for the sign-in page's facility choice
  // and the token response's `facility`; empty when unknown.
  std::function<std::string(const std::string& organization_id)> facility_name;
  // This server's own web apps (http/static_files.h): public PKCE clients whose redirect URI may
  // be this server's origin + "/" (carechart-clinician) or + "/portal/" (carechart-portal),
  // exactly, as the request's Host (or public_base_url) gives it. See docs/web-apps.md.
  bool first_party_clients = true;
};

// The web apps' client ids and the path each is sent back to after sign-in.
inline constexpr std::string_view kClinicianClientId = "carechart-clinician";
inline constexpr std::string_view kPortalClientId = "carechart-portal";
// The redirect path of a first-party client ("/" or "/portal/"), or empty for any other client.
std::string_view FirstPartyRedirectPath(std::string_view client_id);

// Patients for the standalone-launch picker: id and display name, filtered by a name fragment.
using PatientFinder =
    std::function<std::vector<std::pair<std::string, std::string>>(const std::string& name)>;

// The URLs of this server as a request sees them.
struct ServerUrls {
  std::string origin;  // https://ehr.example.org
  std::string fhir;    // origin + /fhir (or the configured public base)
  std::string auth;    // origin + /auth: the token issuer
  std::string token;   // auth + /token: the audience of client assertions
};
ServerUrls UrlsFor(const http::Request& request, const AuthOptions& options);

class OAuthServer {
 public:
  OAuthServer(AuthStore& store, TokenService& tokens, AuthOptions options,
              PatientFinder find_patients);

  // True for the paths this class serves (/auth/..., the SMART discovery document).
  static bool Serves(const std::string& path);
  http::Response Handle(const http::Request& request);

  // The gate: the Principal of the request's Bearer token, or the 401 response to send (with
  // WWW-Authenticate and an OperationOutcome naming the reason).
  std::variant<std::shared_ptr<const Principal>, http::Response> Authenticate(
      const http::Request& request);

  // Security headers for every response; CORS headers when the Origin is allowed. Returns a
  // complete answer for a CORS preflight (OPTIONS), or nullopt to go on.
  std::optional<http::Response> Preflight(const http::Request& request) const;
  void AddSecurityHeaders(const http::Request& request, http::Response& response) const;

  // Adds rest.security (SMART-on-FHIR service, oauth-uris with this request's absolute URLs) to
  // the CapabilityStatement response of GET /fhir/metadata (capability_security.cc).
  void AddSmartSecurity(const http::Request& request, http::Response& metadata);

  const AuthOptions& options() const { return options_; }

 private:
  http::Response SmartConfiguration(const http::Request& request);
  http::Response Jwks();
  http::Response Token(const http::Request& request);
  http::Response Introspect(const http::Request& request);
  http::Response Revoke(const http::Request& request);
  http::Response Launch(const http::Request& request);
  http::Response AuthorizeGet(const http::Request& request);
  http::Response AuthorizePost(const http::Request& request);
  http::Response Account(const http::Request& request);  // account_endpoints.cc

  struct ClientAuth {
    Client client;
    bool authenticated = false;  // false: a public client that only named itself
  };
  StatusOr<ClientAuth> AuthenticateClient(
      const http::Request& request, const std::vector<std::pair<std::string, std::string>>& form);
  http::Response TokenForCode(const http::Request& request, const ClientAuth& client,
                              const std::vector<std::pair<std::string, std::string>>& form);
  http::Response TokenForRefresh(const http::Request& request, const ClientAuth& client,
                                 const std::vector<std::pair<std::string, std::string>>& form);
  http::Response TokenForClient(const http::Request& request, const ClientAuth& client,
                                const std::vector<std::pair<std::string, std::string>>& form);
  // The access token for `p` and the response fields every grant shares (access_token,
  // token_type, expires_in, scope); the grants add their own (context, id_token, refresh_token).
  StatusOr<json::Value> AccessTokenResponse(const http::Request& request, const Principal& p);
  http::Response IssueUserTokens(const http::Request& request, const User& user,
                                 const std::string& client_id, const std::string& scope,
                                 const std::string& patient_id, const std::string& encounter_id,
                                 const std::string& nonce, const std::string& family,
                                 bool with_refresh, const std::string& facility_id);

  // Sign-in steps.
  http::Response SignInStep(const http::Request& request, SignInSession& session,
                            const std::string& cookie, const std::string& error);
  http::Response FinishSignIn(const http::Request& request, SignInSession& session,
                              const User& user, const std::string& patient_id);

  AuthStore& store_;
  TokenService& tokens_;
  AuthOptions options_;
  PatientFinder find_patients_;
  RateLimiter address_limiter_;
  std::mutex capability_mu_;
  std::map<std::string, std::string> capability_cache_;  // origin|size -> statement
};

}  // namespace carechart::auth
