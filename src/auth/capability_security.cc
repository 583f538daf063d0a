// The SMART part of the CapabilityStatement (rest.security): the SMART-on-FHIR service coding and
// the oauth-uris extension with absolute endpoint URLs. The rest module builds the statement once
// at start-up without knowing the address clients use, so the auth module (which knows it per
// request: --public-base-url or Host, like the discovery document) adds the section here.
#include <mutex>

#include "auth/oauth_server.h"
#include "fhir/json.h"

namespace carechart::auth {

namespace {

json::Value UriExtension(const char* name, const std::string& uri) {
  json::Value e = json::Value::Object();
  e.set("url", json::Value::String(name));
  e.set("valueUri", json::Value::String(uri));
  return e;
}

json::Value SecuritySection(const ServerUrls& u, bool cors) {
  json::Value uris = json::Value::Object();
  uris.set("url", json::Value::String(
                      "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"));
  json::Value parts = json::Value::Array();
  parts.push_back(UriExtension("token", u.token));
  parts.push_back(UriExtension("authorize", u.auth + "/authorize"));
  parts.push_back(UriExtension("introspect", u.auth + "/introspect"));
  parts.push_back(UriExtension("revoke", u.auth + "/revoke"));
  uris.set("extension", std::move(parts));
  json::Value extensions = json::Value::Array();
  extensions.push_back(std::move(uris));

  json::Value coding = json::Value::Object();
  coding.set("system",
             json::Value::String("http://terminology.hl7.org/CodeSystem/restful-security-service"));
  coding.set("code", json::Value::String("SMART-on-FHIR"));
  coding.set("display", json::Value::String("SMART-on-FHIR"));
  json::Value codings = json::Value::Array();
  codings.push_back(std::move(coding));
  json::Value service = json::Value::Object();
  service.set("coding", std::move(codings));
  service.set("text",
              json::Value::String("OAuth 2.0 with SMART App Launch v2 and Backend Services"));
  json::Value services = json::Value::Array();
  services.push_back(std::move(service));

  json::Value security = json::Value::Object();
  security.set("extension", std::move(extensions));
  security.set("cors", json::Value::Bool(cors));
  security.set("service", std::move(services));
  security.set("description",
               json::Value::String(
                   "Every request except GET metadata and the SMART discovery document (" + u.fhir +
                   "/.well-known/smart-configuration) needs an OAuth 2.0 Bearer access token. "
                   "SMART v2 scopes, including granular ?category= scopes, are enforced on every "
                   "interaction and every returned resource."));
  return security;
}

}  // namespace

void OAuthServer::AddSmartSecurity(const http::Request& request, http::Response& metadata) {
  if (metadata.status != 200) {
    return;
  }
  ServerUrls u = UrlsFor(request, options_);
  bool pretty = metadata.body.find('\n') != std::string::npos;
  std::string key = u.origin + (pretty ? "|pretty|" : "|") + std::to_string(metadata.body.size());
  {
    std::lock_guard lock(capability_mu_);
    if (auto it = capability_cache_.find(key); it != capability_cache_.end()) {
      metadata.body = it->second;
      return;
    }
  }
  auto cs = json::Parse(metadata.body);
  if (!cs.ok()) {
    return;
  }
  json::Value* rest = cs->find("rest");
  if (rest == nullptr || !rest->is_array() || rest->items().empty()) {
    return;
  }
  // FHIR's element order: rest.mode, rest.documentation, rest.security, rest.resource ...
  rest->items().front().set_at("security", SecuritySection(u, !options_.cors_origins.empty()), 2);
  json::WriteOptions wo;
  wo.pretty = pretty;
  metadata.body = json::Write(*cs, wo);
  std::lock_guard lock(capability_mu_);
  if (capability_cache_.size() < 16) {  // the Host header is the client's: bound the cache
    capability_cache_.emplace(std::move(key), metadata.body);
  }
}

}  // namespace carechart::auth
