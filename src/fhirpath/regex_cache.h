// Compiled RE2 patterns shared by all evaluations (internal to cc_fhirpath).
#pragma once

#include <memory>
#include <string_view>

namespace re2 {
class RE2;
}

namespace carechart::fhirpath {

// The compiled pattern (dot matches newline, as FHIRPath requires), or nullptr when invalid.
// `full` anchors it at both ends (matchesFull). Patterns are cached process-wide (bounded);
// thread-safe.
// `flags` are FHIRPath's matches() flags: i (case-insensitive), m (multi-line anchors).
std::shared_ptr<const re2::RE2> CompileRegex(std::string_view pattern, bool full,
                                             std::string_view flags = {});

}  // namespace carechart::fhirpath
