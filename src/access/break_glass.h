// Break-the-glass grants (docs/access-policy.md, "Emergency access").
//
// A grant is stored as a Basic resource written by the server:
//   code      https://carechart.dev/fhir/CodeSystem/access|emergency-access
//   subject   Patient/<id>  (so the grant is in the patient's compartment: they can see it)
//   author    the clinician's Practitioner, when linked
//   meta.tag  https://carechart.dev/fhir/CodeSystem/emergency-access-review|pending (or
//             reviewed): the privacy officer's queue is a search on this tag
//   extension https://carechart.dev/fhir/StructureDefinition/emergency-access with sub-extensions
//             user, role, reason, start, end (valueInstant), and after review reviewedBy,
//             reviewedAt, reviewNote.
// Access closes by itself: a grant counts only while start <= now < end, checked per request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "auth/principal.h"
#include "fhir/json.h"

namespace carechart::access {

inline constexpr const char* kAccessCodeSystem = "https://carechart.dev/fhir/CodeSystem/access";
inline constexpr const char* kEmergencyAccessCode = "emergency-access";
inline constexpr const char* kReviewTagSystem =
    "https://carechart.dev/fhir/CodeSystem/emergency-access-review";
inline constexpr const char* kEmergencyExtension =
    "https://carechart.dev/fhir/StructureDefinition/emergency-access";
// The response header set on every response an emergency grant enabled.
inline constexpr const char* kEmergencyHeader = "X-Carechart-Emergency-Access";

struct EmergencyGrant {
  std::string id;
  std::string patient_id;
  std::string user;  // user id (or client id) the grant is for
  std::string reason;
  int64_t start_us = 0;
  int64_t end_us = 0;
  bool reviewed = false;
};

// The user a grant is recorded for: the user id, else "client:<client id>".
std::string GrantHolder(const auth::Principal& p);

// A new grant resource (without id and meta; the server stamps them).
json::Value NewGrantResource(const auth::Principal& p, const std::string& patient_id,
                             const std::string& reason, int64_t start_us, int64_t end_us);

// Reads a grant resource; nullopt when it is not one.
std::optional<EmergencyGrant> ParseGrant(const json::Value& basic);

// Marks a grant reviewed: sets the review tag and the reviewer sub-extensions.
void MarkReviewed(json::Value& basic, const auth::Principal& reviewer, const std::string& note,
                  int64_t now_us);

}  // namespace carechart::access
