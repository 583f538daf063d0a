// The access policy: which resources a principal may see and write (docs/access-policy.md).
//
// The model, in one paragraph: every role has a row in the role table (default_policy.json,
// replaceable by configuration) naming the resource types it may read and write and its reach —
// which patients and facilities its users may touch. A decision about one resource combines the
// row with facts about the resource (type, recording facility, patient compartment, sensitivity)
// and facts about the patient as seen by this principal (care relationship, consent, an open
// break-the-glass grant). Nothing here reads the store: AccessControl (access_control.h) gathers
// the facts; this file only decides, so every rule is unit-testable from a table.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"
#include "auth/roles.h"
#include "core/status.h"

namespace carechart::access {

// The system of the meta.tag recording the facility a version was written at (decision D2).
inline constexpr const char* kFacilityTagSystem = "https://carechart.dev/fhir/CodeSystem/facility";
// The system of the meta.tag recording who wrote a version.
inline constexpr const char* kAuthorTagSystem = "https://carechart.dev/fhir/CodeSystem/recorded-by";

enum class Mode { kEhr, kEmr };

// Which patients a role's users reach.
enum class Reach {
  kAll,       // every patient at every facility (researchers de-identified, privacy officers)
  kCare,      // EHR: own facilities' data, plus the whole record of patients they care for;
              // EMR: own facilities' data only
  kFacility,  // own facilities' data only (both modes)
  kRelated,   // only patients they have a care relationship with (administrators)
  kOwn,       // a patient: their own compartment
  kProxy,     // a proxy: the compartments of the patients they act for
};

enum class Action { kRead, kSearch, kCreate, kUpdate, kDelete, kEverything, kExport };
std::string_view ActionName(Action a);

// A set of resource types as the role table writes it: "*" (every type except the ones that are
// only granted by name, such as AuditEvent), "Type", "-Type" (an exception to "*"), and
// "Type#category" (only resources carrying that category code, e.g. Observation#vital-signs).
class TypeSet {
 public:
  static StatusOr<TypeSet> Parse(const std::vector<std::string>& entries, std::string_view where);
  // `categories`: the category codes of the resource (empty when unknown, e.g. type checks).
  bool Contains(std::string_view type, const std::vector<std::string>* categories) const;
  bool ContainsType(std::string_view type) const { return Contains(type, nullptr); }
  // True when the type is listed by name (not only through "*").
  bool Names(std::string_view type) const { return named_.contains(type); }
  // True when only some categories of the type are in the set (Observation#vital-signs).
  bool LimitsCategories(std::string_view type) const {
    auto it = named_.find(type);
    return it != named_.end() && !it->second.empty();
  }

 private:
  bool all_ = false;
  std::set<std::string, std::less<>> excluded_;
  std::map<std::string, std::vector<std::string>, std::less<>> named_;  // type -> categories
};

struct RolePolicy {
  TypeSet read;
  TypeSet write;
  Reach reach = Reach::kFacility;
  bool deidentify = false;          // responses pass through Deidentify() (researchers)
  bool break_glass = false;         // may open emergency access
  bool review_break_glass = false;  // privacy officers: the review queue
};

// Sensitivity of a resource, by security label or code: "PSY", "ETH", "HIV", "SEX" ...
struct SensitivityRule {
  std::string category;  // the v3-ActCode the rule stands for
  std::string system;    // code system; empty: any
  std::vector<std::string> code_prefixes;
};

struct PolicyConfig {
  Mode mode = Mode::kEhr;
  int64_t emergency_access_seconds = 4 * 3600;
  // What an open break-the-glass grant may override of a patient's consent: "facility" (a
  // whole-record restriction to the recording facility) and sensitivity categories.
  std::set<std::string, std::less<>> emergency_overrides;
  // Types every staff role with "*" read may read at any facility: directory data, not patient
  // data (Practitioner, Organization, Location, Medication ...).
  std::set<std::string, std::less<>> reference_types;
  // Types that "*" does not grant (AuditEvent ...): a role must name them.
  std::set<std::string, std::less<>> named_only_types;
  std::map<auth::Role, RolePolicy> roles;
  std::vector<SensitivityRule> sensitivity;
};

// Parses the role table (default_policy.json's format). Errors name the JSON path.
StatusOr<PolicyConfig> ParsePolicyConfig(std::string_view json_text);
// The shipped table (src/access/default_policy.json, embedded at build time).
const PolicyConfig& DefaultPolicyConfig();
std::string_view DefaultPolicyJson();

// The role names of the table are auth's ("physician", "front-desk" ...: auth/roles.h).
using auth::RoleName;

// What the policy needs to know about one resource version.
struct ResourceFacts {
  std::string type;
  std::string id;
  std::string facility_id;              // from meta.tag (kFacilityTagSystem); may be empty
  std::string patient_id;               // compartment owner (a Patient: itself); may be empty
  std::vector<std::string> categories;  // category codes (Observation#vital-signs rules)
  std::set<std::string, std::less<>> sensitivity;  // "PSY", "HIV" ... (labels and codes)
};

// A patient's sharing restrictions, from their active Consent resources (consent.h).
struct ConsentRestrictions {
  bool whole_record = false;  // data is shared only with the facility that recorded it
  std::set<std::string, std::less<>> categories;  // sensitive categories kept at their facility
  // Restrictions a break-the-glass grant may not override (the consent says so).
  bool whole_record_binding_in_emergency = false;
  std::set<std::string, std::less<>> categories_binding_in_emergency;
  std::vector<std::string> consent_ids;  // for the response's explanation
};

// What the policy knows about the patient a resource belongs to, as seen by one principal.
struct PatientFacts {
  bool care_relationship = false;
  bool emergency_grant = false;        // an open break-the-glass grant of this principal
  int64_t emergency_grant_end_us = 0;  // when it closes
  ConsentRestrictions consent;
};

struct Decision {
  bool allowed = false;
  bool emergency = false;           // allowed only because of a break-the-glass grant
  bool consent_overridden = false;  // ... and that grant overrode a consent restriction
  bool deidentify = false;          // serve the de-identified form
  std::string reason;               // why not (or how), for OperationOutcomes and audit
};

class Policy {
 public:
  explicit Policy(PolicyConfig config) : config_(std::move(config)) {}
  const PolicyConfig& config() const { return config_; }
  const RolePolicy& RoleOf(const auth::Principal& p) const;

  // May `p` do `action` on the type at all (before looking at any resource)? Search and
  // $everything are reads of the resources they return.
  Decision DecideType(const auth::Principal& p, Action action, std::string_view type) const;

  // May `p` do `action` on this resource? `patient` describes resource.patient_id as seen by
  // `p` (ignored when the resource belongs to no patient). For a create or update, `facts` are
  // those of the new version (its facility is the request's facility).
  Decision Decide(const auth::Principal& p, Action action, const ResourceFacts& facts,
                  const PatientFacts& patient) const;

  // True when Decide(p, action, facts, ...) for a resource of `type` is DecideType(p, action,
  // type) whatever else the facts say: reads by roles that reach every patient, are not
  // de-identified, and may read every category of the type. The body need not be read then.
  bool DecidesOnTypeAlone(const auth::Principal& p, Action action, std::string_view type) const;

  // Does deciding about this patient for `p` need PatientFacts (a store lookup)? False when the
  // answer is the same for every patient (an own-facility resource of a kFacility role ...).
  bool NeedsPatientFacts(const auth::Principal& p, const ResourceFacts& facts) const;

  // True when the principal's own patients are the only ones it reaches (patients, proxies).
  static std::vector<std::string> OwnPatients(const auth::Principal& p);

 private:
  bool AtOwnFacility(const auth::Principal& p, const ResourceFacts& facts) const;
  Decision ApplyConsent(const auth::Principal& p, const ResourceFacts& facts,
                        const PatientFacts& patient, Decision d) const;

  PolicyConfig config_;
};

}  // namespace carechart::access
