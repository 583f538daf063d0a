// The story patient: María López (Patient/demo-maria-lopez), hand-written. Hypertension at
// primary care, a penicillin allergy recorded there, type 2 diabetes diagnosed there with
// glucose and HbA1c followed on metformin, referral to endocrinology when control slips
// (insulin glargine), to podiatry (diabetic foot examinations, neuropathy), and years later the
// emergency department for an infected foot ulcer, where amoxicillin-clavulanate is ordered
// despite the allergy, then admission to the hospital (labs, MRI, debridement, culture).
// Dates are written for --as-of 2026-11-01 and move with it.
#include "synth/timeline.h"

namespace carechart::synth {

namespace {

struct StoryDate {
  int y;
  unsigned m, d;
};

}  // namespace

void WriteStory(RecordWriter& rw, const Region& region, Day as_of) {
  const Day shift = as_of - DayFromCivil(2026, 11, 1);
  auto day = [&](StoryDate s) { return DayFromCivil(s.y, s.m, s.d) + shift; };
  auto at = [&](StoryDate s, int hour, int minute = 0) { return At(day(s), hour, minute); };

  PatientInfo p;
  p.id = "demo-maria-lopez";
  p.given = "María";
  p.middle = "Elena";
  p.family = "López";
  p.female = true;
  p.birth = day({1962, 4, 17});
  p.line = "418 Maple Street";
  p.town = 0;
  p.phone = "541-555-0142";
  p.marital = 'M';
  p.spanish = true;
  p.pcp = Fac::kRiversidePrimaryCare;
  p.pcp_staff = 0;
  p.payer = Payer::kCommercial;
  p.member_id = "CHP204815162";
  rw.BeginPatient(p);
  rw.Patient();
  rw.Coverage(day({2016, 1, 1}));

  const Practitioner& pcp = region.Staff(Fac::kRiversidePrimaryCare, 0);
  const Practitioner& endo = region.Staff(Fac::kLakesideEndocrinology, 0);
  const Practitioner& pod = region.Staff(Fac::kNorthgatePodiatry, 0);
  const Practitioner& ed_doc = region.Staff(Fac::kMercyEmergency, 0);
  const Practitioner& hospitalist = region.Staff(Fac::kMercyHospital, 0);
  const Practitioner& rad = region.Staff(Fac::kValleyImaging, 0);
  const Practitioner& pharmacist = region.Staff(Fac::kRiversidePharmacy, 0);
  const Fac kPc = Fac::kRiversidePrimaryCare;

  auto vitals = [&](Enc& e, double weight, double sys, double dia, bool full) {
    Vitals v;
    if (full) {
      v.height_cm = 158.0;
    }
    v.weight_kg = weight;
    v.systolic = sys;
    v.diastolic = dia;
    v.heart_rate = 76;
    v.resp_rate = 16;
    v.temp_c = 36.8;
    if (full) {
      v.spo2 = 98;
    }
    if (full) {
      v.smoking = 0;
    }
    rw.TakeVitals(e, v, e.start + 300);
  };
  std::string diabetes;
  auto a1c = [&](Enc& e, double value, double glucose) {
    rw.LabResult(e, Lab::kHba1c, value, e.start + 900);
    if (glucose > 0) {
      rw.LabResult(e, Lab::kGlucoseBlood, glucose, e.start + 900);
    }
  };
  const double kBmpNormal[] = {118, 15, 0.9, 139, 4.3, 102, 25, 9.4, 78};

  // 2016: hypertension at primary care.
  Enc e = rw.Open(Visit::kWellness, kPc, pcp, at({2016, 3, 8}, 9), at({2016, 3, 8}, 9, 40));
  vitals(e, 79.5, 148, 94, true);
  Id htn = rw.Condition(e, Cond::kHypertension, day({2016, 3, 8}));
  rw.Panel(e, Panel::kBmp, kBmpNormal, e.start + 900);
  Id lisinopril = rw.Prescribe(e, Med::kLisinopril, "active", htn.view());
  rw.CarePlan(e, Cond::kHypertension, htn.view(), nullptr, 0);
  rw.Close(e);
  e = rw.Open(Visit::kFollowUp, kPc, pcp, at({2016, 9, 12}, 10), at({2016, 9, 12}, 10, 25));
  vitals(e, 78.9, 136, 86, false);
  rw.Close(e);

  // 2018: the penicillin allergy (a rash in childhood) goes on her record at primary care.
  e = rw.Open(Visit::kWellness, kPc, pcp, at({2018, 2, 12}, 9), at({2018, 2, 12}, 9, 40));
  vitals(e, 81.2, 132, 84, true);
  rw.Allergy(e, Allergen::kPenicillin, day({1971, 6, 1}));
  const double lipids[] = {212, 168, 48, 130};
  rw.Panel(e, Panel::kLipid, lipids, e.start + 900);
  rw.Close(e);

  // 2021: type 2 diabetes diagnosed; metformin.
  e = rw.Open(Visit::kSymptom, kPc, pcp, at({2021, 5, 14}, 8, 30), at({2021, 5, 14}, 9),
              Cond::kDiabetes);
  vitals(e, 84.0, 134, 84, false);
  Id dm = rw.Condition(e, Cond::kDiabetes, day({2021, 5, 14}));
  diabetes = std::string(dm.view());
  a1c(e, 7.8, 156);
  const double bmp_dm[] = {162, 16, 0.9, 138, 4.4, 101, 24, 9.5, 76};
  rw.Panel(e, Panel::kBmp, bmp_dm, e.start + 900);
  Id metformin = rw.Prescribe(e, Med::kMetformin, "active", diabetes);
  rw.Close(e);

  struct Followup {
    StoryDate date;
    double a1c, glucose, weight, sys, dia;
  };
  const Followup pc_followups[] = {
      {{2021, 8, 16}, 7.2, 141, 83.1, 130, 82}, {{2021, 11, 15}, 7.0, 134, 82.6, 128, 80},
      {{2022, 5, 16}, 7.4, 150, 83.4, 131, 82}, {{2022, 11, 14}, 8.1, 178, 84.5, 134, 84},
      {{2023, 5, 15}, 8.9, 212, 85.2, 136, 86},
  };
  for (const Followup& f : pc_followups) {
    e = rw.Open(Visit::kFollowUp, kPc, pcp, at(f.date, 9), at(f.date, 9, 25));
    vitals(e, f.weight, f.sys, f.dia, false);
    a1c(e, f.a1c, f.glucose);
    if (f.date.y == 2022 && f.date.m == 5) {
      rw.LabResult(e, Lab::kUacr, 22, e.start + 900);
      rw.Procedure(e, Proc::kFootExam, diabetes, e.start + 1200, "56459004");
    }
    if (f.date.y == 2023) {
      rw.Referral(e, Fac::kLakesideEndocrinology, diabetes,
                  "Referral to endocrinology: HbA1c rising on metformin");
    }
    rw.Close(e);
  }

  // 2023-2026: endocrinology (insulin glargine), podiatry (neuropathy).
  Id insulin;
  const Followup endo_visits[] = {
      {{2023, 6, 12}, 9.1, 220, 85.0, 134, 84}, {{2023, 9, 11}, 8.2, 186, 84.1, 130, 82},
      {{2024, 1, 15}, 7.5, 160, 83.3, 128, 80}, {{2024, 7, 15}, 7.1, 146, 82.8, 126, 80},
      {{2025, 1, 13}, 6.9, 140, 82.5, 128, 80}, {{2025, 7, 14}, 7.2, 150, 83.0, 130, 82},
      {{2026, 1, 12}, 7.6, 165, 83.9, 132, 82},
  };
  bool first = true;
  for (const Followup& f : endo_visits) {
    e = rw.Open(first ? Visit::kConsult : Visit::kFollowUp, Fac::kLakesideEndocrinology, endo,
                at(f.date, 10), at(f.date, 10, 40), Cond::kDiabetes, diabetes);
    vitals(e, f.weight, f.sys, f.dia, false);
    a1c(e, f.a1c, f.glucose);
    if (first) {
      insulin = rw.Prescribe(e, Med::kInsulinGlargine, "active", diabetes,
                             "Continue metformin; titrate by 2 units every 3 days to fasting "
                             "glucose 80-130 mg/dL");
      const Practitioner* team[] = {&endo, &pod};
      rw.CarePlan(e, Cond::kDiabetes, diabetes, team, 2);
    }
    if (f.date.y == 2023 && f.date.m == 9) {
      rw.Referral(e, Fac::kNorthgatePodiatry, diabetes,
                  "Referral to podiatry: diabetic foot examination, reduced sensation");
    }
    first = false;
    rw.Close(e);
  }
  for (StoryDate d : {StoryDate{2023, 10, 23}, StoryDate{2024, 10, 21}, StoryDate{2025, 10, 20}}) {
    bool initial = d.y == 2023;
    e = rw.Open(initial ? Visit::kConsult : Visit::kFollowUp, Fac::kNorthgatePodiatry, pod,
                at(d, 14), at(d, 14, 30), Cond::kDiabetes, diabetes);
    if (initial) {
      rw.Condition(e, Cond::kNeuropathy, day(d));
    }
    rw.Procedure(e, Proc::kFootExam, diabetes, e.start + 600, "56459004");
    rw.Close(e);
  }

  // Pharmacy fills and flu shots until the emergency.
  const Day er_day = day({2026, 9, 18});
  struct Fill {
    Med med;
    Id rx;
    Day from;
  };
  const Fill fills[] = {{Med::kLisinopril, lisinopril, day({2016, 3, 8})},
                        {Med::kMetformin, metformin, day({2021, 5, 14})},
                        {Med::kInsulinGlargine, insulin, day({2023, 6, 12})}};
  for (const Fill& f : fills) {
    for (Day d = f.from; d < er_day; d += 90) {
      rw.Dispense(f.med, f.rx.view(), At(d, 16), pharmacist);
    }
  }
  for (int y = 2016; y <= 2025; ++y) {
    rw.Immunize(nullptr, Vaccine::kFlu, at({y, 10, 9}, 11), Fac::kRiversidePharmacy, pharmacist);
  }

  // 2026-09-18: the emergency department, then the hospital.
  e = rw.Open(Visit::kEmergency, Fac::kMercyEmergency, ed_doc, at({2026, 9, 18}, 19, 40),
              at({2026, 9, 18}, 23, 10), Cond::kFootUlcer);
  Vitals v;
  v.weight_kg = 84.2;
  v.systolic = 146;
  v.diastolic = 88;
  v.heart_rate = 106;
  v.resp_rate = 20;
  v.temp_c = 38.4;
  v.spo2 = 97;
  rw.TakeVitals(e, v, e.start + 600);
  Id ulcer = rw.Condition(e, Cond::kFootUlcer, day({2026, 9, 10}), -1, false);
  Id cellulitis =
      rw.Condition(e, Cond::kCellulitis, day({2026, 9, 15}), day({2026, 10, 12}), false);
  Instant lab_time = e.start + 1800;
  const double cbc[] = {16.2, 4.3, 12.4, 37.5, 310};
  rw.Panel(e, Panel::kCbc, cbc, lab_time);
  const double bmp_er[] = {284, 22, 1.1, 134, 4.6, 98, 21, 9.2, 64};
  rw.Panel(e, Panel::kBmp, bmp_er, lab_time);
  rw.LabResult(e, Lab::kCrp, 96, lab_time);
  rw.LabResult(e, Lab::kLactate, 2.1, lab_time);
  rw.LabResult(e, Lab::kGlucoseBlood, 284, lab_time);
  rw.ImagingStudy(e, Imaging::kFootXray, true, ulcer.view(), e.start + 3600, rad,
                  "Soft tissue swelling and ulceration plantar to the left first metatarsal "
                  "head; no cortical erosion. MRI recommended if osteomyelitis is suspected.");
  rw.Prescribe(e, Med::kAmoxClav875, "active", cellulitis.view(),
               "Started in the emergency department for diabetic foot infection");
  rw.Close(e);

  Enc h = rw.Open(Visit::kInpatient, Fac::kMercyHospital, hospitalist, at({2026, 9, 18}, 23, 40),
                  at({2026, 9, 23}, 11), Cond::kFootUlcer, ulcer.view());
  h.admitted_from_ed = true;
  h.diagnoses[0] = ulcer;
  h.diagnoses[1] = cellulitis;
  h.diagnosis_count = 2;
  rw.LabResult(h, Lab::kHba1c, 8.4, at({2026, 9, 19}, 6));
  rw.CodedResult(h, "6462-6", "Bacteria identified in Wound by Aerobe culture", "3092008",
                 "Staphylococcus aureus", at({2026, 9, 19}, 2));
  rw.ImagingStudy(h, Imaging::kFootMri, true, ulcer.view(), at({2026, 9, 19}, 10), rad,
                  "Plantar soft tissue ulcer with 1.8 cm abscess; no marrow signal abnormality "
                  "to suggest osteomyelitis.");
  rw.Prescribe(h, Med::kCiprofloxacinIv, "completed", cellulitis.view(),
               "Penicillin allergy: amoxicillin-clavulanate discontinued on admission");
  rw.Procedure(h, Proc::kDebridement, ulcer.view(), at({2026, 9, 19}, 15), "56459004");
  rw.Procedure(h, Proc::kWoundCare, ulcer.view(), at({2026, 9, 21}, 9), "56459004");
  const double cbc2[] = {11.8, 4.2, 12.1, 36.6, 295};
  rw.Panel(h, Panel::kCbc, cbc2, at({2026, 9, 21}, 6));
  rw.Prescribe(h, Med::kDoxycycline, "active", cellulitis.view());
  rw.Procedure(h, Proc::kMedRec, ulcer.view(), at({2026, 9, 23}, 10));
  rw.Close(h);

  // Wound check at podiatry after discharge.
  e = rw.Open(Visit::kFollowUp, Fac::kNorthgatePodiatry, pod, at({2026, 10, 6}, 14),
              at({2026, 10, 6}, 14, 30), Cond::kFootUlcer, ulcer.view());
  rw.Procedure(e, Proc::kWoundCare, ulcer.view(), e.start + 600, "56459004");
  rw.Close(e);
  rw.EndPatient();
}

}  // namespace carechart::synth
