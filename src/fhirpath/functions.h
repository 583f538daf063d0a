// Built-in function implementations, grouped by spec section (internal to cc_fhirpath).
#pragma once

#include <span>
#include <string>

#include "fhirpath/evaluator.h"

namespace carechart::fhirpath {

#define FHIRPATH_FUNCTION(name)                                                         \
  Status name(Evaluator& ev, const Env& env, const Node& call, const Collection& input, \
              Collection* out)

// Tables of each group (functions_*.cc); functions.cc indexes them by name.
std::span<const FunctionDef> CollectionFunctions();
std::span<const FunctionDef> ConversionFunctions();
std::span<const FunctionDef> StringFunctions();
std::span<const FunctionDef> MathFunctions();
std::span<const FunctionDef> UtilityFunctions();

// Evaluates argument `i` as a single System value; *out is nullptr when it is empty.
Status ArgSingleton(Evaluator& ev, const Env& env, const Node& call, size_t i, Item* scratch,
                    const Item** out);
// Argument `i` as a String / Integer; *present false when the argument is empty.
Status ArgString(Evaluator& ev, const Env& env, const Node& call, size_t i, std::string* out,
                 bool* present);
Status ArgInteger(Evaluator& ev, const Env& env, const Node& call, size_t i, int64_t* out,
                  bool* present);
// The input as a single System value (nullptr when empty; error when several).
Status InputSingleton(const Node& call, const Collection& input, Item* scratch, const Item** out);
// The input as a single String (nullptr when empty; error when several or not a string).
Status InputString(const Node& call, const Collection& input, Item* scratch, const Item** out);

}  // namespace carechart::fhirpath
