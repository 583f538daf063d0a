// Random patients, part 2: the bookkeeping of HistoryWriter (treatment, fills, vital signs,
// lab values).
#include <algorithm>

#include <cmath>
#include <iterator>

#include "synth/timeline_writer.h"

namespace carechart::synth {

namespace {

size_t I(Cond c) { return static_cast<size_t>(c); }
double Years(Day from, Day to) { return (to - from) / 365.2425; }
double Clamp(double v, double lo, double hi) { return std::min(hi, std::max(lo, v)); }

}  // namespace

void HistoryWriter::Run() {
  rw_.BeginPatient(m_.info);
  rw_.Patient();
  rw_.Coverage(m_.start);
  for (const Event& ev : m_.events) {
    FillsUntil(DayOf(ev.t));
    Handle(ev);
  }
  FillsUntil(m_.as_of);
  rw_.EndPatient();
}

void HistoryWriter::AddMed(Enc& e, Med med, std::string_view reason, bool conflict_ok) {
  const MedDef& d = Def(med);
  if (!d.chronic) {
    bool done = DayOf(e.start) + d.days < m_.as_of;
    rw_.Prescribe(e, med, done ? "completed" : "active", reason);
    return;
  }
  if (m_.OnMed(med) || m_.med_count >= 12) {
    return;
  }
  ActiveMed& a = m_.meds[m_.med_count++];
  a.med = med;
  a.rx = rw_.Prescribe(e, med, "active", reason);
  a.next_fill = DayOf(e.start);
  a.active = true;
}

void HistoryWriter::FillsUntil(Day day) {
  const Practitioner& pharmacist = Staff(Fac::kRiversidePharmacy);
  for (int i = 0; i < m_.med_count; ++i) {
    ActiveMed& a = m_.meds[i];
    while (a.active && a.next_fill <= day && a.next_fill < m_.as_of) {
      rw_.Dispense(a.med, a.rx.view(), At(a.next_fill, 11 + static_cast<int>(r_.Below(8))),
                   pharmacist);
      a.next_fill += Def(a.med).days + static_cast<Day>(r_.Below(12));
    }
  }
}

void HistoryWriter::RecordDue(Enc& e, Day day) {
  for (size_t c = 0; c < I(Cond::kCount); ++c) {
    if (m_.has[c] && !m_.recorded[c] && m_.onset[c] <= day) {
      Diagnose(e, static_cast<Cond>(c));
    }
  }
  for (size_t a = 0; a < static_cast<size_t>(Allergen::kCount); ++a) {
    if (m_.allergic[a] && !m_.allergy_recorded[a] && m_.allergy_onset[a] <= day) {
      rw_.Allergy(e, static_cast<Allergen>(a), m_.allergy_onset[a]);
      m_.allergy_recorded[a] = true;
      if (a == static_cast<size_t>(Allergen::kPeanut) ||
          a == static_cast<size_t>(Allergen::kBeeVenom)) {
        AddMed(e, Med::kEpinephrine, {});
      }
    }
  }
}

void HistoryWriter::Diagnose(Enc& e, Cond c) {
  m_.cond_id[I(c)] = rw_.Condition(e, c, m_.Onset(c));
  m_.recorded[I(c)] = true;
  std::string_view id = m_.CondId(c);
  Day day = DayOf(e.start);
  switch (c) {
    case Cond::kDiabetes:
      AddMed(e, Med::kMetformin, id);
      m_.metformin_day = day;
      rw_.CarePlan(e, c, id, nullptr, 0);
      break;
    case Cond::kHypertension:
      if (r_.Chance(0.8)) {
        AddMed(e, Med::kLisinopril, id);
        m_.bp_meds = 1;
      }
      rw_.CarePlan(e, c, id, nullptr, 0);
      break;
    case Cond::kHyperlipidemia:
      AddMed(e, Med::kSimvastatin, id);
      break;
    case Cond::kAsthma:
      AddMed(e, Med::kAlbuterol, id);
      if (r_.Chance(0.5)) {
        AddMed(e, Med::kFluticasone, id);
      }
      rw_.CarePlan(e, c, id, nullptr, 0);
      break;
    case Cond::kCopd:
      AddMed(e, Med::kAlbuterol, id);
      break;
    case Cond::kHypothyroid:
      AddMed(e, Med::kLevothyroxine, id);
      break;
    case Cond::kDepression:
      if (r_.Chance(0.6)) {
        AddMed(e, Med::kSertraline, id);
      }
      break;
    case Cond::kAfib:
      AddMed(e, Med::kApixaban, id);
      AddMed(e, Med::kMetoprolol, id);
      break;
    case Cond::kCad:
      AddMed(e, Med::kAspirin, id);
      if (!m_.OnMed(Med::kSimvastatin)) {
        AddMed(e, Med::kAtorvastatin, id);
      }
      if (r_.Chance(0.3)) {
        AddMed(e, Med::kClopidogrel, id);
      }
      break;
    case Cond::kCkd3:
      if (!m_.OnMed(Med::kLisinopril)) {
        AddMed(e, Med::kLosartan, id);
      }
      break;
    case Cond::kOsteoarthritis:
      AddMed(e, Med::kNaproxen, id);
      break;
    default:
      break;
  }
}

Vitals HistoryWriter::VitalsAt(Day day, bool full) {
  Vitals v;
  double age = Years(m_.info.birth, day);
  static constexpr double kAge[] = {0, 1, 2, 5, 10, 14, 18};
  static constexpr double kFrac[] = {0.29, 0.43, 0.50, 0.62, 0.79, 0.92, 1.0};
  double frac = 1.0;
  for (int i = 0; i < 6; ++i) {
    if (age >= kAge[i] && age < kAge[i + 1]) {
      frac = kFrac[i] + (kFrac[i + 1] - kFrac[i]) * (age - kAge[i]) / (kAge[i + 1] - kAge[i]);
    }
  }
  double h = m_.adult_height * frac - (age > 65 ? (age - 65) * 0.15 : 0);
  double bmi =
      age < 18 ? 15.5 + age * 0.15 + (m_.bmi - 25) * 0.3 : m_.bmi - 0.1 * Years(day, m_.as_of);
  if (full) {
    v.height_cm = h;
  }
  v.weight_kg = bmi * h * h / 10000.0 + r_.Normal(0, age < 18 ? 0.2 : 0.8);
  if (full) {
    v.height_cm = h;
  }
  v.heart_rate = Clamp(r_.Normal(age < 2 ? 120 : age < 12 ? 95 : 72, 7), 50, 170);
  v.resp_rate = Clamp(r_.Normal(age < 2 ? 30 : age < 12 ? 20 : 15, 1.5), 10, 45);
  v.temp_c = r_.Normal(36.8, 0.2);
  if (age >= 3) {
    double sys = m_.sys_base + std::max(0.0, age - 40) * 0.3 - (age < 18 ? 12 : 0);
    double dia = m_.dia_base + std::max(0.0, age - 40) * 0.05 - (age < 18 ? 8 : 0);
    if (m_.Has(Cond::kHypertension) && day >= m_.Onset(Cond::kHypertension)) {
      sys += 30 - 11 * m_.bp_meds;
      dia += 15 - 6 * m_.bp_meds;
    }
    v.systolic = std::round(sys + r_.Normal(0, 6));
    v.diastolic = std::round(dia + r_.Normal(0, 4));
  }
  if (full) {
    v.spo2 = std::round(Clamp(r_.Normal(m_.Has(Cond::kCopd) ? 93 : 98, 1), 85, 100));
  }
  if (full && age >= 13) {
    v.smoking = m_.smoking;
  }
  return v;
}

double HistoryWriter::A1c(Day day) {
  double a1c;
  if (!m_.Has(Cond::kDiabetes) || day < m_.Onset(Cond::kDiabetes)) {
    a1c = m_.Has(Cond::kPrediabetes) && day >= m_.Onset(Cond::kPrediabetes) ? 6.0 : 5.3;
  } else if (m_.metformin_day < 0) {
    a1c = m_.a1c_at_diagnosis;
  } else if (m_.insulin_day >= 0) {
    a1c = std::max(6.8, m_.a1c_at_insulin - 2.0 * std::min(1.0, Years(m_.insulin_day, day) * 2));
  } else {
    double y = Years(m_.metformin_day, day);
    a1c = m_.a1c_at_diagnosis - 0.9 * std::min(1.0, y * 2) + (m_.poor_control ? 0.7 : 0.1) * y;
  }
  return Clamp(a1c + r_.Normal(0, 0.2), 4.2, 13.5);
}

void HistoryWriter::DiabetesLabs(Enc& e, Day day, Instant t) {
  double a1c = A1c(day);
  rw_.LabResult(e, Lab::kHba1c, a1c, t);
  rw_.LabResult(e, Lab::kGlucoseBlood, 28.7 * a1c - 46.7 + r_.Normal(0, 12), t);
}

void HistoryWriter::Panel(Enc& e, enum Panel p, Instant t, bool sick) {
  double v[9];
  if (p == Panel::kBmp) {
    bool ckd = m_.Has(Cond::kCkd3) && DayOf(t) >= m_.Onset(Cond::kCkd3);
    double creat = ckd ? r_.Normal(1.6, 0.15) : r_.Normal(m_.info.female ? 0.8 : 1.0, 0.1);
    double glucose = m_.Has(Cond::kDiabetes) && DayOf(t) >= m_.Onset(Cond::kDiabetes)
                         ? 28.7 * A1c(DayOf(t)) - 46.7
                         : r_.Normal(90, 8);
    double vals[] = {
        glucose,           r_.Normal(ckd ? 28 : 14, 3), creat,
        r_.Normal(139, 2), r_.Normal(4.2, 0.3),         r_.Normal(102, 2),
        r_.Normal(25, 2),  r_.Normal(9.5, 0.3),         ckd ? r_.Normal(45, 6) : r_.Normal(92, 10)};
    std::copy(std::begin(vals), std::end(vals), v);
  } else if (p == Panel::kLipid) {
    bool high = m_.Has(Cond::kHyperlipidemia) && !m_.OnMed(Med::kSimvastatin) &&
                !m_.OnMed(Med::kAtorvastatin);
    double ldl = r_.Normal(high ? 165 : 105, 18), hdl = r_.Normal(52, 8);
    double tg = r_.Normal(high ? 210 : 130, 30);
    double vals[] = {ldl + hdl + tg / 5, tg, hdl, ldl};
    std::copy(std::begin(vals), std::end(vals), v);
  } else {
    double vals[] = {sick ? r_.Normal(15.5, 2.5) : r_.Normal(7.0, 1.3), r_.Normal(4.8, 0.3),
                     r_.Normal(m_.info.female ? 13.5 : 15.0, 0.8), r_.Normal(42, 3),
                     r_.Normal(260, 45)};
    std::copy(std::begin(vals), std::end(vals), v);
  }
  rw_.Panel(e, p, v, t);
}

}  // namespace carechart::synth
