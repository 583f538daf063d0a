// Internal to the rest module: what one request's handlers share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"
#include "fhir/json.h"
#include "http/message.h"
#include "rest/fhir_api.h"
#include "store/resource_store.h"

namespace carechart::access {
class AccessControl;
class RequestGuard;
}  // namespace carechart::access

namespace carechart::rest {

// The parsed route and request-wide settings.
struct RequestContext {
  RequestContext(const http::Request& request, store::ResourceStore& resource_store,
                 const ApiOptions& api_options)
      : http(request), store(resource_store), options(api_options) {}

  const http::Request& http;
  store::ResourceStore& store;
  const ApiOptions& options;
  std::string base_url;   // e.g. "http://127.0.0.1:8080/fhir"
  std::string type;       // resource type from the URL, or empty
  std::string id;         // id from the URL, or empty
  std::string version;    // version id from the URL, or empty
  std::string operation;  // "$validate" etc., or empty
  bool pretty = false;
  std::string summary;                // _summary value, or empty
  std::vector<std::string> elements;  // _elements, or empty
  std::string facility_id;
  std::string facility_name;
  std::string actor = "system";  // who writes: a user id once authentication exists
  // An update whose content equals the stored version (apart from meta.versionId/lastUpdated)
  // stores nothing and answers the stored version (the importer sets this; HTTP does not).
  bool skip_unchanged_updates = false;
  // Keep the facility meta.tag a resource already carries instead of stamping this request's
  // facility: only for trusted imports of records made elsewhere (demo data, an export of another
  // Carechart with --keep-facility-tags), never for a client's HTTP write.
  bool keep_source_facility = false;
  // Who asks (set by the auth module before routing; see src/auth/principal.h). Null only where
  // the API is driven in-process by the server itself (import, HL7, unit tests).
  std::shared_ptr<const auth::Principal> principal;
  // The access policy (src/access; null when not enforced) and this request's guard, made on
  // first use by rest/access_hooks.h.
  access::AccessControl* access_control = nullptr;
  std::shared_ptr<access::RequestGuard> guard;

  // Query parameters minus the ones that only shape the response (_format, _pretty, ...).
  std::vector<std::pair<std::string, std::string>> SearchParams() const;
};

// "return=minimal" | "return=representation" | "return=OperationOutcome" from Prefer.
enum class ReturnPreference { kRepresentation, kMinimal, kOperationOutcome };
ReturnPreference PreferredReturn(const http::Request& request);

// A response carrying one stored version (ETag, Last-Modified, Content-Type; _pretty, _summary
// and _elements applied).
http::Response VersionResponse(int status, const store::ResourceVersion& version,
                               const RequestContext& ctx);
// A response for a write, honouring Prefer (and Location for creates).
http::Response WriteResponse(int status, const store::ResourceVersion& version,
                             const RequestContext& ctx, bool set_location);

// The body to serve for a stored JSON text, with _summary/_elements applied and indented when
// `pretty`.
std::string RenderBody(const std::string& stored_json, const RequestContext& ctx, bool pretty);

// Current time in microseconds since the Unix epoch.
int64_t NowMicros();
// A new server-assigned id: a UUID version 7 (RFC 9562), the creation time in milliseconds
// followed by 74 random bits, written in lowercase hex. Ids made later sort later, so a store's
// id index grows at its end instead of at a random page per new resource (D108).
std::string NewId();
// Valid FHIR id: [A-Za-z0-9\-\.]{1,64}.
bool IsValidId(std::string_view id);

}  // namespace carechart::rest
