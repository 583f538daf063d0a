// What the web apps' stories need beyond the generated records (serve --demo): today's clinic
// schedule for the demo doctor, free Slots to book at two facilities, a patient message awaiting
// a reply, a lab result awaiting review, and the small terminology set for code search and
// allergy checks (terminology.ndjson). Unlike the generator these depend on the clock: the
// schedule is always today's.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "synth/dates.h"

namespace carechart::synth {

// "Dr <given> <family>" of that Practitioner.
std::string DemoDoctorName();
// The demo doctor's Practitioner (María's primary-care physician) and facilities.
inline constexpr std::string_view kDemoDoctorPractitioner = "prac-rpc-01";
inline constexpr std::string_view kDemoDoctorFacilities[] = {"riverside-primary-care",
                                                             "lakeside-endocrinology"};

struct WebResource {
  std::string type, id, json;
  std::string facility;  // the Organization it is recorded at (its facility stamp)
};
// Every web-story resource for `today` (the local date), times written with that UTC offset.
// Ids of date-bound resources carry the date, so a later start adds that day's schedule beside
// the earlier ones.
// `patient_name` gives the display of a generated patient (empty: the reference alone).
std::vector<WebResource> WebStoryResources(
    Day today, int utc_offset_minutes = 0,
    const std::function<std::string(const std::string& patient_id)>& patient_name = {});

// The terminology set (CodeSystems, ValueSets, a ConceptMap): NDJSON, one resource a line.
std::string_view TerminologyNdjson();

}  // namespace carechart::synth
