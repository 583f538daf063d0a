// The CapabilityStatement, generated from the R4 definitions and from what this server really
// implements; built once at start-up.
#pragma once

#include <string>

#include "rest/fhir_api.h"

namespace carechart::rest {

std::string BuildCapabilityStatement(const ApiOptions& options);

}  // namespace carechart::rest
