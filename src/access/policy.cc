// Policy decisions (the model is described in policy.h and docs/access-policy.md).
#include "access/policy.h"

#include <algorithm>

namespace carechart::access {

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kRead:
      return "read";
    case Action::kSearch:
      return "search";
    case Action::kCreate:
      return "create";
    case Action::kUpdate:
      return "update";
    case Action::kDelete:
      return "delete";
    case Action::kEverything:
      return "$everything";
    case Action::kExport:
      return "export";
  }
  return "?";
}

namespace {

bool IsWrite(Action a) {
  return a == Action::kCreate || a == Action::kUpdate || a == Action::kDelete;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

Decision Deny(std::string reason) {
  return Decision{false, false, false, false, std::move(reason)};
}
Decision Allow(std::string reason = {}) {
  return Decision{true, false, false, false, std::move(reason)};
}

std::string Who(const auth::Principal& p) {
  std::string who(RoleName(p.role));
  if (!p.user_id.empty()) {
    who += " " + p.user_id;
  } else if (!p.client_id.empty()) {
    who += " client " + p.client_id;
  }
  return who;
}

}  // namespace

bool TypeSet::Contains(std::string_view type, const std::vector<std::string>* categories) const {
  if (auto it = named_.find(type); it != named_.end()) {
    if (it->second.empty() || categories == nullptr) {
      return true;  // a type-level check: some resources of the type are allowed
    }
    for (const std::string& c : it->second) {
      if (access::Contains(*categories, c)) {
        return true;
      }
    }
    return false;
  }
  return all_ && !excluded_.contains(type);
}

StatusOr<TypeSet> TypeSet::Parse(const std::vector<std::string>& entries, std::string_view where) {
  TypeSet out;
  for (const std::string& e : entries) {
    if (e == "*") {
      out.all_ = true;
    } else if (e.starts_with("-")) {
      out.excluded_.insert(e.substr(1));
    } else if (auto hash = e.find('#'); hash != std::string::npos) {
      out.named_[e.substr(0, hash)].push_back(e.substr(hash + 1));
    } else if (!e.empty()) {
      out.named_[e].clear();  // the whole type
    } else {
      return InvalidError(std::string(where) + ": empty type entry");
    }
  }
  return out;
}

const RolePolicy& Policy::RoleOf(const auth::Principal& p) const {
  static const RolePolicy kNothing;
  auto it = config_.roles.find(p.role);
  return it == config_.roles.end() ? kNothing : it->second;
}

std::vector<std::string> Policy::OwnPatients(const auth::Principal& p) {
  if (p.role == auth::Role::kPatient) {
    return p.patient_id.empty() ? std::vector<std::string>{} : std::vector{p.patient_id};
  }
  if (p.role == auth::Role::kProxy) {
    return p.proxy_patient_ids;
  }
  return {};
}

bool Policy::AtOwnFacility(const auth::Principal& p, const ResourceFacts& facts) const {
  return !facts.facility_id.empty() && Contains(p.facility_ids, facts.facility_id);
}

Decision Policy::DecideType(const auth::Principal& p, Action action, std::string_view type) const {
  const RolePolicy& role = RoleOf(p);
  bool write = IsWrite(action);
  bool listed = write ? role.write.ContainsType(type) : role.read.ContainsType(type);
  if (!write && !listed && config_.reference_types.contains(type) && role.read.ContainsType("*")) {
    listed = true;
  }
  if (listed && config_.named_only_types.contains(type)) {
    listed = (write ? role.write : role.read).Names(type);  // "*" never grants these
  }
  if (!listed) {
    return Deny(Who(p) + " may not " + std::string(ActionName(action)) + " " + std::string(type) +
                " resources (role table: " + std::string(RoleName(p.role)) +
                (write ? ".write)" : ".read)"));
  }
  Decision d = Allow();
  d.deidentify = role.deidentify && !write;
  return d;
}

bool Policy::DecidesOnTypeAlone(const auth::Principal& p, Action action,
                                std::string_view type) const {
  const RolePolicy& role = RoleOf(p);
  // Decide() for a read by a kAll role: DecideType, then the categories the role may read of
  // the type (unless it is a reference type), and nothing else.
  return !IsWrite(action) && role.reach == Reach::kAll && !role.deidentify &&
         (config_.reference_types.contains(type) || !role.read.LimitsCategories(type));
}

bool Policy::NeedsPatientFacts(const auth::Principal& p, const ResourceFacts& facts) const {
  if (facts.patient_id.empty()) {
    return false;
  }
  switch (RoleOf(p).reach) {
    case Reach::kAll:
    case Reach::kOwn:
    case Reach::kProxy:
      return false;
    case Reach::kFacility:
      // Consent can still hide an own-facility resource? No: restrictions keep data at the
      // facility that recorded it, which is this one.
      return !AtOwnFacility(p, facts);
    case Reach::kCare:
    case Reach::kRelated:
      return true;
  }
  return true;
}

Decision Policy::Decide(const auth::Principal& p, Action action, const ResourceFacts& facts,
                        const PatientFacts& patient) const {
  const RolePolicy& role = RoleOf(p);
  bool write = IsWrite(action);
  // 1. The role table: the type (and category) this role may read or write.
  Decision type_ok = DecideType(p, action, facts.type);
  if (!type_ok.allowed) {
    return type_ok;
  }
  const TypeSet& types = write ? role.write : role.read;
  if (!types.Contains(facts.type, &facts.categories) &&
      !(config_.reference_types.contains(facts.type) && !write)) {
    return Deny(Who(p) + " may not " + std::string(ActionName(action)) + " " + facts.type +
                " resources of these categories (role table: " + std::string(RoleName(p.role)) +
                (write ? ".write)" : ".read)"));
  }
  if (write && facts.type == "Basic" && Contains(facts.categories, "emergency-access") &&
      p.role != auth::Role::kSystem) {
    return Deny("break-the-glass grants are written by the server only ($emergency-access)");
  }
  // 2. Reach: whose data.
  bool own_facility = AtOwnFacility(p, facts);
  bool no_patient = facts.patient_id.empty();
  Decision d = type_ok;
  switch (role.reach) {
    case Reach::kAll:
      return d;
    case Reach::kOwn:
    case Reach::kProxy: {
      auto own = OwnPatients(p);
      if (no_patient) {
        if (!write && config_.reference_types.contains(facts.type)) {
          return d;
        }
        return Deny(Who(p) + " may only " + std::string(ActionName(action)) +
                    " resources of their own record; " + facts.type + "/" + facts.id +
                    " belongs to no patient");
      }
      if (!Contains(own, facts.patient_id)) {
        return Deny(Who(p) + " may not see Patient/" + facts.patient_id + "'s record");
      }
      return d;  // a patient's own record is theirs, whatever they consented to share
    }
    case Reach::kFacility:
      if (own_facility || (no_patient && !write && config_.reference_types.contains(facts.type))) {
        return d;
      }
      break;
    case Reach::kCare:
      if (own_facility) {
        return ApplyConsent(p, facts, patient, d);
      }
      if (no_patient) {
        if (!write && config_.reference_types.contains(facts.type)) {
          return d;
        }
        break;
      }
      if (config_.mode == Mode::kEhr && patient.care_relationship) {
        return ApplyConsent(p, facts, patient, d);
      }
      break;
    case Reach::kRelated:
      if (no_patient) {
        // Directory data (administrators manage it at their facilities).
        if (own_facility || (!write && config_.reference_types.contains(facts.type))) {
          return d;
        }
        break;
      }
      if (patient.care_relationship) {
        return ApplyConsent(p, facts, patient, d);
      }
      break;
  }
  // 3. Break-the-glass opens the patient's record (reads only) to a clinician who asked for it.
  if (!write && !no_patient && patient.emergency_grant && role.break_glass) {
    d.emergency = true;
    d.reason = "emergency access (break-the-glass grant)";
    return ApplyConsent(p, facts, patient, d);
  }
  std::string where =
      facts.facility_id.empty() ? "no facility" : "Organization/" + facts.facility_id;
  if (no_patient) {
    return Deny(Who(p) + " may not " + std::string(ActionName(action)) + " " + facts.type + "/" +
                facts.id + " recorded at " + where + " (not one of the user's facilities)");
  }
  return Deny(Who(p) + " has no access to Patient/" + facts.patient_id + "'s data recorded at " +
              where +
              (role.reach == Reach::kFacility || config_.mode == Mode::kEmr
                   ? " (not one of the user's facilities)"
                   : " (no care relationship; emergency access is $emergency-access)"));
}

Decision Policy::ApplyConsent(const auth::Principal& p, const ResourceFacts& facts,
                              const PatientFacts& patient, Decision d) const {
  const ConsentRestrictions& c = patient.consent;
  if (facts.patient_id.empty() || AtOwnFacility(p, facts)) {
    return d;  // restrictions keep data at the facility that recorded it: this one
  }
  std::vector<std::string> hit;  // what restricts this resource
  bool binding = false;
  if (c.whole_record) {
    hit.push_back("facility");
    binding = binding || c.whole_record_binding_in_emergency ||
              !config_.emergency_overrides.contains("facility");
  }
  for (const std::string& s : facts.sensitivity) {
    if (c.categories.contains(s)) {
      hit.push_back(s);
      binding = binding || c.categories_binding_in_emergency.contains(s) ||
                !config_.emergency_overrides.contains(s);
    }
  }
  if (hit.empty()) {
    return d;
  }
  std::string what;
  for (const auto& h : hit) {
    what += (what.empty() ? "" : ", ") + h;
  }
  if (patient.emergency_grant && RoleOf(p).break_glass && !binding &&
      (d.emergency || patient.care_relationship)) {
    d.emergency = true;
    d.consent_overridden = true;
    d.reason = "emergency access overrides the patient's consent (" + what + ")";
    return d;
  }
  return Deny("Patient/" + facts.patient_id + "'s consent does not share this resource (" + what +
              ") outside the facility that recorded it" +
              (binding && patient.emergency_grant ? "; emergency access may not override it" : ""));
}

}  // namespace carechart::access
