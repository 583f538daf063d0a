#include "synth/generator.h"

#include <iterator>

#include "synth/record_writer.h"
#include "synth/region.h"
#include "synth/timeline.h"

namespace carechart::synth {

namespace {

// Counts what passes through to the real sink.
class CountingSink : public ResourceSink {
 public:
  explicit CountingSink(ResourceSink& inner) : inner_(inner) {}
  void Add(RType type, std::string_view id, std::string_view json) override {
    ++count;
    inner_.Add(type, id, json);
  }
  void EndGroup(std::string_view name) override { inner_.EndGroup(name); }
  int64_t count = 0;

 private:
  ResourceSink& inner_;
};

const Region& TheRegion() {
  static const Region region;
  return region;
}

}  // namespace

std::string_view TypeName(RType t) {
  static constexpr std::string_view kNames[] = {"Organization",
                                                "Location",
                                                "Practitioner",
                                                "PractitionerRole",
                                                "Patient",
                                                "Coverage",
                                                "Encounter",
                                                "Condition",
                                                "AllergyIntolerance",
                                                "Observation",
                                                "DiagnosticReport",
                                                "ServiceRequest",
                                                "MedicationRequest",
                                                "MedicationDispense",
                                                "Immunization",
                                                "Procedure",
                                                "ImagingStudy",
                                                "CarePlan",
                                                "CareTeam",
                                                "Claim",
                                                "ExplanationOfBenefit"};
  static_assert(std::size(kNames) == static_cast<size_t>(RType::kCount));
  return kNames[static_cast<size_t>(t)];
}

StatusOr<Generator> Generator::Create(const Options& options) {
  auto day = ParseDate(options.as_of);
  if (!day) {
    return InvalidError("--as-of must be a date YYYY-MM-DD, got '" + options.as_of + "'");
  }
  if (options.patients < 0) {
    return InvalidError("--patients must not be negative");
  }
  if (options.years < 1 || options.years > 100) {
    return InvalidError("--years must be 1..100");
  }
  return Generator(options, *day);
}

void Generator::WriteReferenceData(ResourceSink& sink) {
  CountingSink counting(sink);
  JsonWriter w;
  TheRegion().Write(w, counting);
  resources_ += counting.count;
}

void Generator::WritePatient(int64_t index, ResourceSink& sink) {
  CountingSink counting(sink);
  // A few allocations per patient (the writer's buffer, the event list): nothing per resource.
  RecordWriter writer(TheRegion(), counting);
  if (index == 0 && options_.story) {
    WriteStory(writer, TheRegion(), as_of_);
  } else {
    Model model(DeriveSeed(options_.seed, static_cast<uint64_t>(index)));
    model.events.reserve(256);
    BuildModel(model, index, as_of_, options_.years);
    WriteModel(model, writer, TheRegion());
  }
  resources_ += counting.count;
}

void Generator::WriteAll(ResourceSink& sink, const std::function<void(const Progress&)>& progress) {
  WriteReferenceData(sink);
  Progress p;
  p.patients = options_.patients;
  for (int64_t i = 0; i < options_.patients; ++i) {
    WritePatient(i, sink);
    if (progress) {
      p.patients_done = i + 1;
      p.resources = resources_;
      progress(p);
    }
  }
}

}  // namespace carechart::synth
