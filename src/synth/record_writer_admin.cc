// Administrative resources: Patient, Coverage, Encounter with its Claim and
// ExplanationOfBenefit, referrals (ServiceRequest), CarePlan and CareTeam.
#include <cstdio>
#include <cstring>

#include "synth/record_writer.h"

namespace carechart::synth {

namespace {

struct CarePlanDef {
  Cond cond;
  std::string_view code, display;
  std::string_view activities[3][2];
};
constexpr CarePlanDef kCarePlans[] = {
    {Cond::kDiabetes,
     "698360004",
     "Diabetes self management plan",
     {{"160670007", "Diabetic diet"},
      {"229065009", "Exercise therapy"},
      {"401191002", "Diabetic foot examination"}}},
    {Cond::kHypertension,
     "443402002",
     "Lifestyle education regarding hypertension",
     {{"386463000", "Prescribed activity/exercise education"},
      {"413473000", "Counseling about alcohol consumption"},
      {"1151000175103", "Dietary approaches to stop hypertension diet"}}},
    {Cond::kAsthma,
     "699728000",
     "Asthma self management",
     {{"710081004", "Smoking cessation therapy"},
      {"708409001", "Home nebulizer therapy"},
      {"", ""}}},
};

// Wellness visits are billed by age band.
ClaimLine VisitLine(Visit v, int age) {
  const VisitDef& d = Def(v);
  if (v != Visit::kWellness && v != Visit::kWellChild) {
    return {d.cpt, d.cpt_display, d.price};
  }
  if (age < 1) {
    return {"99391", "Preventive visit, established patient, infant", 170.0};
  }
  if (age < 5) {
    return {"99392", "Preventive visit, established patient, 1-4 years", 180.0};
  }
  if (age < 12) {
    return {"99393", "Preventive visit, established patient, 5-11 years", 180.0};
  }
  if (age < 18) {
    return {"99394", "Preventive visit, established patient, 12-17 years", 190.0};
  }
  if (age < 40) {
    return {"99395", "Preventive visit, established patient, 18-39 years", 200.0};
  }
  if (age < 65) {
    return {"99396", "Preventive visit, established patient, 40-64 years", 210.0};
  }
  return {"99397", "Preventive visit, established patient, 65 years and older", 225.0};
}

}  // namespace

void RecordWriter::Patient() {
  const PatientInfo& p = *p_;
  const Town& town = TownAt(p.town);
  w_.Reset();
  w_.Obj().Str("resourceType", "Patient").Str("id", p.id);
  w_.Arr("identifier").Obj().Obj("type").Arr("coding");
  w_.Coding(sys::kV2_0203, "MR", "Medical record number").End().End();
  w_.Str("system", sys::kMrn).Str("value", "MRN-" + p.id).End().End();
  w_.Bool("active", true);
  w_.Arr("name").Obj().Str("use", "official").Str("family", p.family).Arr("given").Str(p.given);
  if (!p.middle.empty()) {
    w_.Str(p.middle);
  }
  w_.End().End().End();
  w_.Arr("telecom").Obj().Str("system", "phone").Str("value", p.phone).Str("use", "home");
  w_.End().End();
  w_.Str("gender", p.female ? "female" : "male").Date("birthDate", p.birth);
  w_.Arr("address").Obj().Str("use", "home").Arr("line").Str(p.line).End();
  w_.Str("city", town.name).Str("state", "OR").Str("postalCode", town.zip);
  w_.Str("country", "US").End().End();
  static constexpr std::string_view kMarital[][2] = {
      {"S", "Never Married"}, {"M", "Married"}, {"D", "Divorced"}, {"W", "Widowed"}};
  int m = p.marital == 'M' ? 1 : p.marital == 'D' ? 2 : p.marital == 'W' ? 3 : 0;
  w_.Concept("maritalStatus", "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
             kMarital[m][0], kMarital[m][1]);
  w_.Arr("communication").Obj().Obj("language").Arr("coding");
  w_.Coding("urn:ietf:bcp:47", p.spanish ? "es" : "en", p.spanish ? "Spanish" : "English");
  w_.End().End().Bool("preferred", true).End().End();
  const Practitioner& pcp = region_.Staff(p.pcp, p.pcp_staff);
  w_.Arr("generalPractitioner").RefItem("Practitioner", pcp.id, pcp.given + " " + pcp.family);
  w_.End();
  w_.Ref("managingOrganization", "Organization", Def(p.pcp).id, Def(p.pcp).name);
  FacilityTag(p.pcp);  // registered at the primary-care practice
  w_.End();
  sink_.Add(RType::kPatient, p.id, w_.text());
  ++resources_;
}

void RecordWriter::Coverage(Day start) {
  const PayerDef& payer = Def(p_->payer);
  w_.Reset();
  w_.Obj().Str("resourceType", "Coverage").Str("id", coverage_.view()).Str("status", "active");
  static constexpr std::string_view kType[][2] = {{"HIP", "health insurance plan policy"},
                                                  {"MCPOL", "managed care policy"},
                                                  {"PUBLICPOL", "public healthcare"}};
  size_t t = static_cast<size_t>(p_->payer);
  w_.Concept("type", sys::kActCode, kType[t][0], kType[t][1]);
  w_.Str("subscriberId", p_->member_id);
  w_.Ref("beneficiary", "Patient", p_->id, display_name_);
  w_.Concept("relationship", "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
             "self", "Self");
  w_.DatePeriod("period", start, -1);
  w_.Arr("payor").RefItem("Organization", payer.id, payer.name).End();
  w_.Arr("class").Obj();
  w_.Concept("type", "http://terminology.hl7.org/CodeSystem/coverage-class", "plan", "Plan");
  w_.Str("value", payer.plan_type).Str("name", payer.plan_display).End().End();
  Emit(RType::kCoverage, coverage_, p_->pcp);
}

Enc RecordWriter::Open(Visit visit, Fac fac, const Practitioner& prac, Instant start, Instant end,
                       Cond reason, std::string_view reason_condition) {
  Enc e;
  e.id = NewId("enc");
  e.visit = visit;
  e.fac = fac;
  e.prac = &prac;
  e.start = start;
  e.end = end;
  e.reason = reason;
  if (!reason_condition.empty()) {
    e.reason_condition.n = static_cast<uint8_t>(reason_condition.size());
    std::memcpy(e.reason_condition.s, reason_condition.data(), reason_condition.size());
  }
  ClaimLine line = VisitLine(visit, AgeOn(p_->birth, DayOf(start)));
  if (!line.code.empty()) {
    e.lines[e.line_count++] = line;
  }
  return e;
}

void RecordWriter::Close(Enc& e, std::string_view part_of) {
  const VisitDef& v = Def(e.visit);
  const FacilityDef& fac = Def(e.fac);
  std::string location = std::string(fac.id) + "-site";
  w_.Reset();
  w_.Obj().Str("resourceType", "Encounter").Str("id", e.id.view()).Str("status", "finished");
  w_.Coding("class", sys::kActCode, v.act_class, v.act_display);
  w_.Arr("type").ConceptItem(sys::kSnomed, v.snomed, v.display).End();
  Subject();
  w_.Arr("participant").Obj().Arr("type");
  w_.ConceptItem(sys::kParticipation, e.visit == Visit::kInpatient ? "ATND" : "PPRF",
                 e.visit == Visit::kInpatient ? "attender" : "primary performer");
  w_.End().Ref("individual", "Practitioner", e.prac->id, e.prac->given + " " + e.prac->family);
  w_.End().End();
  w_.Period("period", e.start, e.end);
  if (e.reason != Cond::kCount) {
    const ConditionDef& r = Def(e.reason);
    w_.Arr("reasonCode").ConceptItem(sys::kSnomed, r.snomed, r.snomed_display).End();
  }
  if (!e.reason_condition.empty()) {
    w_.Arr("reasonReference").RefItem("Condition", e.reason_condition.view()).End();
  }
  if (e.diagnosis_count > 0) {
    w_.Arr("diagnosis");
    for (int i = 0; i < e.diagnosis_count; ++i) {
      w_.Obj().Ref("condition", "Condition", e.diagnoses[i].view());
      w_.Concept("use", "http://terminology.hl7.org/CodeSystem/diagnosis-role",
                 e.visit == Visit::kInpatient ? (i == 0 ? "AD" : "DD") : "billing",
                 e.visit == Visit::kInpatient
                     ? (i == 0 ? "Admission diagnosis" : "Discharge diagnosis")
                     : "Billing");
      w_.Int("rank", i + 1).End();
    }
    w_.End();
  }
  if (e.visit == Visit::kInpatient) {
    w_.Obj("hospitalization");
    if (e.admitted_from_ed) {
      w_.Concept("admitSource", "http://terminology.hl7.org/CodeSystem/admit-source", "emd",
                 "From accident/emergency department");
    }
    w_.Concept("dischargeDisposition",
               "http://terminology.hl7.org/CodeSystem/discharge-disposition", "home", "Home");
    w_.End();
  }
  w_.Arr("location").Obj().Ref("location", "Location", location, fac.name).End().End();
  w_.Ref("serviceProvider", "Organization", fac.id, fac.name);
  if (!part_of.empty()) {
    w_.Ref("partOf", "Encounter", part_of);
  }
  Emit(RType::kEncounter, e.id, e.fac);
  Claim(e, NewId("clm"));
}

void RecordWriter::Claim(const Enc& e, const Id& claim_id) {
  const FacilityDef& fac = Def(e.fac);
  const PayerDef& payer = Def(p_->payer);
  bool institutional = e.fac == Fac::kMercyEmergency || e.fac == Fac::kMercyHospital;
  double total = 0;
  for (int i = 0; i < e.line_count; ++i) {
    total += e.lines[i].price;
  }
  Day day = DayOf(e.start);
  for (int pass = 0; pass < 2; ++pass) {
    bool eob = pass == 1;
    Id id = claim_id;
    if (eob) {
      id = NewId("eob");
    }
    w_.Reset();
    w_.Obj().Str("resourceType", eob ? "ExplanationOfBenefit" : "Claim").Str("id", id.view());
    w_.Str("status", "active");
    w_.Concept("type", "http://terminology.hl7.org/CodeSystem/claim-type",
               institutional ? "institutional" : "professional",
               institutional ? "Institutional" : "Professional");
    w_.Str("use", "claim");
    w_.Ref("patient", "Patient", p_->id, display_name_);
    w_.Period("billablePeriod", e.start, e.end);
    w_.DateTime("created", e.end + 3600);
    if (eob) {
      w_.Ref("insurer", "Organization", payer.id, payer.name);
    }
    w_.Ref("provider", "Organization", fac.id, fac.name);
    if (!eob) {
      w_.Concept("priority", "http://terminology.hl7.org/CodeSystem/processpriority", "normal",
                 "Normal");
      w_.Ref("facility", "Location", std::string(fac.id) + "-site");
    } else {
      w_.Str("outcome", "complete").Ref("claim", "Claim", claim_id.view());
    }
    if (e.diagnosis_count > 0) {
      w_.Arr("diagnosis");
      for (int i = 0; i < e.diagnosis_count; ++i) {
        w_.Obj()
            .Int("sequence", i + 1)
            .Ref("diagnosisReference", "Condition", e.diagnoses[i].view());
        w_.End();
      }
      w_.End();
    }
    w_.Arr("insurance").Obj();
    if (!eob) {
      w_.Int("sequence", 1);
    }
    w_.Bool("focal", true).Ref("coverage", "Coverage", coverage_.view()).End().End();
    w_.Arr("item");
    for (int i = 0; i < e.line_count; ++i) {
      const ClaimLine& l = e.lines[i];
      w_.Obj().Int("sequence", i + 1);
      w_.Concept("productOrService", sys::kCpt, l.code, l.display);
      w_.Date("servicedDate", day);
      w_.Arr("encounter").RefItem("Encounter", e.id.view()).End();
      w_.Money("net", l.price);
      if (eob) {
        w_.Arr("adjudication").Obj();
        w_.Concept("category", "http://terminology.hl7.org/CodeSystem/adjudication", "submitted",
                   "Submitted Amount");
        w_.Money("amount", l.price).End().Obj();
        w_.Concept("category", "http://terminology.hl7.org/CodeSystem/adjudication", "benefit",
                   "Benefit Amount");
        w_.Money("amount", l.price * 0.8).End().End();
      }
      w_.End();
    }
    w_.End();
    if (!eob) {
      w_.Money("total", total);
    } else {
      w_.Arr("total").Obj();
      w_.Concept("category", "http://terminology.hl7.org/CodeSystem/adjudication", "submitted",
                 "Submitted Amount");
      w_.Money("amount", total).End().Obj();
      w_.Concept("category", "http://terminology.hl7.org/CodeSystem/adjudication", "benefit",
                 "Benefit Amount");
      w_.Money("amount", total * 0.8).End().End();
      w_.Obj("payment").Date("date", day + 21).Money("amount", total * 0.8).End();
    }
    Emit(eob ? RType::kExplanationOfBenefit : RType::kClaim, id, e.fac);
  }
}

Id RecordWriter::Referral(Enc& e, Fac to, std::string_view reason_condition,
                          std::string_view text) {
  const FacilityDef& d = Def(to);
  Id id = NewId("ref");
  w_.Reset();
  w_.Obj().Str("resourceType", "ServiceRequest").Str("id", id.view()).Str("status", "completed");
  w_.Str("intent", "order");
  w_.Arr("category").ConceptItem(sys::kSnomed, "3457005", "Patient referral").End();
  w_.Obj("code").Arr("coding").Coding(sys::kNucc, d.taxonomy, d.taxonomy_display).End();
  w_.Str("text", text).End();
  Subject();
  w_.Ref("encounter", "Encounter", e.id.view()).DateTime("authoredOn", e.start + 1500);
  w_.Ref("requester", "Practitioner", e.prac->id);
  w_.Arr("performer").RefItem("Organization", d.id, d.name).End();
  if (!reason_condition.empty()) {
    w_.Arr("reasonReference").RefItem("Condition", reason_condition).End();
  }
  Emit(RType::kServiceRequest, id, e.fac);
  return id;
}

void RecordWriter::CarePlan(Enc& e, Cond c, std::string_view condition,
                            const Practitioner* members[], int member_count) {
  const CarePlanDef* def = nullptr;
  for (const auto& d : kCarePlans) {
    if (d.cond == c) {
      def = &d;
    }
  }
  if (!def) {
    return;
  }
  Id team = NewId("team");
  const Practitioner& pcp = region_.Staff(p_->pcp, p_->pcp_staff);
  Day day = DayOf(e.start);
  w_.Reset();
  w_.Obj().Str("resourceType", "CareTeam").Str("id", team.view()).Str("status", "active");
  w_.Str("name", std::string(Def(c).snomed_display) + " care team");
  Subject();
  w_.Ref("encounter", "Encounter", e.id.view()).DatePeriod("period", day, -1);
  w_.Arr("participant").Obj();
  w_.Arr("role").ConceptItem(sys::kSnomed, "116154003", "Patient").End();
  w_.Ref("member", "Patient", p_->id, display_name_).End();
  auto member = [&](const Practitioner& m) {
    const FacilityDef& f = Def(m.facility);
    w_.Obj().Arr("role").ConceptItem(sys::kNucc, f.taxonomy, f.taxonomy_display).End();
    w_.Ref("member", "Practitioner", m.id, m.given + " " + m.family);
    w_.Ref("onBehalfOf", "Organization", f.id).End();
  };
  member(pcp);
  for (int i = 0; i < member_count; ++i) {
    member(*members[i]);
  }
  w_.End().Arr("reasonReference").RefItem("Condition", condition).End();
  w_.Arr("managingOrganization").RefItem("Organization", Def(p_->pcp).id).End();
  Emit(RType::kCareTeam, team, e.fac);

  Id plan = NewId("plan");
  w_.Reset();
  w_.Obj().Str("resourceType", "CarePlan").Str("id", plan.view()).Str("status", "active");
  w_.Str("intent", "plan");
  w_.Arr("category").ConceptItem(sys::kSnomed, def->code, def->display).End();
  w_.Str("title", def->display);
  Subject();
  w_.Ref("encounter", "Encounter", e.id.view()).DatePeriod("period", day, -1);
  w_.DateTime("created", e.start + 1800).Ref("author", "Practitioner", e.prac->id);
  w_.Arr("careTeam").RefItem("CareTeam", team.view()).End();
  w_.Arr("addresses").RefItem("Condition", condition).End();
  w_.Arr("activity");
  for (const auto& a : def->activities) {
    if (a[0].empty()) {
      continue;
    }
    w_.Obj().Obj("detail").Str("kind", "ServiceRequest");
    w_.Concept("code", sys::kSnomed, a[0], a[1]).Str("status", "in-progress");
    w_.Ref("location", "Location", std::string(Def(p_->pcp).id) + "-site").End().End();
  }
  w_.End();
  Emit(RType::kCarePlan, plan, e.fac);
}

}  // namespace carechart::synth
