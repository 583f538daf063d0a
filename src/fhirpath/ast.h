// The compiled form of a FHIRPath expression (internal to cc_fhirpath).
//
// A tree of Nodes built once by the parser and never changed afterwards, so evaluation from many
// threads needs no locking. Function calls are bound to their FunctionDef at compile time; type
// names (is/as/ofType) are resolved to a TypeSpec; regular-expression literals are compiled once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fhirpath/fhirpath.h"

namespace re2 {
class RE2;
}

namespace carechart::fhirpath {

enum class NodeKind : unsigned char {
  kLiteral,   // literal (Item); an empty collection when `empty_literal`
  kMember,    // identifier; args empty
  kFunction,  // name(args)
  kInvoke,    // args[0] . args[1]  (args[1] is kMember or kFunction)
  kIndexer,   // args[0] [ args[1] ]
  kUnary,     // op args[0]
  kBinary,    // args[0] op args[1]
  kTypeOp,    // args[0] is/as type
  kThis,      // $this
  kIndex,     // $index
  kTotal,     // $total
  kVariable,  // %name
};

// A type named in is/as/ofType: System.X or a FHIR type.
struct TypeSpec {
  bool system = false;                              // System namespace
  bool any_namespace = false;                       // unqualified: FHIR type or System type
  ItemKind system_kind = ItemKind::kString;         // when system or any_namespace
  bool has_system = false;                          // the name is a System type
  const fhir::structure::TypeInfo* fhir = nullptr;  // when a FHIR type
  std::string name;
};

class Evaluator;
struct Env;
struct Node;

// A built-in function. `impl` receives the input collection and the call node (its args are not
// yet evaluated: criteria such as where()'s are evaluated per item by the implementation).
struct FunctionDef {
  const char* name;
  int min_args;
  int max_args;
  Status (*impl)(Evaluator& ev, const Env& env, const Node& call, const Collection& input,
                 Collection* out);
};

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  int position = 0;
  std::string name;         // member, function, variable or operator
  bool term_level = false;  // a member/function not preceded by '.': input is $this
  bool empty_literal = false;
  Item literal;
  TypeSpec type;
  const FunctionDef* function = nullptr;
  std::shared_ptr<const re2::RE2> regex;  // literal pattern of matches()/replaceMatches()
  std::vector<std::unique_ptr<Node>> args;
  // Set at compile time on a subexpression that neither the focus nor $this/$index/$total
  // affects (`%resource.descendants().reference`) and that a function argument may evaluate
  // many times: it is evaluated once per Evaluate() call, shared by the subexpressions of the
  // same text (memo_key).
  bool memo = false;
  std::string memo_key;
};

struct Program {
  std::string text;
  std::unique_ptr<Node> root;
};

// Parser entry point (parser.cc).
StatusOr<std::unique_ptr<Node>> Parse(std::string_view text);

// Function table (functions.cc): nullptr when `name` is not a FHIRPath function.
const FunctionDef* FindFunction(std::string_view name);

// Resolves a type name such as "Quantity", "FHIR.Patient", "System.Boolean".
StatusOr<TypeSpec> ResolveTypeName(std::string_view qualified, int position);

}  // namespace carechart::fhirpath
