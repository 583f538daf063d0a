// A small evaluator for the FHIRPath subset used by R4 SearchParameter expressions.
//
// Supported: dotted navigation from the resource type (choice elements included: "Observation.
// value" yields valueQuantity, valueString ...), "|" unions, parentheses, "as X", ".as(X)",
// ".ofType(X)", "[n]", ".first()", ".where(resolve() is X)" (references of one target type) and
// ".where(field='literal')". Anything else makes Compile fail: the caller then skips the
// parameter (and counts it as not covered). The general FHIRPath engine is a later piece of work.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/json.h"
#include "fhir/structure.h"

namespace carechart::fhir::path {

// One value reached by an expression, with its FHIR type (from the generated tables).
struct Node {
  const json::Value* value = nullptr;
  const structure::TypeInfo* type = nullptr;         // nullptr for a BackboneElement
  std::span<const structure::ElementInfo> elements;  // children, for complex values
};

class Expression {
 public:
  // Returns nullopt when `text` uses FHIRPath this evaluator does not support.
  static std::optional<Expression> Compile(std::string_view text);

  // Appends to `out` the nodes the expression selects in `resource`. Thread-safe (const).
  void Evaluate(const json::Value& resource, std::vector<Node>* out) const;

  struct Op {
    enum class Kind : unsigned char { kField, kAs, kResolveIs, kWhereEquals, kIndex, kFirst };
    Kind kind;
    std::string name;   // field, type, or where-field
    std::string value;  // where literal
    int index = 0;
  };
  struct Term {
    std::string root;                // a type name ("Observation", "Resource") or empty
    std::vector<Term> alternatives;  // a parenthesised union when root is empty
    std::vector<Op> ops;
  };

 private:
  Term term_;
};

// The resource type named by a reference: "Patient/1", ".../Patient/1/_history/2" → "Patient";
// empty for local, urn: and unparsable references.
std::string_view ReferenceType(std::string_view reference);

}  // namespace carechart::fhir::path
