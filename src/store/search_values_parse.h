// Parsing of one search value per parameter type (internal to search_parse.cc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/search_query.h"

namespace carechart::store::internal {

// Splits a parameter value at unescaped commas and removes the FHIR escapes (\, \| \$ \\) of
// each part only where `unescape_pipes` (token and quantity keep "\|" until split on '|').
std::vector<std::string> SplitValues(std::string_view text);
// Splits at unescaped '|' and unescapes each part.
std::vector<std::string> SplitPipes(std::string_view text);
std::string Unescape(std::string_view text);

// Fills `out` from `text` (one comma-separated part, still escaped) for the clause's type and
// modifier. `targets` are the reference parameter's allowed target types (may be empty).
// Errors are messages without the parameter name; the caller adds it.
Status ParseValue(const SearchClause& clause, std::string_view text, SearchValue* out);

// A composite value: components separated by unescaped '$', each parsed with its type.
Status ParseComposite(const SearchClause& clause, std::string_view text, SearchValue* out);

}  // namespace carechart::store::internal
