// JSON Patch (RFC 6902) with JSON Pointer (RFC 6901) paths, applied to a json::Value.
#pragma once

#include "core/status.h"
#include "fhir/json.h"

namespace carechart::rest {

// Applies every operation of `patch` (a JSON array) to `target`, in order. On any error (a
// malformed operation, a missing path, a failed "test") returns kInvalid / kUnprocessable naming
// the operation's index, and `target` may be partly changed: callers patch a copy.
Status ApplyJsonPatch(const json::Value& patch, json::Value& target);

}  // namespace carechart::rest
