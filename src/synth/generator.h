// `carechart demo-data`: a deterministic generator of realistic synthetic patients.
//
// Same options, byte-identical output: a seeded xoshiro256** per patient (patient i's stream
// derives from (seed, i), so a 10-patient dataset is the first 10 patients of a 10,000-patient
// one) and no clock (histories run back from `as_of`). Patients are generated one at a time into
// a ResourceSink, so memory does not grow with the number of patients.
//
// Patient 0 is the hand-written story patient (Patient/demo-maria-lopez, see story.cc) unless
// `story` is off; the others are pat-000001, pat-000002 ...
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "synth/dates.h"
#include "synth/sink.h"

namespace carechart::synth {

struct Options {
  uint64_t seed = 1;
  int64_t patients = 10;
  std::string as_of = "2026-11-01";  // histories end the day before
  int years = 30;                    // history length (at most; from birth for the young)
  bool story = true;
};

struct Progress {
  int64_t patients_done = 0;
  int64_t patients = 0;
  int64_t resources = 0;
};

class Generator {
 public:
  // Fails on an unusable as_of date.
  static StatusOr<Generator> Create(const Options& options);

  // The shared reference data: payers, facilities, their locations, practitioners and roles.
  void WriteReferenceData(ResourceSink& sink);
  // Patient `index` (0 .. patients-1) and their whole record.
  void WritePatient(int64_t index, ResourceSink& sink);
  // Everything: reference data, then each patient; `progress` after each patient.
  void WriteAll(ResourceSink& sink, const std::function<void(const Progress&)>& progress = {});

  int64_t resources() const { return resources_; }

 private:
  Generator(const Options& options, Day as_of) : options_(options), as_of_(as_of) {}
  Options options_;
  Day as_of_;
  int64_t resources_ = 0;
};

}  // namespace carechart::synth
