// Calendar arithmetic for the generator: days since 1970-01-01 and seconds since the epoch (UTC),
// formatted as FHIR date, dateTime and instant text without any time-zone database.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace carechart::synth {

using Day = int32_t;      // days since 1970-01-01
using Instant = int64_t;  // seconds since 1970-01-01T00:00:00Z

constexpr int64_t kSecondsPerDay = 86400;

Day DayFromCivil(int y, unsigned m, unsigned d);
void CivilFromDay(Day day, int* y, unsigned* m, unsigned* d);

inline Instant At(Day day, int hour, int minute = 0) {
  return static_cast<Instant>(day) * kSecondsPerDay + hour * 3600 + minute * 60;
}
inline Day DayOf(Instant t) { return static_cast<Day>(t / kSecondsPerDay); }

// Whole years between `birth` and `day`.
int AgeOn(Day birth, Day day);
// `day` moved by whole years (Feb 29 → Feb 28).
Day AddYears(Day day, int years);
// Month (1-12) of `day`.
unsigned MonthOf(Day day);

// "YYYY-MM-DD" (10 chars) into out; returns chars written.
int FormatDate(Day day, char* out);
// "YYYY-MM-DDThh:mm:ssZ" (20 chars).
int FormatInstant(Instant t, char* out);

// Parses "YYYY-MM-DD".
std::optional<Day> ParseDate(std::string_view text);

}  // namespace carechart::synth
