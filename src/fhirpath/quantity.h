// FHIRPath quantities: a decimal value with a UCUM unit or a calendar duration keyword.
//
// The UCUM support is deliberately small: common metric atoms with prefixes, the customary units
// FHIR data uses ([lb_av], [in_i] ...), time units, products, quotients and integer exponents.
// That is enough to compare same-dimension quantities (4 'g' = 4000 'mg') and to multiply and
// divide them. Calendar durations (year ... millisecond) follow FHIRPath: week/day/hour/minute/
// second/millisecond equal their UCUM units; year and month only compare with themselves
// (12 months = 1 year), never with UCUM 'a' and 'mo'.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "fhirpath/values.h"

namespace carechart::fhirpath {

struct Quantity {
  Decimal value;
  std::string unit;  // UCUM code, or a singular calendar keyword ("year", "week" ...)
};

// "days" → "day" for calendar keywords; nullopt when `word` is not one.
std::optional<std::string_view> CalendarKeyword(std::string_view word);
bool IsCalendarUnit(std::string_view unit);
// The date/time field a calendar keyword or a definite UCUM time unit ('wk','d','h','min','s',
// 'ms') adds to; *days_multiplier is 7 for weeks. nullopt for other units ('a' and 'mo' too).
std::optional<DatePrecision> DateArithmeticUnit(std::string_view unit, int* days_multiplier);
// Whether `unit` is a UCUM expression this module understands.
bool IsKnownUnit(std::string_view unit);

// -1/0/1, or nullopt when the units are not comparable.
std::optional<int> CompareQuantities(const Quantity& a, const Quantity& b);
// Equivalence: comparable and equal after rounding to the less precise value.
bool QuantitiesEquivalent(const Quantity& a, const Quantity& b);
// `q` expressed in `unit`; nullopt when not convertible.
std::optional<Quantity> ConvertQuantity(const Quantity& q, std::string_view unit);
std::optional<Quantity> AddQuantities(const Quantity& a, const Quantity& b, bool subtract);
std::optional<Quantity> MultiplyQuantities(const Quantity& a, const Quantity& b, bool divide);
// "4 'mg'", "1 week", "2 years".
std::string FormatQuantity(const Quantity& q);

}  // namespace carechart::fhirpath
