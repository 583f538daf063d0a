// The FHIR R4 RESTful API (https://hl7.org/fhir/R4/http.html) over a ResourceStore.
#pragma once

#include <memory>
#include <string>

#include "http/message.h"
#include "store/resource_store.h"

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

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace carechart::rest
