// Whether a prepared version would change anything: imports re-run on the same data must not
// create new versions (see importer.h).
#pragma once

#include <string_view>

namespace carechart::rest {

// True when the two stored JSON bodies are the same resource apart from meta.versionId and
// meta.lastUpdated (the stamps every new version gets). False when either does not parse.
bool SameContentIgnoringVersion(std::string_view stored_body, std::string_view prepared_body);

}  // namespace carechart::rest
