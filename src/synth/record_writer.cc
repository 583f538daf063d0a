// Clinical resources: conditions, allergies, observations and lab reports, prescriptions and
// dispenses, immunizations, procedures, imaging. (Administrative ones: record_writer_admin.cc.)
#include <cstring>

#include "synth/record_writer.h"

namespace carechart::synth {

namespace {
constexpr std::string_view kInterp =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

Fac LabFacility(const Enc& e) {
  return e.fac == Fac::kMercyEmergency || e.fac == Fac::kMercyHospital ? Fac::kMercyHospital
                                                                       : Fac::kClearwaterLab;
}
}  // namespace

RecordWriter::RecordWriter(const Region& region, ResourceSink& sink)
    : region_(region), sink_(sink) {}

void RecordWriter::BeginPatient(const PatientInfo& p) {
  p_ = &p;
  counter_ = 0;
  display_name_ = p.given + " " + p.family;
  coverage_ = NewId("cov");
}

void RecordWriter::EndPatient() { sink_.EndGroup(p_->id); }

Id RecordWriter::NewId(std::string_view tag) {
  Id id;
  const std::string& pid = p_->id;
  std::memcpy(id.s, pid.data(), pid.size());
  size_t n = pid.size();
  id.s[n++] = '-';
  std::memcpy(id.s + n, tag.data(), tag.size());
  n += tag.size();
  char digits[12];
  int d = 0;
  uint32_t v = ++counter_;
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (d) {
    id.s[n++] = digits[--d];
  }
  id.n = static_cast<uint8_t>(n);
  return id;
}

void RecordWriter::FacilityTag(Fac recorded_at) {
  const FacilityDef& f = Def(recorded_at);
  w_.Obj("meta").Arr("tag").Obj().Str("system", sys::kFacilityTag).Str("code", f.id);
  w_.Str("display", f.name).End().End().End();
}

void RecordWriter::Emit(RType type, const Id& id, Fac recorded_at) {
  FacilityTag(recorded_at);
  w_.End();
  sink_.Add(type, id.view(), w_.text());
  ++resources_;
}

void RecordWriter::Subject() { w_.Ref("subject", "Patient", p_->id, display_name_); }

Id RecordWriter::Condition(Enc& e, Cond c, Day onset, Day abated, bool problem_list) {
  const ConditionDef& d = Def(c);
  Id id = NewId("cond");
  w_.Reset();
  w_.Obj().Str("resourceType", "Condition").Str("id", id.view());
  w_.Concept("clinicalStatus", "http://terminology.hl7.org/CodeSystem/condition-clinical",
             abated >= 0 ? "resolved" : "active", "");
  w_.Concept("verificationStatus", "http://terminology.hl7.org/CodeSystem/condition-ver-status",
             "confirmed", "");
  w_.Concept("category", "http://terminology.hl7.org/CodeSystem/condition-category",
             problem_list ? "problem-list-item" : "encounter-diagnosis",
             problem_list ? "Problem List Item" : "Encounter Diagnosis", true);
  w_.Obj("code").Arr("coding").Coding(sys::kSnomed, d.snomed, d.snomed_display);
  w_.Coding(sys::kIcd10, d.icd10, d.icd10_display).End().Str("text", d.snomed_display).End();
  Subject();
  w_.Ref("encounter", "Encounter", e.id.view());
  w_.Date("onsetDateTime", onset);
  if (abated >= 0) {
    w_.Date("abatementDateTime", abated);
  }
  w_.Date("recordedDate", DayOf(e.start));
  w_.Ref("recorder", "Practitioner", e.prac->id);
  Emit(RType::kCondition, id, e.fac);
  if (e.diagnosis_count < 8) {
    e.diagnoses[e.diagnosis_count++] = id;
  }
  return id;
}

Id RecordWriter::Allergy(Enc& e, Allergen a, Day onset) {
  const AllergenDef& d = Def(a);
  Id id = NewId("alg");
  w_.Reset();
  w_.Obj().Str("resourceType", "AllergyIntolerance").Str("id", id.view());
  w_.Concept("clinicalStatus", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
             "active", "");
  w_.Concept("verificationStatus",
             "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed",
             "");
  w_.Str("type", "allergy").Arr("category").Str(d.category).End();
  w_.Str("criticality", d.high_criticality ? "high" : "low");
  w_.Obj("code").Arr("coding").Coding(sys::kSnomed, d.snomed, d.display);
  if (!d.rxnorm.empty()) {
    w_.Coding(sys::kRxNorm, d.rxnorm, d.rxnorm_display);
  }
  w_.End().Str("text", d.display).End();
  w_.Ref("patient", "Patient", p_->id, display_name_);
  w_.Ref("encounter", "Encounter", e.id.view());
  w_.Date("onsetDateTime", onset).Date("recordedDate", DayOf(e.start));
  w_.Ref("recorder", "Practitioner", e.prac->id);
  w_.Arr("reaction").Obj().Arr("manifestation");
  w_.ConceptItem(sys::kSnomed, d.reaction_snomed, d.reaction_display).End();
  w_.Str("severity", d.high_criticality ? "severe" : "moderate").End().End();
  Emit(RType::kAllergyIntolerance, id, e.fac);
  return id;
}

namespace {

void ObsHead(JsonWriter& w, const Id& id, std::string_view category,
             std::string_view category_display) {
  w.Obj().Str("resourceType", "Observation").Str("id", id.view()).Str("status", "final");
  w.Arr("category").Obj().Arr("coding");
  w.Coding(sys::kObsCategory, category, category_display).End().End().End();
}

void Loinc(JsonWriter& w, std::string_view code, std::string_view display) {
  w.Obj("code").Arr("coding").Coding(sys::kLoinc, code, display).End();
  w.Str("text", display).End();
}

}  // namespace

void RecordWriter::TakeVitals(Enc& e, const Vitals& v, Instant t) {
  struct Simple {
    double value;
    std::string_view loinc, display, unit, ucum;
    int places;
  };
  double bmi = v.height_cm > 0 && v.weight_kg > 0
                   ? v.weight_kg / (v.height_cm / 100.0 * v.height_cm / 100.0)
                   : -1;
  const Simple simple[] = {
      {v.height_cm, "8302-2", "Body height", "cm", "cm", 1},
      {v.weight_kg, "29463-7", "Body weight", "kg", "kg", 1},
      {bmi, "39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "kg/m2", 1},
      {v.heart_rate, "8867-4", "Heart rate", "/min", "/min", 0},
      {v.resp_rate, "9279-1", "Respiratory rate", "/min", "/min", 0},
      {v.temp_c, "8310-5", "Body temperature", "Cel", "Cel", 1},
      {v.spo2, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%", 0},
  };
  for (const Simple& s : simple) {
    if (s.value < 0) {
      continue;
    }
    Id id = NewId("obs");
    w_.Reset();
    ObsHead(w_, id, "vital-signs", "Vital Signs");
    Loinc(w_, s.loinc, s.display);
    Subject();
    w_.Ref("encounter", "Encounter", e.id.view()).DateTime("effectiveDateTime", t);
    w_.DateTime("issued", t).Arr("performer").RefItem("Practitioner", e.prac->id).End();
    w_.Quantity("valueQuantity", s.value, s.places, s.unit, s.ucum);
    Emit(RType::kObservation, id, e.fac);
  }
  if (v.systolic > 0) {
    Id id = NewId("obs");
    w_.Reset();
    ObsHead(w_, id, "vital-signs", "Vital Signs");
    Loinc(w_, "85354-9", "Blood pressure panel with all children optional");
    Subject();
    w_.Ref("encounter", "Encounter", e.id.view()).DateTime("effectiveDateTime", t);
    w_.DateTime("issued", t).Arr("performer").RefItem("Practitioner", e.prac->id).End();
    w_.Arr("component").Obj();
    Loinc(w_, "8480-6", "Systolic blood pressure");
    w_.Quantity("valueQuantity", v.systolic, 0, "mm[Hg]", "mm[Hg]");
    if (v.systolic >= 140) {
      w_.Arr("interpretation").ConceptItem(kInterp, "H", "High").End();
    }
    w_.End().Obj();
    Loinc(w_, "8462-4", "Diastolic blood pressure");
    w_.Quantity("valueQuantity", v.diastolic, 0, "mm[Hg]", "mm[Hg]");
    if (v.diastolic >= 90) {
      w_.Arr("interpretation").ConceptItem(kInterp, "H", "High").End();
    }
    w_.End().End();
    Emit(RType::kObservation, id, e.fac);
  }
  if (v.smoking >= 0) {
    static constexpr std::string_view kCode[] = {"266919005", "8517006", "449868002"};
    static constexpr std::string_view kDisplay[] = {"Never smoked tobacco", "Ex-smoker",
                                                    "Smokes tobacco daily"};
    Id id = NewId("obs");
    w_.Reset();
    ObsHead(w_, id, "social-history", "Social History");
    Loinc(w_, "72166-2", "Tobacco smoking status");
    Subject();
    w_.Ref("encounter", "Encounter", e.id.view()).DateTime("effectiveDateTime", t);
    w_.DateTime("issued", t);
    w_.Concept("valueCodeableConcept", sys::kSnomed, kCode[v.smoking], kDisplay[v.smoking]);
    Emit(RType::kObservation, id, e.fac);
  }
}

Id RecordWriter::LabResult(Enc& e, Lab l, double value, Instant t, bool bill) {
  const LabDef& d = Def(l);
  Id id = NewId("obs");
  w_.Reset();
  ObsHead(w_, id, "laboratory", "Laboratory");
  Loinc(w_, d.loinc, d.display);
  Subject();
  w_.Ref("encounter", "Encounter", e.id.view()).DateTime("effectiveDateTime", t);
  w_.DateTime("issued", t + 4 * 3600);
  w_.Arr("performer").RefItem("Organization", Def(LabFacility(e)).id).End();
  w_.Quantity("valueQuantity", value, d.places, d.unit, d.ucum);
  double shown = value;  // compare what is written, not the unrounded value
  bool has_low = d.low > 0, has_high = d.high > d.low || (d.low == 0 && d.high > 0);
  const char* flag = nullptr;
  if (has_high && shown > d.high) {
    flag = "H";
  }
  if (has_low && shown < d.low) {
    flag = "L";
  }
  if (flag) {
    w_.Arr("interpretation").ConceptItem(kInterp, flag, flag[0] == 'H' ? "High" : "Low").End();
  }
  if (has_low || has_high) {
    w_.Arr("referenceRange").Obj();
    if (has_low) {
      w_.Quantity("low", d.low, d.places, d.unit, d.ucum);
    }
    if (has_high) {
      w_.Quantity("high", d.high, d.places, d.unit, d.ucum);
    }
    w_.End().End();
  }
  Emit(RType::kObservation, id, e.fac);
  if (bill && !d.cpt.empty() && e.line_count < 24) {
    e.lines[e.line_count++] = {d.cpt, d.display, 18.0 + static_cast<double>(d.cpt[4] - '0') * 3};
  }
  return id;
}

Id RecordWriter::Panel(Enc& e, enum Panel p, const double* values, Instant t) {
  const PanelDef& d = Def(p);
  Id results[9];
  for (int i = 0; i < d.count; ++i) {
    results[i] = LabResult(e, d.members[i], values[i], t, false);
  }
  Id id = NewId("rep");
  w_.Reset();
  w_.Obj().Str("resourceType", "DiagnosticReport").Str("id", id.view()).Str("status", "final");
  w_.Concept("category", sys::kV2_0074, "LAB", "Laboratory", true);
  Loinc(w_, d.loinc, d.display);
  Subject();
  w_.Ref("encounter", "Encounter", e.id.view()).DateTime("effectiveDateTime", t);
  w_.DateTime("issued", t + 4 * 3600);
  w_.Arr("performer").RefItem("Organization", Def(LabFacility(e)).id).End();
  w_.Arr("result");
  for (int i = 0; i < d.count; ++i) {
    w_.RefItem("Observation", results[i].view());
  }
  w_.End();
  Emit(RType::kDiagnosticReport, id, e.fac);
  if (e.line_count < 24) {
    e.lines[e.line_count++] = {d.cpt, d.display, 42.0};
  }
  return id;
}

Id RecordWriter::CodedResult(Enc& e, std::string_view loinc, std::string_view display,
                             std::string_view snomed, std::string_view value, Instant t) {
  Id id = NewId("obs");
  w_.Reset();
  ObsHead(w_, id, "laboratory", "Laboratory");
  Loinc(w_, loinc, display);
  Subject();
  w_.Ref("encounter", "Encounter", e.id.view()).DateTime("effectiveDateTime", t);
  w_.DateTime("issued", t + 48 * 3600);
  w_.Arr("performer").RefItem("Organization", Def(LabFacility(e)).id).End();
  w_.Concept("valueCodeableConcept", sys::kSnomed, snomed, value);
  Emit(RType::kObservation, id, e.fac);
  if (e.line_count < 24) {
    e.lines[e.line_count++] = {"87070", display, 38.0};
  }
  return id;
}

Id RecordWriter::Prescribe(Enc& e, Med m, std::string_view status,
                           std::string_view reason_condition, std::string_view note) {
  const MedDef& d = Def(m);
  Id id = NewId("rx");
  w_.Reset();
  w_.Obj().Str("resourceType", "MedicationRequest").Str("id", id.view()).Str("status", status);
  w_.Str("intent", "order");
  bool inpatient = e.visit == Visit::kInpatient;
  w_.Concept("category", "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
             inpatient ? "inpatient" : "outpatient", inpatient ? "Inpatient" : "Outpatient", true);
  w_.Concept("medicationCodeableConcept", sys::kRxNorm, d.rxnorm, d.display);
  Subject();
  w_.Ref("encounter", "Encounter", e.id.view()).DateTime("authoredOn", e.start + 1200);
  w_.Ref("requester", "Practitioner", e.prac->id, e.prac->given + " " + e.prac->family);
  if (!reason_condition.empty()) {
    w_.Arr("reasonReference").RefItem("Condition", reason_condition).End();
  }
  if (!note.empty()) {
    w_.Arr("note").Obj().Str("text", note).End().End();
  }
  w_.Arr("dosageInstruction").Obj().Int("sequence", 1).Str("text", d.sig);
  int per_day = static_cast<int>(d.per_day);
  if (per_day >= 1 && per_day == d.per_day) {
    w_.Obj("timing").Obj("repeat").Int("frequency", per_day).Int("period", 1);
    w_.Str("periodUnit", "d").End().End();
  } else if (d.per_day == 0) {
    w_.Bool("asNeededBoolean", true);
  }
  w_.End().End();
  w_.Obj("dispenseRequest").Int("numberOfRepeatsAllowed", d.chronic ? 3 : 0);
  w_.Obj("expectedSupplyDuration").Int("value", d.days).Str("unit", "days");
  w_.Str("system", "http://unitsofmeasure.org").Str("code", "d").End().End();
  Emit(RType::kMedicationRequest, id, e.fac);
  return id;
}

void RecordWriter::Dispense(Med m, std::string_view prescription, Instant t,
                            const Practitioner& pharmacist) {
  const MedDef& d = Def(m);
  Id id = NewId("disp");
  w_.Reset();
  w_.Obj().Str("resourceType", "MedicationDispense").Str("id", id.view());
  w_.Str("status", "completed");
  w_.Concept("medicationCodeableConcept", sys::kRxNorm, d.rxnorm, d.display);
  Subject();
  w_.Arr("performer").Obj().Ref("actor", "Practitioner", pharmacist.id).End().End();
  w_.Ref("location", "Location", "riverside-pharmacy-site");
  w_.Arr("authorizingPrescription").RefItem("MedicationRequest", prescription).End();
  w_.Obj("daysSupply").Int("value", d.days).Str("unit", "days");
  w_.Str("system", "http://unitsofmeasure.org").Str("code", "d").End();
  w_.DateTime("whenPrepared", t - 1800).DateTime("whenHandedOver", t);
  w_.Arr("dosageInstruction").Obj().Str("text", d.sig).End().End();
  Emit(RType::kMedicationDispense, id, Fac::kRiversidePharmacy);
}

void RecordWriter::Immunize(Enc* e, Vaccine v, Instant t, Fac fac, const Practitioner& by) {
  const VaccineDef& d = Def(v);
  Id id = NewId("imm");
  w_.Reset();
  w_.Obj().Str("resourceType", "Immunization").Str("id", id.view()).Str("status", "completed");
  w_.Concept("vaccineCode", sys::kCvx, d.cvx, d.display);
  w_.Ref("patient", "Patient", p_->id, display_name_);
  if (e) {
    w_.Ref("encounter", "Encounter", e->id.view());
  }
  w_.DateTime("occurrenceDateTime", t).Bool("primarySource", true);
  std::string site = std::string(Def(fac).id) + "-site";
  w_.Ref("location", "Location", site);
  char lot[16];
  std::snprintf(lot, sizeof lot, "L%06u", static_cast<unsigned>((t / 86400 * 7 + id.n) % 999983));
  w_.Str("lotNumber", lot);
  w_.Arr("performer").Obj();
  w_.Concept("function", "http://terminology.hl7.org/CodeSystem/v2-0443", "AP",
             "Administering Provider");
  w_.Ref("actor", "Practitioner", by.id).End().End();
  Emit(RType::kImmunization, id, fac);
  if (e && e->line_count < 24) {
    e->lines[e->line_count++] = {"90471", "Immunization administration", 25.0};
  }
}

Id RecordWriter::Procedure(Enc& e, Proc p, std::string_view reason_condition, Instant t,
                           std::string_view body_site) {
  const ProcedureDef& d = Def(p);
  Id id = NewId("proc");
  w_.Reset();
  w_.Obj().Str("resourceType", "Procedure").Str("id", id.view()).Str("status", "completed");
  w_.Obj("code").Arr("coding").Coding(sys::kSnomed, d.snomed, d.display);
  w_.Coding(sys::kCpt, d.cpt, d.cpt_display).End().Str("text", d.display).End();
  Subject();
  w_.Ref("encounter", "Encounter", e.id.view()).DateTime("performedDateTime", t);
  w_.Arr("performer").Obj().Ref("actor", "Practitioner", e.prac->id).End().End();
  w_.Ref("location", "Location", std::string(Def(e.fac).id) + "-site");
  if (!reason_condition.empty()) {
    w_.Arr("reasonReference").RefItem("Condition", reason_condition).End();
  }
  if (!body_site.empty()) {
    w_.Concept("bodySite", sys::kSnomed, body_site, "", true);
  }
  Emit(RType::kProcedure, id, e.fac);
  if (e.line_count < 24) {
    e.lines[e.line_count++] = {d.cpt, d.cpt_display, d.price};
  }
  return id;
}

Id RecordWriter::ImagingStudy(Enc& e, Imaging i, bool left, std::string_view reason_condition,
                              Instant t, const Practitioner& radiologist,
                              std::string_view conclusion) {
  const ImagingDef& d = Def(i);
  Id id = NewId("img");
  // DICOM UIDs under the 2.25 (UUID-derived) root, from the resource id: stable and unique.
  uint64_t h = 1469598103934665603ULL;
  for (char c : id.view()) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  char study_uid[32], series_uid[40], inst_uid[48];
  std::snprintf(study_uid, sizeof study_uid, "2.25.%llu", static_cast<unsigned long long>(h));
  std::snprintf(series_uid, sizeof series_uid, "%s.1", study_uid);
  int instances = d.modality == "MG" ? 4 : d.modality == "DX" ? 2 : 3;
  bool inpatient = e.fac == Fac::kMercyEmergency || e.fac == Fac::kMercyHospital;
  std::string location =
      std::string(inpatient ? "mercy-hospital" : "valley-imaging-center") + "-site";
  w_.Reset();
  w_.Obj().Str("resourceType", "ImagingStudy").Str("id", id.view());
  std::string oid = std::string("urn:oid:") + study_uid;
  w_.Arr("identifier").Obj().Str("system", "urn:dicom:uid").Str("value", oid).End().End();
  w_.Str("status", "available");
  w_.Arr("modality").Coding(sys::kDicom, d.modality, d.modality_display).End();
  Subject();
  w_.Ref("encounter", "Encounter", e.id.view()).DateTime("started", t);
  w_.Ref("referrer", "Practitioner", e.prac->id);
  w_.Int("numberOfSeries", 1).Int("numberOfInstances", instances);
  w_.Arr("procedureCode").ConceptItem(sys::kSnomed, d.snomed, d.display).End();
  w_.Ref("location", "Location", location);
  if (!reason_condition.empty()) {
    w_.Arr("reasonReference").RefItem("Condition", reason_condition).End();
  }
  w_.Arr("series").Obj().Str("uid", series_uid).Int("number", 1);
  w_.Coding("modality", sys::kDicom, d.modality, d.modality_display);
  w_.Int("numberOfInstances", instances);
  w_.Coding("bodySite", sys::kSnomed, d.body_snomed, d.body_display);
  if (d.body_snomed == "56459004" || d.body_snomed == "70258002") {
    w_.Coding("laterality", sys::kSnomed, left ? "7771000" : "24028007", left ? "Left" : "Right");
  }
  w_.DateTime("started", t).Arr("instance");
  for (int k = 1; k <= instances; ++k) {
    std::snprintf(inst_uid, sizeof inst_uid, "%s.%d", series_uid, k);
    w_.Obj().Str("uid", inst_uid);
    w_.Obj("sopClass").Str("system", "urn:ietf:rfc:3986").Str("code", d.sop_class).End();
    w_.Int("number", k).End();
  }
  w_.End().End().End();
  Emit(RType::kImagingStudy, id, radiologist.facility);

  Id rep = NewId("rep");
  w_.Reset();
  w_.Obj().Str("resourceType", "DiagnosticReport").Str("id", rep.view()).Str("status", "final");
  w_.Concept("category", sys::kV2_0074, "RAD", "Radiology", true);
  Loinc(w_, d.report_loinc, d.report_display);
  Subject();
  w_.Ref("encounter", "Encounter", e.id.view()).DateTime("effectiveDateTime", t);
  w_.DateTime("issued", t + 3 * 3600);
  w_.Arr("performer").RefItem("Practitioner", radiologist.id).End();
  w_.Arr("resultsInterpreter").RefItem("Practitioner", radiologist.id).End();
  w_.Arr("imagingStudy").RefItem("ImagingStudy", id.view()).End();
  w_.Str("conclusion", conclusion);
  Emit(RType::kDiagnosticReport, rep, radiologist.facility);
  if (e.line_count < 24) {
    e.lines[e.line_count++] = {d.cpt, d.display, d.price};
  }
  return id;
}

}  // namespace carechart::synth
