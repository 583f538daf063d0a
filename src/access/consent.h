// Patients' sharing restrictions from FHIR Consent resources (docs/access-policy.md, "Consent").
//
// The profile Carechart enforces (a subset of R4 Consent, scope patient-privacy):
//   status = active, patient = Patient/<id>, provision.period (when given) covers now;
//   every provision (top level or nested, at any depth) of type "deny":
//     - with securityLabel codings (PSY, ETH/SUD, HIV, SEX/STD ...): those sensitive categories
//       are not shared outside the facility that recorded them;
//     - without securityLabel: the whole record is not shared outside the recording facility;
//     - with purpose ETREAT: the restriction holds even in emergencies (break-the-glass may not
//       override it).
// A permit provision adds nothing (sharing is the default in EHR mode).
#pragma once

#include <cstdint>
#include <vector>

#include "access/policy.h"
#include "fhir/json.h"

namespace carechart::access {

// The restrictions of the given Consent resources (of one patient) at instant `now_us`.
ConsentRestrictions RestrictionsFrom(const std::vector<json::Value>& consents, int64_t now_us);

}  // namespace carechart::access
