// The access policy at work: gathers facts from the store (care relationships, consents,
// break-the-glass grants) for Policy, and guards one request at a time (RequestGuard).
//
// The REST layer holds one AccessControl per server and one RequestGuard per request; every
// place that returns or writes a resource asks the guard (docs/access-policy.md lists them).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "access/audit.h"
#include "access/break_glass.h"
#include "access/policy.h"
#include "fhir/json.h"
#include "store/resource_store.h"

namespace carechart::access {

class AccessControl {
 public:
  // `store` is the real store (policy look-ups are not audited accesses).
  AccessControl(store::ResourceStore& store, PolicyConfig config);

  const Policy& policy() const { return policy_; }
  AuditTrail& trail() { return trail_; }

  // What `p` knows about Patient/`patient_id`: care relationship, open grant, consent. Cached
  // for a few seconds per (principal, patient); writes of grants and consents invalidate.
  PatientFacts FactsFor(const auth::Principal& p, const std::string& patient_id);
  void Invalidate(const std::string& patient_id);

  // The grant `p` holds for the patient now, if any.
  std::optional<EmergencyGrant> OpenGrant(const auth::Principal& p, const std::string& patient_id);
  // Every grant resource of the review queue (pending review), oldest first.
  StatusOr<std::vector<store::ResourceVersion>> PendingGrants();

  // Login events for the auth module: call on every successful and failed sign-in.
  void RecordLogin(const std::string& user_id, const std::string& remote_address, bool success,
                   const std::string& detail);

 private:
  bool CareRelationship(const auth::Principal& p, const std::string& patient_id);
  ConsentRestrictions ConsentOf(const std::string& patient_id);
  bool Any(const std::string& type, const std::vector<std::pair<std::string, std::string>>& params,
           const std::string& compartment_patient);

  store::ResourceStore& store_;
  Policy policy_;
  AuditTrail trail_;
  struct Cached {
    PatientFacts facts;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Cached> cache_;  // (holder, patient) -> facts
};

// One request's view of the policy. Unenforced (every check passes, nothing audited) when there
// is no principal: in-process callers (import, HL7 feeds, start-up, unit tests of other modules).
class RequestGuard {
 public:
  RequestGuard(AccessControl* control, std::shared_ptr<const auth::Principal> who,
               std::string facility_id, std::string remote_address);
  ~RequestGuard();
  RequestGuard(const RequestGuard&) = delete;
  RequestGuard& operator=(const RequestGuard&) = delete;

  bool enforced() const { return control_ != nullptr && who_ != nullptr; }
  const auth::Principal* who() const { return who_.get(); }
  AccessControl* control() const { return control_; }

  // The role may `action` resources of `type` at all. kForbidden naming the rule otherwise
  // (and the denial is audited).
  Status CheckType(Action action, const std::string& type);
  // May this resource be touched? kForbidden otherwise (audited). Records the resource and its
  // patient for the request's audit entry, and whether emergency access was needed.
  Status Check(Action action, const json::Value& resource);
  Status CheckStored(Action action, const store::ResourceVersion& version);
  // A resource about to be created or updated: its facility is the request's.
  Status CheckWrite(Action action, const json::Value& resource);

  // Search: narrows `query` where the restriction is a plain AND (docs: "Search"), and tells
  // whether the narrowing is exact (no row of a page will be dropped afterwards).
  void RestrictSearch(store::SearchQuery& query);
  bool exact_search() const { return exact_search_; }
  // Drops the matches and included resources this principal may not see; de-identifies the
  // rest when the role says so. Returns how many were dropped.
  int FilterResult(store::SearchResult& result, Action action);
  // One resource of a list (search, history): may it be listed? No denial is audited (leaving
  // a row out is not a denied request); the body is de-identified when the role says so.
  bool Visible(Action action, store::ResourceVersion& version);
  // The body to serve for a stored resource (de-identified for researchers).
  std::string Render(const std::string& stored_body);
  bool deidentify() const { return deidentify_; }
  // Render() may change bodies: de-identification, or audit events redacted for a patient.
  bool rewrites_bodies() const { return deidentify_ || patient_view_; }
  // The role reaches every patient and facility (no row of a result is ever withheld for reach).
  bool reaches_everyone() const;

  // An operation the caller may not use (audited like every denial).
  Status DenyOperation(const std::string& operation, const std::string& reference,
                       const std::string& why);
  // This request opened a break-the-glass grant: its audit entry names the patient, the grant
  // and the reason, and the response is flagged.
  void NoteEmergencyGrant(const std::string& patient_id, const std::string& grant_reference,
                          const std::string& reason);

  bool emergency_used() const { return emergency_; }
  bool consent_overridden() const { return consent_overridden_; }
  std::string emergency_note() const;

  // Writes the request's AuditEvent (reads, searches, operations; writes are audited in their
  // own transaction by AuditedStore). `subtype`: read, vread, search-type, operation ...
  void AuditAccess(char action, const std::string& subtype, const std::string& query,
                   int http_status);

 private:
  Status Deny(Action action, const std::string& type, const std::string& id,
              const std::string& why);
  Status Apply(Action action, const ResourceFacts& facts);

  AccessControl* control_;
  std::shared_ptr<const auth::Principal> who_;
  std::string facility_id_;
  RequestAudit audit_;
  std::unique_ptr<RequestAuditScope> scope_;
  bool deidentify_ = false;
  bool patient_view_ = false;  // a patient or proxy (reach own/proxy): patient_rules.h
  bool exact_search_ = true;
  bool emergency_ = false;
  bool consent_overridden_ = false;
  bool denied_ = false;
  std::vector<std::string> patients_;   // compartments touched
  std::vector<std::string> resources_;  // resources touched (capped)
  std::set<std::string> written_patients_;
};

}  // namespace carechart::access
