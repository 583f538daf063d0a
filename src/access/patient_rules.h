// What patients and proxies (roles with reach `own`/`proxy`) may write, beyond the role table,
// and what they see of the audit trail. See docs/access-policy.md, "Patients and proxies".
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "fhir/json.h"

namespace carechart::access {

// A write by a patient or proxy whose own records are `own` (Patient ids): kForbidden naming
// the rule when the resource refers to any other Patient (wherever the reference sits: subject,
// sender, recipient, participant ...), or when it is an Appointment whose status is not a
// request (proposed, pending) or a cancellation, or a Task that is not a request (requested,
// cancelled). Booking into a free Slot is the server's `Appointment/$book`.
Status CheckPatientWrite(const std::vector<std::string>& own, const json::Value& resource);

// An AuditEvent as a patient or proxy may see it: entities naming other patients, and the
// resources and query of an event that touched other patients too, are removed (labelled
// REDACTED), so "who looked at my record" never shows another patient's data. True when it
// changed the event.
bool RedactAuditEventForPatient(const std::vector<std::string>& own, json::Value& event);

}  // namespace carechart::access
