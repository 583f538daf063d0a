// Who is making a request: decided once per request by the auth module (src/auth, tokens and
// sessions) and then read by the access policy (src/access), the audit trail and the handlers.
// Header-only and light on purpose: every module may include it.
#pragma once

#include <string>
#include <vector>

namespace carechart::auth {

// The roles of the Security issue. kBackendService is a SMART backend client acting as itself
// (client credentials); kSystem is the server's own work (imports, HL7 feeds, unit tests).
enum class Role {
  kPhysician,
  kNurse,
  kFrontDesk,
  kBilling,
  kLab,
  kPharmacist,
  kPrivacyOfficer,
  kResearcher,
  kAdministrator,
  kPatient,
  kProxy,
  kBackendService,
  kSystem,
};

struct Principal {
  Role role = Role::kSystem;
  std::string user_id;    // Carechart user id; empty for backend services and kSystem
  std::string client_id;  // OAuth client the token was issued to
  std::string display;    // for audit entries and the UI ("Dr Ana Ruiz")
  std::vector<std::string> facility_ids;       // Organization ids the user works for
  std::string practitioner_id;                 // the user's Practitioner, when clinical
  std::string patient_id;                      // a patient user's own Patient, or launch/patient
  std::vector<std::string> proxy_patient_ids;  // Patients a proxy may act for
  std::vector<std::string> scopes;             // SMART v2 scopes granted to the token
  std::string token_id;                        // jti, for revocation and audit
  std::string remote_address;                  // client address, for audit
  std::string purpose_of_use;                  // e.g. "TREAT", "ETREAT" (break-the-glass)
};

}  // namespace carechart::auth
