// URL pieces the server needs: percent-decoding and query-string splitting (Boost 1.74 has no
// Boost.URL, and no Debian package offers a small one).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace carechart::http {

// Decodes %XX escapes (and '+' as space when `plus_is_space`). Returns nullopt on a malformed
// escape or when the result is not valid UTF-8 or contains a NUL.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// Splits "a=1&b=2" into decoded pairs, in order; empty segments are skipped. Returns nullopt on a
// malformed escape (the caller answers 400).
std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query);

// Encodes a query value for use in a link we generate (self/next links).
std::string PercentEncode(std::string_view text);

bool IsValidUtf8(std::string_view text);

// The non-empty segments of a (decoded) path: "/fhir/Patient/1" → {"fhir", "Patient", "1"}.
std::vector<std::string> SplitPath(std::string_view path);

}  // namespace carechart::http
