// FHIRPath (N1, as the FHIR R4 test suite exercises it) over Carechart's JSON tree.
//
//   ASSIGN_OR_RETURN(fhirpath::Expression expr, fhirpath::Compile("Observation.value"));
//   ASSIGN_OR_RETURN(fhirpath::Collection out, fhirpath::Evaluate(expr, resource, {}));
//
// Compile once, evaluate many times: an Expression is immutable and may be evaluated from any
// number of threads at once. Items of a result refer into the evaluated JSON tree (no copies):
// the tree must outlive the result. Computed values (literals, arithmetic, string functions) are
// held by the item itself. Types come from the generated R4 tables (fhir/structure.h), so
// `Observation.value` finds valueQuantity, `is(Quantity)` knows Age is a Quantity, and so on.
//
// Errors are Status values: syntax and unknown functions/types at Compile (kInvalid, location
// "@<offset>"), type errors at Evaluate (kInvalid), and unsupported features such as memberOf()
// with kNotImplemented.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "fhir/json.h"
#include "fhirpath/values.h"

namespace carechart::fhir::structure {
struct TypeInfo;
struct ElementInfo;
}  // namespace carechart::fhir::structure

namespace carechart::fhirpath {

enum class ItemKind : uint8_t {
  kNode,  // a value of the JSON tree (object or FHIR primitive), see Item::node
  kBoolean,
  kString,
  kInteger,
  kLong,
  kDecimal,
  kDate,
  kDateTime,
  kTime,
  kQuantity,  // decimal + text (unit)
  kTypeInfo,  // result of type(): text = name, type_namespace = "System" | "FHIR"
};

// One element of a collection.
struct Item {
  ItemKind kind = ItemKind::kNode;
  bool boolean = false;
  int64_t integer = 0;  // kInteger, kLong
  Decimal decimal;      // kDecimal, kQuantity value
  DateTimeValue date;   // kDate, kDateTime, kTime
  std::string text;     // kString, kQuantity unit, kTypeInfo name
  std::string_view type_namespace;

  // kNode: the JSON value (object, or the primitive's string/number/bool; nullptr for a primitive
  // that has only an extension), the "_name" sibling of a primitive, and the FHIR type (nullptr
  // when evaluating without the type model). `backbone` is set for BackboneElements: its children
  // are the element's children rather than the type's.
  const json::Value* node = nullptr;
  const json::Value* primitive_extension = nullptr;
  const fhir::structure::TypeInfo* type = nullptr;
  const fhir::structure::ElementInfo* backbone = nullptr;

  static Item Boolean(bool b);
  static Item String(std::string s);
  static Item Integer(int64_t i);
  static Item Long(int64_t i);
  static Item FromDecimal(Decimal d);
  static Item FromDate(DateTimeValue d);  // kind from d.kind
  static Item FromQuantity(Decimal value, std::string unit);
  static Item Node(const json::Value* value, const fhir::structure::TypeInfo* type);
};

using Collection = std::vector<Item>;

// The FHIR type name of a node item ("Quantity", "string", "BackboneElement"), else empty.
std::string_view FhirTypeName(const Item& item);
// Text form of a value: strings as is, numbers, dates without '@', quantities as "4 'mg'",
// booleans "true"/"false"; objects as JSON.
std::string ToDisplayString(const Item& item);

struct Program;  // the compiled form (ast.h)

class Expression {
 public:
  // The source text the expression was compiled from.
  const std::string& text() const;
  const Program& program() const { return *program_; }

 private:
  friend StatusOr<Expression> Compile(std::string_view text);
  friend class MemberPath;
  std::shared_ptr<const Program> program_;
};

// Parses and checks `text` (function names and arity, type names). Thread-safe.
StatusOr<Expression> Compile(std::string_view text);

struct EvaluationContext {
  // %context; the evaluated resource when null.
  const json::Value* context = nullptr;
  // %context as a typed item, for a part of `resource` (a datatype, a BackboneElement, a
  // primitive with its extension): what an ElementDefinition.constraint is evaluated on. Takes
  // precedence over `context`; must point into `resource`'s tree.
  const Item* focus = nullptr;
  // %rootResource: the resource that contains `resource` when it is a contained resource; the
  // evaluated resource when null.
  const json::Value* root_resource = nullptr;
  // User variables, referred to as %name (without the '%'). Checked before the built-ins.
  std::vector<std::pair<std::string, Collection>> variables;
  // resolve(): returns the resource a reference names, or nullptr. Contained resources ("#id")
  // and Bundle entries (fullUrl) are resolved first without it. The result must outlive the
  // evaluation's result; a stub such as {"resourceType":"Patient"} is enough for `resolve() is X`.
  std::function<const json::Value*(std::string_view reference)> resolve;
  // trace(name): receives what the expression traces. Nothing is logged when unset.
  std::function<void(std::string_view name, const Collection& values)> trace;
  // now()/today(): microseconds since the epoch (UTC); the wall clock when unset.
  int64_t now_micros = -1;
  // When `resource` is a part of a resource rather than a resource: the path of that part
  // (e.g. "QuestionnaireResponse.item"), so the type model applies to it.
  std::string base_path;
  // Evaluate with the R4 type model (types, choice elements). false: plain JSON navigation.
  bool use_model = true;
  // `x as T` and x.as(T) on several items filter them like ofType(T) instead of failing. The R4
  // SearchParameter expressions need it (`Observation.component.value as Quantity`); R5 rewrote
  // them with ofType().
  bool as_filters_collections = false;
};

// Evaluates `expression` with `resource` as %resource and the initial focus. Thread-safe.
StatusOr<Collection> Evaluate(const Expression& expression, const json::Value& resource,
                              const EvaluationContext& context = {});

// The same into `out` (cleared first), so a caller evaluating many expressions can reuse one
// collection's storage. `out` is unspecified when an error is returned.
Status Evaluate(const Expression& expression, const json::Value& resource,
                const EvaluationContext& context, Collection* out);

// Convenience: Compile + Evaluate.
StatusOr<Collection> Evaluate(std::string_view expression, const json::Value& resource,
                              const EvaluationContext& context = {});

// An expression that only navigates members from its focus, walked without the evaluator:
// `Observation.code`, `Resource.meta.tag`, `Encounter.location.period`, `(Observation.value as
// Quantity)`, `code` (from a composite's element), and unions of such paths. Search-index
// extraction evaluates about twenty of these per resource; the evaluator's set-up, environment
// and one collection per step cost more than the navigation itself. The walk calls the same
// navigation, type test and union as the evaluator, so its result is Evaluate's.
class MemberPath {
 public:
  // nullopt when `expression` has any other node (a function, where(), an operator other than
  // `|` ...) or starts with a type name that a focus of type `focus_type` is not (`Patient.name`
  // on an Observation); `focus_type` empty accepts only paths starting with a member name.
  static std::optional<MemberPath> Plan(const Expression& expression, std::string_view focus_type);
  // What Evaluate(expression, resource, context, out) gives when context.focus is `focus` (an
  // item of `focus_type`) and neither variables nor resolve() matter. `out` is cleared first.
  Status Select(const Item& focus, const EvaluationContext& context, Collection* out) const;

 private:
  std::shared_ptr<const Program> program_;  // keeps the nodes alive
};

// What an expression gives, without evaluating it, when its focus lacks certain members: found
// once from the compiled tree (absence.cc) so that callers evaluating many expressions on many
// resources (search-index extraction, invariants) can skip those whose result is already known.
struct AbsenceRule {
  enum class Outcome {
    kUnknown,  // no such shortcut: evaluate
    kEmpty,    // the result is empty when the focus has none of `members`
    kTrue,     // the result is `true` when the focus has none of `members`
  };
  Outcome outcome = Outcome::kUnknown;
  // Member names as FHIRPath spells them ("value" stands for valueQuantity etc.).
  std::vector<std::string> members;
  // true when `outcome` is known for a focus whose children are the members of `focus` (the
  // JSON object of the focus, or its primitive's "_name" object; nullptr when it has none):
  // no member of it, leading '_' removed, starts with one of `members`.
  bool Applies(const json::Value* focus) const;
};
// `focus_type`: the FHIR type name of the focus (so `Observation.code` on an Observation is a
// path from the focus), or empty.
AbsenceRule AnalyzeAbsence(const Expression& expression, std::string_view focus_type);

}  // namespace carechart::fhirpath
