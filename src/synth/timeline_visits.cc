// Random patients, part 3: the visits (wellness, problem and follow-up visits, referrals,
// specialists, acute illness, the emergency department and hospital admissions, screening).
#include <algorithm>
#include <cmath>

#include <cstring>

#include "synth/timeline_writer.h"

namespace carechart::synth {

namespace {

struct VaccineAt {
  int months;
  Vaccine v[6];
  int n;
};
constexpr VaccineAt kChildSchedule[] = {
    {0, {Vaccine::kHepB}, 1},
    {2,
     {Vaccine::kHepB, Vaccine::kDtap, Vaccine::kIpv, Vaccine::kHib, Vaccine::kPcv13,
      Vaccine::kRotavirus},
     6},
    {4, {Vaccine::kDtap, Vaccine::kIpv, Vaccine::kHib, Vaccine::kPcv13, Vaccine::kRotavirus}, 5},
    {6, {Vaccine::kHepB, Vaccine::kDtap, Vaccine::kIpv, Vaccine::kPcv13}, 4},
    {12, {Vaccine::kHib, Vaccine::kPcv13, Vaccine::kMmr, Vaccine::kVaricella, Vaccine::kHepA}, 5},
    {15, {Vaccine::kDtap}, 1},
    {18, {Vaccine::kHepA}, 1},
    {48, {Vaccine::kDtap, Vaccine::kIpv, Vaccine::kMmr, Vaccine::kVaricella}, 4},
    {132, {Vaccine::kTdap, Vaccine::kHpv, Vaccine::kMening}, 3},
    {144, {Vaccine::kHpv}, 1},
    {192, {Vaccine::kMening}, 1},
};

Instant Minutes(Instant t, int m) { return t + m * 60; }

}  // namespace

void WriteModel(Model& m, RecordWriter& rw, const Region& region) {
  HistoryWriter(m, rw, region).Run();
}

void HistoryWriter::Handle(const Event& ev) {
  switch (ev.kind) {
    case Ev::kWellness:
      return Wellness(ev);
    case Ev::kSymptom:
    case Ev::kFollowUp:
    case Ev::kReferral:
      return Office(ev);
    case Ev::kEndo:
    case Ev::kPodiatry:
    case Ev::kCardiology:
    case Ev::kMammogram:
      return Specialist(ev);
    case Ev::kAcute:
      return Acute(ev);
    case Ev::kEmergency:
      return Emergency(ev);
    case Ev::kFluShot:
      rw_.Immunize(nullptr, Vaccine::kFlu, ev.t, Fac::kRiversidePharmacy,
                   Staff(Fac::kRiversidePharmacy));
      return;
  }
}

void HistoryWriter::Wellness(const Event& ev) {
  Day day = DayOf(ev.t);
  int age = AgeOn(m_.info.birth, day);
  Enc e = rw_.Open(age < 18 ? Visit::kWellChild : Visit::kWellness, m_.info.pcp, pcp_, ev.t,
                   Minutes(ev.t, 40));
  RecordDue(e, day);
  rw_.TakeVitals(e, VitalsAt(day, true), Minutes(ev.t, 5));
  Instant t = Minutes(ev.t, 20);
  int months = static_cast<int>(std::lround((day - m_.info.birth) / 30.44));
  for (const VaccineAt& s : kChildSchedule) {
    if (std::abs(s.months - months) <= (s.months < 24 ? 1 : 6)) {
      for (int i = 0; i < s.n; ++i) {
        rw_.Immunize(&e, s.v[i], t, m_.info.pcp, pcp_);
      }
    }
  }
  unsigned month = MonthOf(day);
  bool flu_season = month >= 9 || month <= 3;
  if (age < 18 && months >= 6 && flu_season && r_.Chance(0.6)) {
    rw_.Immunize(&e, Vaccine::kFlu, t, m_.info.pcp, pcp_);
  }
  if (age >= 25 && age % 10 == 5) {
    rw_.Immunize(&e, Vaccine::kTd, t, m_.info.pcp, pcp_);
  }
  if (age == 50 || age == 51) {
    rw_.Immunize(&e, Vaccine::kZoster, t, m_.info.pcp, pcp_);
  }
  if (age == 65) {
    rw_.Immunize(&e, Vaccine::kPpsv23, t, m_.info.pcp, pcp_);
  }
  if (age >= 18) {
    bool diabetic = m_.Recorded(Cond::kDiabetes);
    if (age >= 40 || diabetic || m_.Recorded(Cond::kHypertension)) {
      if (r_.Chance(0.8)) {
        Panel(e, Panel::kBmp, t);
      }
    }
    if (diabetic || m_.Recorded(Cond::kHyperlipidemia) || (age >= 20 && r_.Chance(0.25))) {
      Panel(e, Panel::kLipid, t);
    }
    if (r_.Chance(0.3)) {
      Panel(e, Panel::kCbc, t);
    }
    if (diabetic) {
      DiabetesLabs(e, day, t);
      rw_.LabResult(e, Lab::kUacr, r_.Normal(m_.Recorded(Cond::kCkd3) ? 90 : 18, 6), t);
      rw_.Procedure(e, Proc::kFootExam, m_.CondId(Cond::kDiabetes), Minutes(ev.t, 25));
    } else if (m_.Recorded(Cond::kPrediabetes) || (age >= 35 && r_.Chance(0.3))) {
      rw_.LabResult(e, Lab::kHba1c, A1c(day), t);
    }
    if (m_.Recorded(Cond::kHypothyroid)) {
      rw_.LabResult(e, Lab::kTsh, r_.Normal(2.4, 0.8), t);
    }
  }
  rw_.Close(e);
}

void HistoryWriter::Office(const Event& ev) {
  Day day = DayOf(ev.t);
  enum Visit kind = ev.kind == Ev::kSymptom ? Visit::kSymptom : Visit::kFollowUp;
  Cond reason = ev.kind == Ev::kSymptom ? static_cast<Cond>(ev.arg) : Cond::kCount;
  Enc e = rw_.Open(kind, m_.info.pcp, pcp_, ev.t, Minutes(ev.t, 25), reason);
  RecordDue(e, day);
  rw_.TakeVitals(e, VitalsAt(day, false), Minutes(ev.t, 5));
  Instant t = Minutes(ev.t, 15);
  if (m_.Recorded(Cond::kDiabetes)) {
    DiabetesLabs(e, day, t);
  }
  if (reason == Cond::kAsthma || reason == Cond::kCopd) {
    rw_.Procedure(e, Proc::kSpirometry, m_.CondId(reason), t);
  }
  if (reason == Cond::kCad || reason == Cond::kAfib) {
    rw_.Procedure(e, Proc::kEcg, m_.CondId(reason), t);
  }
  if (reason == Cond::kHypothyroid) {
    rw_.LabResult(e, Lab::kTsh, r_.Normal(8.5, 2), t);
  }
  if (reason == Cond::kCkd3 || (ev.kind == Ev::kFollowUp && r_.Chance(0.25))) {
    Panel(e, Panel::kBmp, t);
  }
  // Blood pressure still high after six months on treatment: add the next drug.
  if (m_.Recorded(Cond::kHypertension) && m_.bp_meds < 3 && day - last_bp_change_ > 180 &&
      VitalsAt(day, false).systolic >= 140) {
    static constexpr Med kNext[] = {Med::kLisinopril, Med::kAmlodipine, Med::kHctz};
    AddMed(e, kNext[m_.bp_meds], m_.CondId(Cond::kHypertension));
    ++m_.bp_meds;
    last_bp_change_ = day;
  }
  if (ev.kind == Ev::kReferral) {
    Fac to = static_cast<Fac>(ev.arg);
    Cond why = to == Fac::kLakesideEndocrinology ? Cond::kDiabetes
               : to == Fac::kNorthgatePodiatry
                   ? (m_.Recorded(Cond::kNeuropathy) ? Cond::kNeuropathy : Cond::kDiabetes)
                   : (m_.Recorded(Cond::kCad) ? Cond::kCad : Cond::kAfib);
    rw_.Referral(e, to, m_.CondId(why), std::string("Referral to ") + std::string(Def(to).name));
  }
  rw_.Close(e);
}

void HistoryWriter::Specialist(const Event& ev) {
  Day day = DayOf(ev.t);
  Instant t = Minutes(ev.t, 15);
  if (ev.kind == Ev::kMammogram) {
    const Practitioner& rad = Staff(Fac::kValleyImaging);
    Enc e = rw_.Open(Visit::kImaging, Fac::kValleyImaging, rad, ev.t, Minutes(ev.t, 30));
    rw_.ImagingStudy(e, Imaging::kMammogram, false, {}, Minutes(ev.t, 5), rad,
                     r_.Chance(0.9) ? "BI-RADS 1: negative." : "BI-RADS 2: benign finding.");
    rw_.Close(e);
    return;
  }
  Fac fac = ev.kind == Ev::kEndo       ? Fac::kLakesideEndocrinology
            : ev.kind == Ev::kPodiatry ? Fac::kNorthgatePodiatry
                                       : Fac::kValleyHeartCardiology;
  bool& seen = ev.kind == Ev::kEndo       ? seen_endo_
               : ev.kind == Ev::kPodiatry ? seen_podiatry_
                                          : seen_cardiology_;
  const Practitioner& doc = Staff(fac);
  Enc e = rw_.Open(seen ? Visit::kFollowUp : Visit::kConsult, fac, doc, ev.t, Minutes(ev.t, 35));
  rw_.TakeVitals(e, VitalsAt(day, false), Minutes(ev.t, 5));
  if (ev.kind == Ev::kEndo) {
    double a1c = A1c(day);
    DiabetesLabs(e, day, t);
    if (m_.insulin_day < 0 && a1c > 8.0) {
      m_.a1c_at_insulin = a1c;
      m_.insulin_day = day;
      AddMed(e, Med::kInsulinGlargine, m_.CondId(Cond::kDiabetes));
    }
  } else if (ev.kind == Ev::kPodiatry) {
    if (m_.Has(Cond::kNeuropathy) && !m_.Recorded(Cond::kNeuropathy) &&
        m_.Onset(Cond::kNeuropathy) <= day) {
      Diagnose(e, Cond::kNeuropathy);
    }
    rw_.Procedure(e, Proc::kFootExam, m_.CondId(Cond::kDiabetes), t, "56459004");
  } else {
    for (Cond c : {Cond::kCad, Cond::kAfib}) {
      if (m_.Has(c) && !m_.Recorded(c) && m_.Onset(c) <= day) {
        Diagnose(e, c);
      }
    }
    std::string_view why = m_.Recorded(Cond::kCad) ? m_.CondId(Cond::kCad) : m_.CondId(Cond::kAfib);
    rw_.Procedure(e, Proc::kEcg, why, t);
    if (!seen) {
      rw_.ImagingStudy(e, Imaging::kEcho, false, why, Minutes(ev.t, 20), doc,
                       "Normal left ventricular size; ejection fraction 55 to 60%.");
    }
  }
  seen = true;
  rw_.Close(e);
}

Med HistoryWriter::Antibiotic(Cond c, bool at_ed) {
  bool pen = m_.allergy_recorded[static_cast<size_t>(Allergen::kPenicillin)];
  bool sulfa = m_.allergy_recorded[static_cast<size_t>(Allergen::kSulfonamide)];
  // Primary care sees the allergy list; elsewhere the order is sometimes written anyway, which
  // is what drug-allergy checking has to catch.
  bool ignore = at_ed && r_.Chance(0.35);
  switch (c) {
    case Cond::kStrepThroat:
    case Cond::kOtitis:
      return pen && !ignore ? Med::kAzithromycin : Med::kAmoxicillin;
    case Cond::kSinusitis:
      return pen && !ignore ? Med::kAzithromycin : Med::kAmoxClav;
    case Cond::kUti:
      return sulfa && !ignore ? Med::kNitrofurantoin
             : r_.Chance(0.5) ? Med::kSmxTmp
                              : Med::kNitrofurantoin;
    case Cond::kBackPain:
      return Med::kNaproxen;
    case Cond::kAnkleSprain:
      return Med::kIbuprofen;
    default:
      return Med::kAcetaminophen;
  }
}

void HistoryWriter::Acute(const Event& ev) {
  Day day = DayOf(ev.t);
  Cond c = static_cast<Cond>(ev.arg);
  Enc e = rw_.Open(Visit::kSymptom, m_.info.pcp, pcp_, ev.t, Minutes(ev.t, 20), c);
  RecordDue(e, day);
  Vitals v = VitalsAt(day, false);
  if (c != Cond::kBackPain && c != Cond::kAnkleSprain && c != Cond::kUti) {
    v.temp_c += 1.2;
  }
  rw_.TakeVitals(e, v, Minutes(ev.t, 3));
  Id id = rw_.Condition(e, c, day, day + 7 + static_cast<Day>(r_.Below(10)), false);
  if (c == Cond::kAnkleSprain) {
    rw_.ImagingStudy(e, Imaging::kAnkleXray, r_.Chance(0.5), id.view(), Minutes(ev.t, 10),
                     Staff(Fac::kValleyImaging), "No acute fracture or dislocation.");
  }
  if (c != Cond::kBronchitis) {
    AddMed(e, Antibiotic(c, false), id.view());
  }
  rw_.Close(e);
}

void HistoryWriter::Emergency(const Event& ev) {
  Day day = DayOf(ev.t);
  Cond c = static_cast<Cond>(ev.arg);
  if (c == Cond::kHypoglycemia && !m_.OnMed(Med::kInsulinGlargine)) {
    c = Cond::kChestPain;
  }
  if (c == Cond::kFootUlcer && !m_.Recorded(Cond::kDiabetes)) {
    c = Cond::kChestPain;
  }
  if (c == Cond::kAsthmaExacerbation && !m_.Recorded(Cond::kAsthma)) {
    c = Cond::kChestPain;
  }
  const Practitioner& doc = Staff(Fac::kMercyEmergency);
  Enc e = rw_.Open(Visit::kEmergency, Fac::kMercyEmergency, doc, ev.t,
                   Minutes(ev.t, 150 + static_cast<int>(r_.Below(180))), c);
  Vitals v = VitalsAt(day, true);
  v.smoking = -1;
  v.heart_rate += 15;
  if (c == Cond::kPneumonia || c == Cond::kFootUlcer) {
    v.temp_c += 1.5;
  }
  if (c == Cond::kAsthmaExacerbation || c == Cond::kPneumonia) {
    v.spo2 -= 6;
  }
  rw_.TakeVitals(e, v, Minutes(ev.t, 10));
  Instant t = Minutes(ev.t, 30);
  bool admit = c == Cond::kPneumonia || c == Cond::kFootUlcer;
  Id id = rw_.Condition(e, c, day, admit ? -1 : day + 3, false);
  const Practitioner& rad = Staff(Fac::kValleyImaging);
  switch (c) {
    case Cond::kChestPain:
      rw_.Procedure(e, Proc::kEcg, id.view(), t);
      rw_.LabResult(e, Lab::kTroponin, r_.Normal(6, 2), t);
      Panel(e, Panel::kCbc, t);
      Panel(e, Panel::kBmp, t);
      rw_.ImagingStudy(e, Imaging::kChestXray, false, id.view(), Minutes(ev.t, 50), rad,
                       "No acute cardiopulmonary process.");
      break;
    case Cond::kAsthmaExacerbation:
      rw_.Procedure(e, Proc::kNebulizer, id.view(), t);
      AddMed(e, Med::kPrednisone, id.view());
      break;
    case Cond::kHypoglycemia:
      rw_.LabResult(e, Lab::kGlucoseBlood, r_.Normal(48, 5), t);
      break;
    case Cond::kAnkleSprain:
      rw_.ImagingStudy(e, Imaging::kAnkleXray, r_.Chance(0.5), id.view(), Minutes(ev.t, 40), rad,
                       "No acute fracture or dislocation.");
      AddMed(e, Med::kIbuprofen, id.view());
      break;
    case Cond::kPneumonia:
      Panel(e, Panel::kCbc, t, true);
      Panel(e, Panel::kBmp, t);
      rw_.LabResult(e, Lab::kCrp, r_.Normal(85, 20), t);
      rw_.LabResult(e, Lab::kLactate, r_.Normal(1.9, 0.4), t);
      rw_.ImagingStudy(e, Imaging::kChestXray, false, id.view(), Minutes(ev.t, 50), rad,
                       "Right lower lobe consolidation consistent with pneumonia.");
      AddMed(e, Med::kCeftriaxone, id.view());
      break;
    case Cond::kFootUlcer: {
      Panel(e, Panel::kCbc, t, true);
      rw_.LabResult(e, Lab::kCrp, r_.Normal(60, 15), t);
      rw_.LabResult(e, Lab::kGlucoseBlood, r_.Normal(260, 30), t);
      rw_.ImagingStudy(e, Imaging::kFootXray, true, id.view(), Minutes(ev.t, 60), rad,
                       "Soft tissue swelling of the forefoot; no radiographic osteomyelitis.");
      AddMed(e,
             Antibiotic(Cond::kSinusitis, true) == Med::kAmoxClav ? Med::kAmoxClav875
                                                                  : Med::kDoxycycline,
             id.view());
      break;
    }
    default: {
      Med med = Antibiotic(c, true);
      AddMed(e, med, id.view());
    }
  }
  rw_.Close(e);
  if (admit) {
    Admission(e, c, id.view());
  }
}

void HistoryWriter::Admission(Enc& ed, Cond c, std::string_view cond_id) {
  const Practitioner& doc = Staff(Fac::kMercyHospital);
  int nights = 2 + static_cast<int>(r_.Below(3));
  Instant start = ed.end + 1800;
  Instant end = At(DayOf(start) + nights, 11);
  Enc e = rw_.Open(Visit::kInpatient, Fac::kMercyHospital, doc, start, end, c, cond_id);
  e.admitted_from_ed = true;
  if (e.diagnosis_count < 8) {
    std::memcpy(e.diagnoses[0].s, cond_id.data(), cond_id.size());
    e.diagnoses[0].n = static_cast<uint8_t>(cond_id.size());
    e.diagnosis_count = 1;
  }
  Day day = DayOf(start);
  Instant t = start + 6 * 3600;
  Panel(e, Panel::kBmp, t);
  if (c == Cond::kFootUlcer) {
    Id cell = rw_.Condition(e, Cond::kCellulitis, day, -1, false);
    rw_.CodedResult(e, "6462-6", "Bacteria identified in Wound by Aerobe culture", "3092008",
                    "Staphylococcus aureus", t);
    rw_.Procedure(e, Proc::kDebridement, cond_id, start + 20 * 3600, "56459004");
    rw_.Procedure(e, Proc::kWoundCare, cell.view(), start + 44 * 3600, "56459004");
    AddMed(e, Med::kCiprofloxacinIv, cell.view());
  }
  for (int n = 1; n < nights; ++n) {
    Panel(e, Panel::kCbc, At(day + n, 6), n == 1);
  }
  rw_.Procedure(e, Proc::kMedRec, cond_id, end - 3600);
  rw_.Close(e);
}

}  // namespace carechart::synth
