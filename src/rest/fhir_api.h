// The FHIR R4 RESTful API (https://hl7.org/fhir/R4/http.html) over a ResourceStore.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "access/policy.h"
#include "auth/principal.h"
#include "http/message.h"
#include "store/resource_store.h"

namespace carechart::access {
class AccessControl;
}  // namespace carechart::access

namespace carechart::rest {

struct ApiOptions {
  // The Organization id of the facility this server records writes for (configuration, never a
  // guess). A request may name another facility with the X-Carechart-Facility header when that
  // Organization exists.
  std::string facility_id;
  std::string facility_name;
  // Public base URL (e.g. "https://ehr.example.org/fhir"); empty: derived from the Host header.
  std::string public_base_url;
  std::string software_version = "0.1.0";
  // The access policy's role table (docs/access-policy.md); null: the shipped default.
  std::shared_ptr<const access::PolicyConfig> access_policy;
};

class FhirApi {
 public:
  FhirApi(store::ResourceStore& store, ApiOptions options);
  ~FhirApi();
  FhirApi(const FhirApi&) = delete;
  FhirApi& operator=(const FhirApi&) = delete;

  // Makes sure the configured facility Organization exists (creates it when absent).
  Status EnsureFacility();

  // Handles a request whose path starts with "/fhir". Thread-safe; blocks on database work, so
  // it runs on the server's worker pool.
  http::Response Handle(const http::Request& request);
  // The same for a request made by `principal` (from its token; see src/auth): the access
  // policy decides what it may see and write, and the audit trail records it. A null principal
  // is the server's own in-process work (not checked, not audited).
  http::Response Handle(const http::Request& request,
                        std::shared_ptr<const auth::Principal> principal);

  // The access policy and audit trail: auth records sign-ins through Access().RecordLogin(),
  // export asks it about every resource it writes out.
  access::AccessControl& Access();

  // A route served by another module (Bulk Data): given the request, the FHIR base URL and the
  // path segments under /fhir, it answers, or returns nullopt to let the FHIR router go on. It
  // runs after content negotiation. Add routes before serving (not thread-safe).
  // `principal` is who asks (null without authentication).
  using ExtraRoute = std::function<std::optional<http::Response>(
      const http::Request&, const std::string& base_url, const std::vector<std::string>& parts,
      const auth::Principal* principal)>;
  void AddRoute(ExtraRoute route);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace carechart::rest
