// AccessControl and RequestGuard (access_control.h).
#include "access/access_control.h"

#include "access/patient_rules.h"

#include <algorithm>

#include "access/consent.h"
#include "access/facts.h"
#include "fhir/datetime.h"
#include "fhir/definitions.h"
#include "store/search_query.h"

namespace carechart::access {
namespace {

constexpr auto kCacheTtl = std::chrono::seconds(5);
constexpr size_t kMaxAuditedResources = 200;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FacilityValues(const std::vector<std::string>& facilities) {
  std::string out;
  for (const std::string& f : facilities) {
    out += (out.empty() ? "" : ",") + std::string(kFacilityTagSystem) + "|" + f;
  }
  return out;
}

// Where a care relationship is recorded: (type, reference parameter naming the clinician or
// facility). The compartment restriction supplies the patient.
struct RelationshipParam {
  const char* type;
  const char* param;
  const char* target;  // "Practitioner" or "Organization"
};
constexpr RelationshipParam kRelationshipParams[] = {
    {"Encounter", "practitioner", "Practitioner"},
    {"CareTeam", "participant", "Practitioner"},
    {"ServiceRequest", "performer", "Practitioner"},
    {"Task", "owner", "Practitioner"},
    {"Appointment", "practitioner", "Practitioner"},
    {"Encounter", "service-provider", "Organization"},
    {"CareTeam", "participant", "Organization"},
    {"ServiceRequest", "performer", "Organization"},
    {"Task", "owner", "Organization"},
};

void AddUnique(std::vector<std::string>& list, const std::string& value, size_t cap) {
  if (value.empty() || list.size() >= cap ||
      std::find(list.begin(), list.end(), value) != list.end()) {
    return;
  }
  list.push_back(value);
}

}  // namespace

AccessControl::AccessControl(store::ResourceStore& store, PolicyConfig config)
    : store_(store), policy_(std::move(config)), trail_(store) {}

bool AccessControl::Any(const std::string& type,
                        const std::vector<std::pair<std::string, std::string>>& params,
                        const std::string& compartment_patient) {
  auto q = store::ParseSearch(type, params);
  if (!q.ok()) {
    return false;
  }
  q->count = 1;
  q->want_total = false;
  if (!compartment_patient.empty()) {
    q->compartment_type = "Patient";
    q->compartment_id = compartment_patient;
  }
  auto r = store_.Search(*q);
  return r.ok() && !r->matches.empty();
}

bool AccessControl::CareRelationship(const auth::Principal& p, const std::string& patient_id) {
  // Care recorded at one of the user's facilities: an encounter, a care team, a referral, a
  // task or an appointment there.
  if (!p.facility_ids.empty() &&
      Any("",
          {{"_type", "Encounter,CareTeam,ServiceRequest,Task,Appointment"},
           {"_tag", FacilityValues(p.facility_ids)}},
          patient_id)) {
    return true;
  }
  // The user's Practitioner, or one of their facilities, named as participant, performer or
  // owner wherever the record was written.
  for (const RelationshipParam& rp : kRelationshipParams) {
    std::string values;
    if (std::string_view(rp.target) == "Practitioner") {
      if (p.practitioner_id.empty()) {
        continue;
      }
      values = "Practitioner/" + p.practitioner_id;
    } else {
      for (const std::string& f : p.facility_ids) {
        values += (values.empty() ? "" : ",") + std::string("Organization/") + f;
      }
      if (values.empty()) {
        continue;
      }
    }
    if (Any(rp.type, {{rp.param, values}}, patient_id)) {
      return true;
    }
  }
  return false;
}

ConsentRestrictions AccessControl::ConsentOf(const std::string& patient_id) {
  auto q =
      store::ParseSearch("Consent", {{"patient", "Patient/" + patient_id}, {"status", "active"}});
  std::vector<json::Value> consents;
  if (q.ok()) {
    q->count = 100;
    q->want_total = false;
    if (auto r = store_.Search(*q); r.ok()) {
      for (const auto& m : r->matches) {
        if (auto parsed = json::Parse(m.body); parsed.ok()) {
          consents.push_back(std::move(parsed).value());
        }
      }
    }
  }
  return RestrictionsFrom(consents, NowUs());
}

std::optional<EmergencyGrant> AccessControl::OpenGrant(const auth::Principal& p,
                                                       const std::string& patient_id) {
  auto q = store::ParseSearch(
      "Basic", {{"subject", "Patient/" + patient_id},
                {"code", std::string(kAccessCodeSystem) + "|" + kEmergencyAccessCode}});
  if (!q.ok()) {
    return std::nullopt;
  }
  q->count = 100;
  q->want_total = false;
  auto r = store_.Search(*q);
  if (!r.ok()) {
    return std::nullopt;
  }
  int64_t now = NowUs();
  std::string holder = GrantHolder(p);
  for (const auto& m : r->matches) {
    auto parsed = json::Parse(m.body);
    if (!parsed.ok()) {
      continue;
    }
    auto g = ParseGrant(*parsed);
    if (g && g->user == holder && g->start_us <= now && now < g->end_us) {
      return g;
    }
  }
  return std::nullopt;
}

StatusOr<std::vector<store::ResourceVersion>> AccessControl::PendingGrants() {
  ASSIGN_OR_RETURN(
      store::SearchQuery q,
      store::ParseSearch("Basic",
                         {{"code", std::string(kAccessCodeSystem) + "|" + kEmergencyAccessCode},
                          {"_tag", std::string(kReviewTagSystem) + "|pending"},
                          {"_sort", "_lastUpdated"}}));
  q.count = 1000;
  q.want_total = false;
  ASSIGN_OR_RETURN(store::SearchResult r, store_.Search(q));
  return std::move(r.matches);
}

PatientFacts AccessControl::FactsFor(const auth::Principal& p, const std::string& patient_id) {
  auto key = std::make_pair(GrantHolder(p) + "\x1f" + std::string(RoleName(p.role)), patient_id);
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end() && it->second.expires > now) {
      PatientFacts f = it->second.facts;
      f.emergency_grant = f.emergency_grant && NowUs() < f.emergency_grant_end_us;  // expiry
      return f;
    }
  }
  PatientFacts f;
  f.care_relationship = CareRelationship(p, patient_id);
  if (auto grant = OpenGrant(p, patient_id)) {
    f.emergency_grant = true;
    f.emergency_grant_end_us = grant->end_us;
  }
  f.consent = ConsentOf(patient_id);
  std::lock_guard lock(mu_);
  if (cache_.size() > 10000) {
    cache_.clear();  // bounded; entries live seconds anyway
  }
  cache_[key] = {f, now + kCacheTtl};
  return f;
}

void AccessControl::Invalidate(const std::string& patient_id) {
  std::lock_guard lock(mu_);
  std::erase_if(cache_, [&](const auto& e) { return e.first.second == patient_id; });
}

void AccessControl::RecordLogin(const std::string& user_id, const std::string& remote_address,
                                bool success, const std::string& detail) {
  AuditRecord r;
  r.type_code = "110114";  // DICOM: User Authentication
  r.subtype = "110122";    // Login; the outcome (0 or 4) tells success from failure
  r.action = 'E';
  r.outcome = success ? 0 : 4;
  r.outcome_desc = detail;
  r.user_id = user_id;
  r.remote_address = remote_address;
  trail_.Record(std::move(r));
}

RequestGuard::RequestGuard(AccessControl* control, std::shared_ptr<const auth::Principal> who,
                           std::string facility_id, std::string remote_address)
    : control_(control), who_(std::move(who)), facility_id_(std::move(facility_id)) {
  if (!enforced()) {
    return;
  }
  audit_.who = who_;
  audit_.facility_id = facility_id_;
  audit_.remote_address = remote_address.empty() ? who_->remote_address : remote_address;
  scope_ = std::make_unique<RequestAuditScope>(&audit_);
  deidentify_ = control_->policy().RoleOf(*who_).deidentify;
  Reach reach = control_->policy().RoleOf(*who_).reach;
  patient_view_ = reach == Reach::kOwn || reach == Reach::kProxy;
}

RequestGuard::~RequestGuard() {
  if (control_ == nullptr) {
    return;
  }
  for (const std::string& pid : written_patients_) {
    control_->Invalidate(pid);
  }
}

bool RequestGuard::reaches_everyone() const {
  return !enforced() || control_->policy().RoleOf(*who_).reach == Reach::kAll;
}

std::string RequestGuard::emergency_note() const {
  return consent_overridden_ ? "emergency access (break-the-glass) overrode the patient's consent"
                             : "emergency access (break-the-glass)";
}

Status RequestGuard::Deny(Action action, const std::string& type, const std::string& id,
                          const std::string& why) {
  denied_ = true;
  AuditRecord r;
  r.action = action == Action::kCreate   ? 'C'
             : action == Action::kUpdate ? 'U'
             : action == Action::kDelete ? 'D'
                                         : 'R';
  r.subtype = std::string(ActionName(action));
  if (r.subtype == "$everything" || r.subtype == "export") {
    r.subtype = "operation";
  } else if (r.subtype == "search") {
    r.subtype = "search-type";
  }
  r.outcome = 4;
  r.outcome_desc = "denied: " + why;
  r.who = who_;
  r.facility_id = facility_id_;
  r.remote_address = audit_.remote_address;
  if (!type.empty()) {
    r.resources.push_back(id.empty() ? type : type + "/" + id);
  }
  r.patient_ids = patients_;
  control_->trail().Record(std::move(r));
  return {StatusCode::kForbidden, why};
}

Status RequestGuard::DenyOperation(const std::string& operation, const std::string& reference,
                                   const std::string& why) {
  if (!enforced()) {
    return {StatusCode::kForbidden, why};
  }
  denied_ = true;
  AuditRecord r;
  r.action = 'E';
  r.subtype = "operation";
  r.outcome = 4;
  r.outcome_desc = "denied " + operation + ": " + why;
  r.who = who_;
  r.facility_id = facility_id_;
  r.remote_address = audit_.remote_address;
  if (!reference.empty()) {
    r.resources.push_back(reference);
    if (reference.starts_with("Patient/")) {
      r.patient_ids.push_back(reference.substr(8));
    }
  }
  control_->trail().Record(std::move(r));
  return {StatusCode::kForbidden, why};
}

void RequestGuard::NoteEmergencyGrant(const std::string& patient_id,
                                      const std::string& grant_reference,
                                      const std::string& reason) {
  emergency_ = true;
  audit_.emergency = true;
  audit_.emergency_reason = "opened: " + reason;
  AddUnique(patients_, patient_id, kMaxAuditedResources);
  AddUnique(resources_, grant_reference, kMaxAuditedResources);
}

Status RequestGuard::CheckType(Action action, const std::string& type) {
  if (!enforced()) {
    return Status::Ok();
  }
  Decision d = control_->policy().DecideType(*who_, action, type);
  if (!d.allowed) {
    return Deny(action, type, "", d.reason);
  }
  return Status::Ok();
}

Status RequestGuard::Apply(Action action, const ResourceFacts& facts) {
  const Policy& policy = control_->policy();
  PatientFacts patient;
  if (policy.NeedsPatientFacts(*who_, facts)) {
    patient = control_->FactsFor(*who_, facts.patient_id);
  }
  Decision d = policy.Decide(*who_, action, facts, patient);
  if (!d.allowed) {
    return Deny(action, facts.type, facts.id, d.reason);
  }
  if (d.emergency) {
    emergency_ = true;
    audit_.emergency = true;
    consent_overridden_ = consent_overridden_ || d.consent_overridden;
    audit_.emergency_reason = d.reason;
  }
  AddUnique(patients_, facts.patient_id, kMaxAuditedResources);
  if (!facts.id.empty()) {
    AddUnique(resources_, facts.type + "/" + facts.id, kMaxAuditedResources);
  }
  return Status::Ok();
}

Status RequestGuard::Check(Action action, const json::Value& resource) {
  if (!enforced()) {
    return Status::Ok();
  }
  return Apply(action, FactsOf(resource, control_->policy().config()));
}

Status RequestGuard::CheckStored(Action action, const store::ResourceVersion& v) {
  if (!enforced()) {
    return Status::Ok();
  }
  if (v.deleted || v.body.empty()) {
    // Nothing to read; whether the id existed is all it tells. Roles reaching everyone see it.
    if (control_->policy().RoleOf(*who_).reach == Reach::kAll) {
      return Status::Ok();
    }
    return CheckType(action, v.type);
  }
  auto facts = FactsOfStored(v.type, v.body, control_->policy().config());
  if (!facts.ok()) {
    return Deny(action, v.type, v.id, "the stored resource could not be read");
  }
  return Apply(action, *facts);
}

Status RequestGuard::CheckWrite(Action action, const json::Value& resource) {
  if (!enforced()) {
    return Status::Ok();
  }
  ResourceFacts facts = FactsOf(resource, control_->policy().config());
  facts.facility_id = facility_id_;  // the version will be stamped with the request's facility
  if (patient_view_) {
    // Patients and proxies write only about themselves (patient_rules.h).
    if (Status s = CheckPatientWrite(Policy::OwnPatients(*who_), resource); !s.ok()) {
      return Deny(action, facts.type, facts.id, s.message());
    }
  }
  if (facts.type == "Consent" || facts.type == "Basic") {
    if (!facts.patient_id.empty()) {
      written_patients_.insert(facts.patient_id);
    }
  }
  return Apply(action, facts);
}

void RequestGuard::RestrictSearch(store::SearchQuery& query) {
  if (!enforced()) {
    return;
  }
  const Policy& policy = control_->policy();
  const RolePolicy& role = policy.RoleOf(*who_);
  switch (role.reach) {
    case Reach::kAll:
      exact_search_ = true;
      return;
    case Reach::kOwn:
    case Reach::kProxy: {
      auto own = Policy::OwnPatients(*who_);
      if (own.size() == 1 && query.compartment_type.empty() && !query.type.empty() &&
          (query.type == "Patient" || !fhir::PatientCompartmentParams(query.type).empty())) {
        // The patient's own compartment: a plain restriction the search compiler applies.
        query.compartment_type = "Patient";
        query.compartment_id = own.front();
        query.include_owner = query.type == "Patient";
        exact_search_ = query.include_specs.empty();
        return;
      }
      exact_search_ = false;
      return;
    }
    case Reach::kFacility:
      if (!query.type.empty() && !policy.config().reference_types.contains(query.type) &&
          !who_->facility_ids.empty()) {
        // Only the user's facilities' data: an extra _tag condition in the same statement.
        store::SearchClause c;
        c.param = "_tag";
        c.type = fhir::SearchParamType::kToken;
        for (const std::string& f : who_->facility_ids) {
          store::SearchValue v;
          v.raw = std::string(kFacilityTagSystem) + "|" + f;
          v.has_system = true;
          v.system = kFacilityTagSystem;
          v.code = f;
          c.values.push_back(std::move(v));
        }
        query.clauses.push_back(std::move(c));
        exact_search_ = query.include_specs.empty();
        return;
      }
      exact_search_ = false;
      return;
    case Reach::kCare:
    case Reach::kRelated:
      exact_search_ = false;
      return;
  }
}

bool RequestGuard::Visible(Action action, store::ResourceVersion& v) {
  if (!enforced()) {
    return true;
  }
  if (v.deleted) {
    return reaches_everyone();
  }
  const Policy& policy = control_->policy();
  const std::string* stored_patient = v.patient_id ? &*v.patient_id : nullptr;
  if (stored_patient != nullptr && policy.DecidesOnTypeAlone(*who_, action, v.type)) {
    // Nothing in the body can change the decision, and the store read the patient the audit
    // entry names: the body is not parsed at all (decisions D55).
    if (!policy.DecideType(*who_, action, v.type).allowed) {
      return false;
    }
    AddUnique(patients_, *stored_patient, kMaxAuditedResources);
    if (resources_.size() < kMaxAuditedResources) {
      AddUnique(resources_, v.type + "/" + v.id, kMaxAuditedResources);
    }
    return true;
  }
  // Only the members the decision reads are parsed (FactsOfStored), and the coded elements
  // only when the patient's consent restricts a sensitivity category; the whole body only when
  // it is rewritten below. The patient comes from the store when it read it.
  auto stored_facts =
      FactsOfStored(v.type, v.body, policy.config(), /*code_sensitivity=*/false, stored_patient);
  if (!stored_facts.ok()) {
    return false;
  }
  PatientFacts patient;
  if (policy.NeedsPatientFacts(*who_, *stored_facts)) {
    patient = control_->FactsFor(*who_, stored_facts->patient_id);
    if (!patient.consent.categories.empty()) {
      stored_facts =
          FactsOfStored(v.type, v.body, policy.config(), /*code_sensitivity=*/true, stored_patient);
      if (!stored_facts.ok()) {
        return false;
      }
    }
  }
  const ResourceFacts& facts = *stored_facts;
  Decision d = policy.Decide(*who_, action, facts, patient);
  if (!d.allowed) {
    return false;
  }
  if (d.emergency) {
    emergency_ = true;
    audit_.emergency = true;
    consent_overridden_ = consent_overridden_ || d.consent_overridden;
  }
  AddUnique(patients_, facts.patient_id, kMaxAuditedResources);
  if (resources_.size() < kMaxAuditedResources) {
    AddUnique(resources_, facts.type + "/" + facts.id, kMaxAuditedResources);
  }
  if (deidentify_ || (patient_view_ && facts.type == "AuditEvent")) {
    auto parsed = json::Parse(v.body);
    if (!parsed.ok()) {
      return false;
    }
    if (deidentify_) {
      Deidentify(*parsed);
      v.body = json::Write(*parsed);
    } else if (RedactAuditEventForPatient(Policy::OwnPatients(*who_), *parsed)) {
      v.body = json::Write(*parsed);
    }
  }
  return true;
}

int RequestGuard::FilterResult(store::SearchResult& result, Action action) {
  if (!enforced()) {
    return 0;
  }
  size_t before = result.matches.size() + result.included.size();
  std::erase_if(result.matches, [&](store::ResourceVersion& v) { return !Visible(action, v); });
  std::erase_if(result.included, [&](store::ResourceVersion& v) { return !Visible(action, v); });
  return static_cast<int>(before - result.matches.size() - result.included.size());
}

std::string RequestGuard::Render(const std::string& stored_body) {
  if (!enforced() || !rewrites_bodies()) {
    return stored_body;
  }
  auto parsed = json::Parse(stored_body);
  if (!parsed.ok()) {
    return stored_body;
  }
  if (deidentify_) {
    Deidentify(*parsed);
  } else if (parsed->string_at("resourceType") != "AuditEvent" ||
             !RedactAuditEventForPatient(Policy::OwnPatients(*who_), *parsed)) {
    return stored_body;
  }
  return json::Write(*parsed);
}

void RequestGuard::AuditAccess(char action, const std::string& subtype, const std::string& query,
                               int http_status) {
  if (!enforced() || denied_) {
    return;  // denials were audited when they happened
  }
  AuditRecord r;
  r.action = action;
  r.subtype = subtype;
  r.outcome = http_status < 400 ? 0 : 4;
  if (http_status >= 400) {
    r.outcome_desc = "HTTP " + std::to_string(http_status);
  }
  r.who = who_;
  r.facility_id = facility_id_;
  r.remote_address = audit_.remote_address;
  r.patient_ids = patients_;
  r.resources = resources_;
  r.query = query;
  r.emergency = emergency_;
  r.emergency_reason = audit_.emergency_reason;
  control_->trail().Record(std::move(r));
}

}  // namespace carechart::access
