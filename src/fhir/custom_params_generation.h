// A counter of changes to the run-time search parameters (definitions.h: RegisterSearchParam,
// UnregisterSearchParam). Kept out of definitions.h, which nearly every file includes, because
// only what caches a view of the parameters (the CapabilityStatement) needs it.
#pragma once

#include <cstdint>

namespace carechart::fhir {

// Moves each time a run-time parameter is registered or removed: what is derived from the
// parameters is rebuilt when it differs from the value seen when it was built.
uint64_t CustomSearchParamsGeneration();

}  // namespace carechart::fhir
