// Internal to the generator: writes one random patient's scheduled events in order, keeping the
// clinical state (diagnoses, treatment, HbA1c and blood pressure under treatment, pharmacy fills).
// Bookkeeping in timeline_events.cc, the visits themselves in timeline_visits.cc.
#pragma once

#include "synth/timeline.h"

namespace carechart::synth {

class HistoryWriter {
 public:
  HistoryWriter(Model& m, RecordWriter& rw, const Region& region)
      : m_(m),
        r_(m.rng),
        rw_(rw),
        region_(region),
        pcp_(region.Staff(m.info.pcp, m.info.pcp_staff)) {}
  void Run();

 private:
  const Practitioner& Staff(Fac f) const { return region_.Staff(f, m_.info.pcp_staff + 1); }
  void AddMed(Enc& e, Med med, std::string_view reason, bool conflict_ok = false);
  void FillsUntil(Day day);
  void RecordDue(Enc& e, Day day);
  void Diagnose(Enc& e, Cond c);
  Vitals VitalsAt(Day day, bool full);
  double A1c(Day day);
  void DiabetesLabs(Enc& e, Day day, Instant t);
  void Panel(Enc& e, enum Panel p, Instant t, bool sick = false);

  void Handle(const Event& ev);
  void Wellness(const Event& ev);
  void Office(const Event& ev);
  void Specialist(const Event& ev);
  void Acute(const Event& ev);
  void Emergency(const Event& ev);
  void Admission(Enc& ed, Cond c, std::string_view cond_id);
  Med Antibiotic(Cond c, bool at_ed);

  Model& m_;
  Rng& r_;
  RecordWriter& rw_;
  const Region& region_;
  const Practitioner& pcp_;
  Day last_bp_change_ = 0;
  bool seen_endo_ = false, seen_podiatry_ = false, seen_cardiology_ = false;
};

}  // namespace carechart::synth
