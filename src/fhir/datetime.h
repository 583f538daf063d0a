// FHIR date, dateTime and instant values as ranges of instants, and formatting of instants.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace carechart::fhir {

// The closed range of instants a FHIR date/dateTime/instant covers, in microseconds since the
// Unix epoch (UTC): "2020" → [2020-01-01T00:00:00Z, 2020-12-31T23:59:59.999999Z];
// "2020-03-04T10:00:00+01:00" → one second. A dateTime without a zone is taken as UTC.
struct DateRange {
  int64_t low = 0;
  int64_t high = 0;
};

// Parses `text` (the FHIR date, dateTime or instant grammar, precision year to sub-second).
// Returns false when the text is not a valid FHIR date/dateTime/instant.
bool ParseDateRange(std::string_view text, DateRange* out);

// Formats an instant as a FHIR instant with microseconds, e.g. "2026-11-21T23:45:13.123456Z".
std::string FormatInstant(int64_t micros_since_epoch);

// An RFC 7231 HTTP-date ("Sat, 21 Nov 2026 23:45:13 GMT") for Last-Modified.
std::string FormatHttpDate(int64_t micros_since_epoch);

}  // namespace carechart::fhir
