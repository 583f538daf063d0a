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

// The fields of a FHIR date/dateTime/instant as written, for validators that need the precision
// and whether a zone was given. Missing parts keep their defaults (month/day 1, time 0).
struct DateTimeParts {
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int micros = 0;       // fraction of a second, truncated to microseconds
  int frac_digits = 0;  // digits written after the decimal point
  enum class Precision : unsigned char {
    kYear,
    kMonth,
    kDay,
    kMinute,
    kSecond
  } precision = Precision::kYear;
  bool has_zone = false;
  int zone_offset_minutes = 0;  // east of UTC
};

// Parses the union of the date, dateTime and instant grammars, also accepting a time without a
// zone and hh:mm without seconds (both occur in search queries). Validates calendar ranges
// (leap years, days per month, second 60 for leap seconds). Returns false on any other text.
bool ParseDateTimeParts(std::string_view text, DateTimeParts* out);

// FHIR `time`: hh:mm:ss with optional fraction, 00:00:00 .. 23:59:59.
bool IsValidFhirTime(std::string_view text);

// Formats an instant as a FHIR instant with microseconds, e.g. "2026-11-21T23:45:13.123456Z".
std::string FormatInstant(int64_t micros_since_epoch);

// An RFC 7231 HTTP-date ("Sat, 21 Nov 2026 23:45:13 GMT") for Last-Modified.
std::string FormatHttpDate(int64_t micros_since_epoch);

}  // namespace carechart::fhir
