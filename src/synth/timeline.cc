// Random patients, part 1: who they are and what will happen to them (the event schedule).
#include <algorithm>
#include <cstdio>

#include "synth/timeline.h"

namespace carechart::synth {

namespace {

constexpr double kDaysPerYear = 365.2425;

size_t I(Cond c) { return static_cast<size_t>(c); }

Day YearsBefore(Day day, double years) { return day - static_cast<Day>(years * kDaysPerYear); }

// Chronic conditions: prevalence at as_of by age band (0-17, 18-39, 40-64, 65+), earliest age.
struct Prevalence {
  Cond cond;
  double p[4];
  int min_age;
};
constexpr Prevalence kPrevalence[] = {
    {Cond::kHypertension, {0.0, 0.09, 0.36, 0.62}, 25},
    {Cond::kDiabetes, {0.002, 0.035, 0.14, 0.24}, 25},
    {Cond::kHyperlipidemia, {0.0, 0.06, 0.28, 0.40}, 25},
    {Cond::kAsthma, {0.08, 0.08, 0.08, 0.07}, 3},
    {Cond::kObesity, {0.15, 0.33, 0.40, 0.35}, 6},
    {Cond::kDepression, {0.03, 0.09, 0.08, 0.06}, 13},
    {Cond::kHypothyroid, {0.0, 0.03, 0.05, 0.09}, 20},
    {Cond::kOsteoarthritis, {0.0, 0.01, 0.10, 0.25}, 40},
    {Cond::kCopd, {0.0, 0.0, 0.04, 0.10}, 45},
    {Cond::kCad, {0.0, 0.0, 0.05, 0.15}, 45},
    {Cond::kAfib, {0.0, 0.0, 0.02, 0.09}, 50},
    {Cond::kCkd3, {0.0, 0.005, 0.04, 0.14}, 40},
};

int Band(int age) { return age < 18 ? 0 : age < 40 ? 1 : age < 65 ? 2 : 3; }

void AddEvent(Model& m, Day day, int hour, Ev kind, uint8_t arg = 0) {
  if (day < m.start || day >= m.as_of) {
    return;
  }
  int minute = static_cast<int>(m.rng.Below(4)) * 15;
  m.events.push_back({At(day, hour, minute), kind, arg});
}

void Demographics(Model& m, int64_t index) {
  Rng& r = m.rng;
  PatientInfo& p = m.info;
  char id[24];
  std::snprintf(id, sizeof id, "pat-%06lld", static_cast<long long>(index));
  p.id = id;
  // US-like age pyramid: 0-4, 5-17, 18-29, 30-44, 45-64, 65-79, 80-95.
  static constexpr double kWeights[] = {6, 16, 16, 19, 25, 13, 5};
  static constexpr int kLo[] = {0, 5, 18, 30, 45, 65, 80};
  static constexpr int kHi[] = {4, 17, 29, 44, 64, 79, 95};
  size_t band = r.Weighted(kWeights, 7);
  int age = static_cast<int>(r.Range(kLo[band], kHi[band]));
  p.birth = m.as_of - static_cast<Day>(age * kDaysPerYear) - static_cast<Day>(r.Below(365));
  p.female = r.Chance(age >= 65 ? 0.56 : 0.505);
  p.given = GivenName(r, p.female);
  if (r.Chance(0.6)) {
    p.middle = GivenName(r, p.female);
  }
  p.family = FamilyName(r);
  p.town = static_cast<int>(r.Below(static_cast<uint64_t>(TownCount())));
  p.line = std::to_string(r.Range(1, 9899)) + " " + std::string(StreetName(r));
  char phone[16];
  std::snprintf(phone, sizeof phone, "%.3s-555-%04d", TownAt(p.town).area_code.data(),
                static_cast<int>(r.Below(10000)));
  p.phone = phone;
  p.marital = age < 20 ? 'S' : "SSMMMMDW"[r.Below(8)];
  p.spanish = r.Chance(0.08);
  p.pcp = r.Chance(0.6) ? Fac::kRiversidePrimaryCare : Fac::kHillcrestFamilyMedicine;
  p.pcp_staff = static_cast<uint32_t>(r.Below(8));
  p.payer = age >= 65 ? Payer::kMedicare : r.Chance(0.2) ? Payer::kMedicaid : Payer::kCommercial;
  p.member_id = std::string(p.payer == Payer::kMedicare   ? "MA"
                            : p.payer == Payer::kMedicaid ? "MCD"
                                                          : "CHP") +
                std::to_string(100000000 + r.Below(900000000));
}

void Conditions(Model& m) {
  Rng& r = m.rng;
  int age = AgeOn(m.info.birth, m.as_of);
  for (const Prevalence& pr : kPrevalence) {
    if (age < pr.min_age || !r.Chance(pr.p[Band(age)])) {
      continue;
    }
    Day earliest = std::max(AddYears(m.info.birth, pr.min_age), YearsBefore(m.as_of, 25));
    Day latest = m.as_of - 30;
    if (latest <= earliest) {
      continue;
    }
    m.has[I(pr.cond)] = true;
    m.onset[I(pr.cond)] = earliest + static_cast<Day>(r.Below(latest - earliest));
  }
  if (m.Has(Cond::kDiabetes)) {
    m.has[I(Cond::kPrediabetes)] = false;
    m.poor_control = r.Chance(0.35);
    m.a1c_at_diagnosis = r.Normal(7.9, 0.5);
    if (r.Chance(0.3)) {  // neuropathy some years after the diagnosis
      m.has[I(Cond::kNeuropathy)] = true;
      m.onset[I(Cond::kNeuropathy)] =
          m.Onset(Cond::kDiabetes) + static_cast<Day>(r.Range(700, 3000));
      if (m.Onset(Cond::kNeuropathy) >= m.as_of - 30) {
        m.has[I(Cond::kNeuropathy)] = false;
      }
    }
  } else if (age >= 35 && r.Chance(age >= 60 ? 0.25 : 0.15)) {
    m.has[I(Cond::kPrediabetes)] = true;
    m.onset[I(Cond::kPrediabetes)] =
        std::max(AddYears(m.info.birth, 35), YearsBefore(m.as_of, r.Uniform(0.2, 8)));
  }
  if (m.Has(Cond::kHyperlipidemia) == false && m.Has(Cond::kDiabetes) && age >= 40 &&
      r.Chance(0.5)) {
    m.has[I(Cond::kHyperlipidemia)] = true;
    m.onset[I(Cond::kHyperlipidemia)] = m.Onset(Cond::kDiabetes) + 200;
    if (m.Onset(Cond::kHyperlipidemia) >= m.as_of - 30) {
      m.has[I(Cond::kHyperlipidemia)] = false;
    }
  }
  // Allergies: prevalence, onset in childhood or adult life.
  static constexpr double kAllergyP[] = {0.08, 0.03, 0.02, 0.01, 0.015, 0.12, 0.05};
  for (size_t a = 0; a < std::size(kAllergyP); ++a) {
    if (!r.Chance(kAllergyP[a])) {
      continue;
    }
    Day onset =
        m.info.birth + 400 +
        static_cast<Day>(r.Below(static_cast<uint64_t>(std::max(1, m.as_of - 400 - m.info.birth))));
    if (onset >= m.as_of - 30) {
      continue;
    }
    m.allergic[a] = true;
    m.allergy_onset[a] = onset;
  }
}

void Baselines(Model& m) {
  Rng& r = m.rng;
  int age = AgeOn(m.info.birth, m.as_of);
  m.smoking = age < 18 ? 0 : r.Chance(0.12) ? 2 : r.Chance(0.23) ? 1 : 0;
  if (m.Has(Cond::kCopd) && m.smoking == 0) {
    m.smoking = 1;
  }
  m.adult_height = m.info.female ? r.Normal(162.5, 6.5) : r.Normal(176.5, 7.2);
  m.bmi = m.Has(Cond::kObesity) ? r.Normal(34.5, 3.0) : r.Normal(25.0, 2.6);
  if (m.bmi >= 30 && !m.Has(Cond::kObesity)) {
    m.bmi = 29.4;
  }
  m.sys_base = r.Normal(116, 8);
  m.dia_base = r.Normal(75, 5);
}

void Schedule(Model& m) {
  Rng& r = m.rng;
  Day birth = m.info.birth;
  // Wellness: well-child visits by month of age, then yearly (adults mostly yearly).
  static constexpr int kWellChildMonths[] = {0, 2, 4, 6, 9, 12, 15, 18, 24, 30};
  for (int months : kWellChildMonths) {
    AddEvent(m, birth + 3 + static_cast<Day>(months * 30.44), 9 + static_cast<int>(r.Below(7)),
             Ev::kWellness);
  }
  bool chronic = false;
  for (Cond c : {Cond::kDiabetes, Cond::kHypertension, Cond::kAsthma, Cond::kCopd, Cond::kCad}) {
    chronic |= m.Has(c);
  }
  for (int age = 3; AddYears(birth, age) < m.as_of; ++age) {
    if (age >= 18 && !r.Chance(chronic || age >= 50 ? 0.92 : 0.72)) {
      continue;
    }
    AddEvent(m, AddYears(birth, age) + static_cast<Day>(r.Range(-20, 60)),
             8 + static_cast<int>(r.Below(9)), Ev::kWellness);
  }
  // Chronic conditions with onset in the window: a visit for the symptoms around onset.
  for (size_t c = 0; c < I(Cond::kCount); ++c) {
    if (m.has[c] && m.onset[c] >= m.start && c != I(Cond::kObesity)) {
      AddEvent(m, m.onset[c] + static_cast<Day>(r.Below(21)), 9 + static_cast<int>(r.Below(8)),
               Ev::kSymptom, static_cast<uint8_t>(c));
    }
  }
  // Follow-ups at primary care while a managed condition is known: the shortest interval wins.
  auto interval = [&](Day day) {
    int best = 0;
    auto consider = [&](Cond c, int days) {
      if (m.Has(c) && m.Onset(c) <= day && (best == 0 || days < best)) {
        best = days;
      }
    };
    consider(Cond::kDiabetes, 91);
    consider(Cond::kHypertension, 182);
    consider(Cond::kCkd3, 182);
    consider(Cond::kAsthma, 365);
    consider(Cond::kCopd, 182);
    consider(Cond::kDepression, 182);
    consider(Cond::kHypothyroid, 365);
    return best;
  };
  for (Day day = m.start + 30; day < m.as_of;) {
    int gap = interval(day);
    if (gap == 0) {
      day += 60;
      continue;
    }
    day += static_cast<Day>(gap * r.Uniform(0.85, 1.2));
    AddEvent(m, day, 8 + static_cast<int>(r.Below(9)), Ev::kFollowUp);
  }
  // Specialists.
  if (m.Has(Cond::kDiabetes)) {
    if (m.poor_control) {
      Day referral = m.Onset(Cond::kDiabetes) + static_cast<Day>(r.Range(400, 1100));
      AddEvent(m, referral, 10, Ev::kReferral, static_cast<uint8_t>(Fac::kLakesideEndocrinology));
      for (Day d = referral + 25 + static_cast<Day>(r.Below(20)); d < m.as_of;
           d += static_cast<Day>(r.Range(150, 200))) {
        AddEvent(m, d, 9 + static_cast<int>(r.Below(7)), Ev::kEndo);
      }
    }
    if (m.Has(Cond::kNeuropathy) || r.Chance(0.4)) {
      Day referral = m.Has(Cond::kNeuropathy) ? m.Onset(Cond::kNeuropathy) + 30
                                              : m.Onset(Cond::kDiabetes) + r.Range(200, 900);
      AddEvent(m, referral, 11, Ev::kReferral, static_cast<uint8_t>(Fac::kNorthgatePodiatry));
      for (Day d = referral + 30; d < m.as_of; d += static_cast<Day>(r.Range(330, 400))) {
        AddEvent(m, d, 9 + static_cast<int>(r.Below(7)), Ev::kPodiatry);
      }
    }
  }
  if (m.Has(Cond::kCad) || m.Has(Cond::kAfib)) {
    Day onset = std::min(m.Has(Cond::kCad) ? m.Onset(Cond::kCad) : m.as_of,
                         m.Has(Cond::kAfib) ? m.Onset(Cond::kAfib) : m.as_of);
    Day referral = std::max(onset, m.start) + 20;
    AddEvent(m, referral, 11, Ev::kReferral, static_cast<uint8_t>(Fac::kValleyHeartCardiology));
    for (Day d = referral + 21; d < m.as_of; d += static_cast<Day>(r.Range(330, 420))) {
      AddEvent(m, d, 9 + static_cast<int>(r.Below(7)), Ev::kCardiology);
    }
  }
  // Acute illness (by month), emergencies (by year), screening and flu shots.
  int years = 0;
  for (Day month = std::max(m.start, birth + 180); month < m.as_of; month += 30) {
    int age = AgeOn(birth, month);
    double rate = age < 6 ? 2.2 : age < 18 ? 1.3 : age < 65 ? 0.9 : 1.1;
    if (r.Chance(rate / 12)) {
      static constexpr Cond kChild[] = {Cond::kOtitis, Cond::kViralPharyngitis, Cond::kStrepThroat,
                                        Cond::kBronchitis};
      static constexpr Cond kAdult[] = {
          Cond::kSinusitis, Cond::kViralPharyngitis, Cond::kStrepThroat, Cond::kBronchitis,
          Cond::kUti,       Cond::kBackPain,         Cond::kAnkleSprain};
      Cond c = age < 12 ? r.Pick(kChild) : r.Pick(kAdult);
      if (c == Cond::kUti && !m.info.female) {
        c = Cond::kBackPain;
      }
      bool ed = c == Cond::kAnkleSprain ? r.Chance(0.5) : r.Chance(0.04);
      AddEvent(m, month + static_cast<Day>(r.Below(30)), 8 + static_cast<int>(r.Below(11)),
               ed ? Ev::kEmergency : Ev::kAcute, static_cast<uint8_t>(c));
    }
    if (++years % 12 != 0) {
      continue;
    }
    double er = 0.03 + (age >= 65 ? 0.05 : 0) + (m.Has(Cond::kDiabetes) ? 0.05 : 0) +
                (m.Has(Cond::kAsthma) ? 0.08 : 0) + (m.Has(Cond::kCad) ? 0.08 : 0);
    if (r.Chance(er)) {
      Cond c = Cond::kChestPain;
      if (m.Has(Cond::kAsthma) && r.Chance(0.5)) {
        c = Cond::kAsthmaExacerbation;
      } else if (age >= 60 && r.Chance(0.35)) {
        c = Cond::kPneumonia;
      } else if (m.Has(Cond::kDiabetes) && r.Chance(0.3)) {
        c = m.poor_control ? Cond::kFootUlcer : Cond::kHypoglycemia;
      } else if (age < 40) {
        c = Cond::kAnkleSprain;
      }
      AddEvent(m, month + static_cast<Day>(r.Below(300)), static_cast<int>(r.Below(24)),
               Ev::kEmergency, static_cast<uint8_t>(c));
    }
  }
  for (int age = 50; age <= 74 && m.info.female; age += 2) {
    if (r.Chance(0.7)) {
      AddEvent(m, AddYears(birth, age) + static_cast<Day>(r.Below(200)), 10, Ev::kMammogram);
    }
  }
  int first_year, y;
  unsigned mo, d;
  CivilFromDay(m.start, &first_year, &mo, &d);
  CivilFromDay(m.as_of, &y, &mo, &d);
  for (int year = first_year; year <= y; ++year) {
    Day day = DayFromCivil(year, 10, 1) + static_cast<Day>(r.Below(50));
    if (AgeOn(birth, day) >= 18 && r.Chance(AgeOn(birth, day) >= 65 ? 0.7 : 0.4)) {
      AddEvent(m, day, 10 + static_cast<int>(r.Below(8)), Ev::kFluShot);
    }
  }
  std::stable_sort(m.events.begin(), m.events.end(),
                   [](const Event& a, const Event& b) { return a.t < b.t; });
}

}  // namespace

void BuildModel(Model& m, int64_t index, Day as_of, int years) {
  m.as_of = as_of;
  m.events.clear();
  Demographics(m, index);
  m.start = std::max(m.info.birth, YearsBefore(as_of, years));
  Conditions(m);
  Baselines(m);
  Schedule(m);
}

}  // namespace carechart::synth
