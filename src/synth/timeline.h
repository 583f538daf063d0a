// Random patients: demographics, conditions by age-specific prevalence, and a longitudinal
// history (wellness visits, chronic follow-ups, referrals to specialists, acute and emergency
// visits, admissions, screening, immunizations, pharmacy fills) written through RecordWriter.
// The hand-designed story patient lives in story.cc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "synth/catalog.h"
#include "synth/record_writer.h"
#include "synth/rng.h"

namespace carechart::synth {

enum class Ev : uint8_t {
  kWellness,
  kSymptom,
  kFollowUp,
  kReferral,
  kEndo,
  kPodiatry,
  kCardiology,
  kAcute,
  kEmergency,
  kMammogram,
  kFluShot
};
struct Event {
  Instant t;
  Ev kind;
  uint8_t arg;  // Cond for kSymptom/kAcute/kEmergency, Fac for kReferral
};

struct ActiveMed {
  Med med;
  Id rx;
  Day next_fill;
  bool active;
};

// Everything known about one random patient while their history is written.
struct Model {
  explicit Model(uint64_t seed) : rng(seed) {}
  Rng rng;
  PatientInfo info;
  Day as_of = 0, start = 0;
  int smoking = 0;
  double adult_height = 170, bmi = 25, sys_base = 118, dia_base = 76;
  bool has[static_cast<size_t>(Cond::kCount)] = {};
  Day onset[static_cast<size_t>(Cond::kCount)] = {};
  bool allergic[static_cast<size_t>(Allergen::kCount)] = {};
  Day allergy_onset[static_cast<size_t>(Allergen::kCount)] = {};
  bool poor_control = false;  // diabetes worsens on metformin alone: endocrinology, insulin
  // State while writing.
  Id cond_id[static_cast<size_t>(Cond::kCount)];
  bool recorded[static_cast<size_t>(Cond::kCount)] = {};
  bool allergy_recorded[static_cast<size_t>(Allergen::kCount)] = {};
  Day metformin_day = -1, insulin_day = -1;
  double a1c_at_diagnosis = 7.6, a1c_at_insulin = 9;
  int bp_meds = 0;
  ActiveMed meds[12];
  int med_count = 0;
  std::vector<Event> events;

  bool Has(Cond c) const { return has[static_cast<size_t>(c)]; }
  Day Onset(Cond c) const { return onset[static_cast<size_t>(c)]; }
  bool Recorded(Cond c) const { return recorded[static_cast<size_t>(c)]; }
  std::string_view CondId(Cond c) const {
    return recorded[static_cast<size_t>(c)] ? cond_id[static_cast<size_t>(c)].view()
                                            : std::string_view{};
  }
  bool OnMed(Med m) const {
    for (int i = 0; i < med_count; ++i) {
      if (meds[i].med == m && meds[i].active) {
        return true;
      }
    }
    return false;
  }
};

// Builds patient `index` of `seed` (demographics, conditions, the schedule of events).
void BuildModel(Model& m, int64_t index, Day as_of, int years);
// Writes the patient's resources in chronological order.
void WriteModel(Model& m, RecordWriter& rw, const Region& region);

// The hand-written story of María López (id demo-maria-lopez); dates end shortly before as_of.
void WriteStory(RecordWriter& rw, const Region& region, Day as_of);

}  // namespace carechart::synth
