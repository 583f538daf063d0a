// Writes one patient's resources: the Patient, Coverage, and encounter by encounter everything
// recorded at them (vital signs, labs with their reports, diagnoses, prescriptions and pharmacy
// dispenses, immunizations, allergies, procedures, imaging studies with reports, referrals, care
// plans and teams) followed by the encounter's Claim and ExplanationOfBenefit. Used by both the
// random timelines and the hand-written story.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "synth/catalog.h"
#include "synth/json_writer.h"
#include "synth/region.h"
#include "synth/sink.h"

namespace carechart::synth {

// A generated id: "<patient id>-<tag><n>"; ids stay within FHIR's 64 characters.
struct Id {
  char s[56];
  uint8_t n = 0;
  std::string_view view() const { return {s, n}; }
  bool empty() const { return n == 0; }
};

struct PatientInfo {
  std::string id;
  std::string given, middle, family;
  bool female = false;
  Day birth = 0;
  std::string line;
  int town = 0;
  std::string phone;
  char marital = 'S';    // v3-MaritalStatus: S M D W
  bool spanish = false;  // preferred language es (else en)
  Fac pcp = Fac::kRiversidePrimaryCare;
  uint32_t pcp_staff = 0;  // index into the facility's practitioners
  Payer payer = Payer::kCommercial;
  std::string member_id;
};

struct ClaimLine {
  std::string_view code, display;
  double price;
};

// The encounter being recorded. Diagnoses and claim lines collect while it is open.
struct Enc {
  Id id;
  Visit visit = Visit::kFollowUp;
  Fac fac = Fac::kRiversidePrimaryCare;
  const Practitioner* prac = nullptr;
  Instant start = 0, end = 0;
  Cond reason = Cond::kCount;
  Id reason_condition;
  Id diagnoses[8];
  int diagnosis_count = 0;
  ClaimLine lines[24];
  int line_count = 0;
  bool admitted_from_ed = false;
};

// Values of the vital signs taken at a visit (negative: not measured).
struct Vitals {
  double height_cm = -1, weight_kg = -1, systolic = -1, diastolic = -1, heart_rate = -1;
  double resp_rate = -1, temp_c = -1, spo2 = -1;
  int smoking = -1;  // 0 never, 1 former, 2 current
};

class RecordWriter {
 public:
  RecordWriter(const Region& region, ResourceSink& sink);

  // Starts a new patient (resets the id counter).
  void BeginPatient(const PatientInfo& p);
  void EndPatient();
  const PatientInfo& patient() const { return *p_; }

  void Patient();
  void Coverage(Day start);

  Enc Open(Visit visit, Fac fac, const Practitioner& prac, Instant start, Instant end,
           Cond reason = Cond::kCount, std::string_view reason_condition = {});
  // Writes the Encounter, its Claim and its ExplanationOfBenefit.
  void Close(Enc& e, std::string_view part_of = {});

  // A condition diagnosed at `e` (onset may be earlier); abated < 0: still active.
  Id Condition(Enc& e, Cond c, Day onset, Day abated = -1, bool problem_list = true);
  Id Allergy(Enc& e, Allergen a, Day onset);
  void TakeVitals(Enc& e, const Vitals& v, Instant t);
  Id LabResult(Enc& e, Lab l, double value, Instant t, bool bill = true);
  // A panel: its members' Observations and a DiagnosticReport listing them.
  Id Panel(Enc& e, enum Panel p, const double* values, Instant t);
  Id CodedResult(Enc& e, std::string_view loinc, std::string_view display, std::string_view snomed,
                 std::string_view value, Instant t);
  Id Prescribe(Enc& e, Med m, std::string_view status, std::string_view reason_condition,
               std::string_view note = {});
  void Dispense(Med m, std::string_view prescription, Instant t, const Practitioner& pharmacist);
  void Immunize(Enc* e, Vaccine v, Instant t, Fac fac, const Practitioner& by);
  Id Procedure(Enc& e, Proc p, std::string_view reason_condition, Instant t,
               std::string_view body_site = {});
  // An ImagingStudy and the radiologist's DiagnosticReport.
  Id ImagingStudy(Enc& e, Imaging i, bool left, std::string_view reason_condition, Instant t,
                  const Practitioner& radiologist, std::string_view conclusion);
  Id Referral(Enc& e, Fac to, std::string_view reason_condition, std::string_view text);
  // A CarePlan with a CareTeam (the patient's PCP plus `members`).
  void CarePlan(Enc& e, Cond c, std::string_view condition, const Practitioner* members[],
                int member_count);

  Id NewId(std::string_view tag);
  size_t resources() const { return resources_; }

 private:
  // Closes the resource being written and hands it to the sink, tagged with the facility whose
  // record it belongs to (the meta.tag Carechart stamps on every write), so that an import that
  // keeps source facilities labels each entry by where it was recorded, not by the importer.
  void Emit(RType type, const Id& id, Fac recorded_at);
  void FacilityTag(Fac recorded_at);
  void Subject();
  void Claim(const Enc& e, const Id& claim_id);

  const Region& region_;
  ResourceSink& sink_;
  const PatientInfo* p_ = nullptr;
  JsonWriter w_;
  uint32_t counter_ = 0;
  size_t resources_ = 0;
  Id coverage_;
  std::string display_name_;
};

}  // namespace carechart::synth
