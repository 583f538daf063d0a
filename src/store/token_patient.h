// The patient column of token rows (decisions D60): `Patient?_has:Observation:patient:code=X`
// asks which patients the Observations with code X refer to. Reading each Observation's
// `patient` reference (one index seek per Observation, ~11,000 for a lab code at 1 k patients)
// is replaced by reading the code's token rows alone, each of which carries the patient.
//
// The column holds the target id of the one Patient that the resource's own R4 `patient`
// parameter refers to, and '' when it refers to none or to several (or the type has no R4
// `patient` parameter). A search reads the column where it is set and the reference rows of
// the resources where it is '', so the answer is exact whatever the column holds for those.
// Run-time SearchParameters named `patient` are left out: a reindex of that parameter alone
// rewrites its reference rows but not the token rows.
#pragma once

#include <string>
#include <string_view>

#include "fhir/search_index.h"

namespace carechart::store {

// Whether R4 defines a `patient` reference parameter for `type`.
bool HasR4PatientParam(std::string_view type);

// The patient column of the token rows of a resource of `type` with index entries `ix`.
std::string_view TokenRowPatient(std::string_view type, const fhir::IndexEntries& ix);

// "k1, k2, ...": ParamKey(T, "patient") of every type T with R4's `patient` parameter.
std::string PatientParamKeyList();

}  // namespace carechart::store
