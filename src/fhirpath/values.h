// System value types of FHIRPath: Decimal, Date/DateTime/Time and Quantity.
//
// Decimals are exact: a 128-bit integer scaled by a power of ten, so `1.50` keeps its two digits
// and `0.1 + 0.2 = 0.3` holds. Date/time values keep the precision they were written with (a
// partial date such as `@2015-02` is a value in its own right, not a rounded instant), which is
// what FHIRPath comparison rules need: comparing values of different precision may give empty.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace carechart::fhirpath {

// value = units / 10^scale. Scale 0..kMaxScale; 38 significant digits at most.
struct Decimal {
  static constexpr int kMaxScale = 30;
  __int128 units = 0;
  int scale = 0;

  static Decimal FromInt(int64_t v) { return {v, 0}; }
  // Parses `[-+]digits[.digits]` (no exponent). nullopt on anything else or overflow.
  static std::optional<Decimal> Parse(std::string_view text);
  // Nearest decimal with up to 15 significant digits (results of sqrt, ln ...).
  static std::optional<Decimal> FromDouble(double v);
  double ToDouble() const;
  // Shortest text that keeps the scale: "1.50", "-0.5", "3".
  std::string ToString() const;
  // The integer part when it fits in 64 bits.
  std::optional<int64_t> ToInt64() const;
  bool IsInteger() const;
  int sign() const { return units > 0 ? 1 : (units < 0 ? -1 : 0); }
};

// Aligned comparison: -1, 0, 1 (scales do not matter: 1.10 == 1.1).
int Compare(const Decimal& a, const Decimal& b);
std::optional<Decimal> Add(const Decimal& a, const Decimal& b);
std::optional<Decimal> Subtract(const Decimal& a, const Decimal& b);
std::optional<Decimal> Multiply(const Decimal& a, const Decimal& b);
// Quotient to 16 fractional digits (trailing zeros removed); nullopt on division by zero.
std::optional<Decimal> Divide(const Decimal& a, const Decimal& b);
// Rounding to `digits` fractional digits; half away from zero for Round.
Decimal Round(const Decimal& a, int digits);
Decimal Floor(const Decimal& a, int digits = 0);
Decimal Ceiling(const Decimal& a, int digits = 0);
Decimal Truncate(const Decimal& a);
// Rescales to `scale` digits (truncating when smaller); nullopt on overflow.
std::optional<Decimal> Rescale(const Decimal& a, int scale);
// Removes trailing fractional zeros.
Decimal Normalize(const Decimal& a);

enum class DateKind : uint8_t { kDate, kDateTime, kTime };
enum class DatePrecision : uint8_t { kYear, kMonth, kDay, kHour, kMinute, kSecond, kMillisecond };

// A FHIRPath Date, DateTime or Time with the precision it was written with. For Time the date
// fields are unused. Seconds and fractions form one precision for comparison (spec 6.2).
struct DateTimeValue {
  DateKind kind = DateKind::kDate;
  DatePrecision precision = DatePrecision::kYear;
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
  int frac_digits = 0;  // fraction digits as written (formatting keeps them, max 3)
  bool has_tz = false;
  int tz_minutes = 0;  // offset east of UTC

  // Literal forms without '@': "2015-02-04", "2015-02-04T14:34:28.123+10:00", "2015T",
  // "T14:34" (kind kTime). Strict: calendar ranges are checked.
  static std::optional<DateTimeValue> ParseLiteral(std::string_view text);
  // String conversion forms (toDate/toDateTime/toTime): as in FHIR JSON, "T" optional for times.
  static std::optional<DateTimeValue> ParseString(std::string_view text, DateKind kind);
  // Canonical text without '@' ("2015-02-04T14:34:28.123+10:00", "14:34").
  std::string ToString() const;
};

// -1/0/1, or nullopt when precision differences make the answer unknown (spec: empty).
std::optional<int> CompareDateTimes(const DateTimeValue& a, const DateTimeValue& b);
// Equivalence (~): false rather than empty when precisions differ.
bool DateTimesEquivalent(const DateTimeValue& a, const DateTimeValue& b);

}  // namespace carechart::fhirpath

namespace carechart::fhirpath {

// Adds `amount` of a calendar unit (kYear .. kMillisecond; weeks are 7 kDay) to `value`. A unit
// finer than the value's precision is first converted to that precision (@2014 + 24 months =
// @2016). Months clamp the day to the month's length. nullopt when the result leaves 1..9999.
std::optional<DateTimeValue> AddCalendar(const DateTimeValue& value, int64_t amount,
                                         DatePrecision unit);

// FHIRPath precision() in digits: Date 4/6/8, DateTime 4..17, Time 2..9.
int PrecisionDigits(const DateTimeValue& value);
// lowBoundary()/highBoundary() to `digits` (nullopt: default precision); nullopt when invalid.
std::optional<DateTimeValue> DateBoundary(const DateTimeValue& value, std::optional<int> digits,
                                          bool high);

}  // namespace carechart::fhirpath
