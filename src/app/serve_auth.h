// Authentication in `carechart serve`: the auth tables and signing key, the first administrator,
// the OAuth/SMART endpoints, the Bearer gate in front of /fhir, and the security headers of
// every response.
#pragma once

#include <functional>
#include <memory>

#include "app/commands.h"
#include "auth/oauth_server.h"
#include "http/message.h"
#include "rest/fhir_api.h"
#include "store/resource_store.h"

namespace carechart::app {

class ServeAuth {
 public:
  // Opens the auth tables in the database, loads (or makes) the signing key and, on a database
  // without users, creates the administrator and prints its one-time password once. Logs and
  // returns null on failure.
  // `api` receives sign-in events for the audit trail (FhirApi::Access().RecordLogin).
  static std::unique_ptr<ServeAuth> Start(const CommonOptions& common, const ServeOptions& serve,
                                          store::ResourceStore& store, rest::FhirApi& api);
  ~ServeAuth();

  // Serves one request: auth endpoints, the gate for /fhir (only /fhir/metadata and the SMART
  // discovery document are public), and `other` for everything else; security and CORS headers
  // on every response.
  http::Response Handle(http::Request& request, rest::FhirApi& api,
                        const std::function<http::Response(http::Request&)>& other);

 private:
  ServeAuth() = default;
  std::unique_ptr<auth::AuthStore> store_;
  std::unique_ptr<auth::TokenService> tokens_;
  std::unique_ptr<auth::OAuthServer> oauth_;
};

// Creates the web apps' public PKCE clients (carechart-clinician, carechart-portal) when missing
// (serve_web.cc; docs/web-apps.md).
Status EnsureFirstPartyClients(auth::AuthStore& store, const std::string& public_base_url);

}  // namespace carechart::app
