// Lexical checks of FHIR R4 primitive values, hand-written after the R4 regexes (no regex engine
// on untrusted input). Internal to cc_fhir.
#pragma once

#include <string>
#include <string_view>

#include "fhir/json.h"

namespace carechart::fhir::primitive {

// Checks the JSON kind (string / number / boolean) and the lexical form of `value` as FHIR
// primitive type `type` ("date", "positiveInt" ...). Returns an empty string when valid, else a
// message naming the problem.
std::string Check(std::string_view type, const json::Value& value);

bool IsValidId(std::string_view s);
bool IsValidCode(std::string_view s);
bool IsValidUri(std::string_view s);
bool IsValidOid(std::string_view s);
bool IsValidUuid(std::string_view s);
bool IsValidBase64(std::string_view s);
bool IsValidDecimal(std::string_view s);
// Integer text in [min, max].
bool IsIntegerInRange(std::string_view s, long long min, long long max);
// "" when the narrative div is acceptable, else the problem (not <div, script, event handlers,
// javascript: URLs, entities other than XML's five and numeric references).
std::string CheckXhtml(std::string_view s);

inline constexpr size_t kMaxStringBytes = 1024 * 1024;

}  // namespace carechart::fhir::primitive
