// A few demo facilities and patients so that a new user sees a populated chart. Deterministic.
// The full synthetic generator (`carechart demo-data`) is its own piece of work.
#pragma once

#include <string>

namespace carechart::app {

// NDJSON text of the demo resources (Organizations, Practitioners, Patients and their records).
std::string DemoSeedNdjson();

}  // namespace carechart::app
