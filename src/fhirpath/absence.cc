// AnalyzeAbsence (see fhirpath.h): what an expression gives when its focus lacks some members,
// decided once from the compiled tree so callers can skip evaluations whose result is known.
//
// Navigation is the only thing reasoned about. A path `a.b.c` (or `Type.a.b`, where Type is the
// focus's own type) is empty when the focus has no member `a`; so are the functions below applied
// to an empty input, a union of such paths, an indexer on one, and `as`. From there:
//   kEmpty  the expression itself is such a path: empty when none of `members` is present;
//   kTrue   `P.empty()`, `P.exists().not()`, `P.all(...)`, `P.exists() implies X`, `A and B` (both
//           true), `A or X` (A true: the evaluator short-circuits and never looks at X).
// Anything else (variables, $this chains, other functions and operators) is kUnknown and always
// evaluated. The member test is conservative: a focus member whose name (without a leading '_')
// starts with a listed name counts as present, which covers choice types (value → valueQuantity)
// and primitive extensions (_birthDate).
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhirpath/ast.h"
#include "fhirpath/fhirpath.h"

namespace carechart::fhirpath {
namespace {

// Functions that give an empty result for an empty input, whatever their arguments.
constexpr std::string_view kEmptyPreserving[] = {
    "where",  "select",    "ofType",   "as",          "resolve",  "first",
    "last",   "tail",      "skip",     "take",        "distinct", "trace",
    "single", "extension", "children", "descendants", "repeat"};

bool IsEmptyPreserving(const Node& fn) {
  return fn.kind == NodeKind::kFunction &&
         std::find(std::begin(kEmptyPreserving), std::end(kEmptyPreserving), fn.name) !=
             std::end(kEmptyPreserving);
}

bool IsFunction(const Node& n, std::string_view name, size_t args) {
  return n.kind == NodeKind::kFunction && n.name == name && n.args.size() == args;
}

// Where a navigation starts: the focus itself, the members listed, or not known.
struct Roots {
  enum class Kind { kUnknown, kFocus, kMembers } kind = Kind::kUnknown;
  std::vector<std::string> members;
};

Roots Unknown() { return {}; }

Roots RootsOf(const Node& n, std::string_view focus_type) {
  switch (n.kind) {
    case NodeKind::kThis:
      return {Roots::Kind::kFocus, {}};
    case NodeKind::kMember: {
      if (!n.term_level) {
        return Unknown();
      }
      const bool upper = !n.name.empty() && n.name[0] >= 'A' && n.name[0] <= 'Z';
      if (upper) {  // a type name: the focus when it is of that type (other types: not known)
        return !focus_type.empty() && n.name == focus_type ? Roots{Roots::Kind::kFocus, {}}
                                                           : Unknown();
      }
      return {Roots::Kind::kMembers, {n.name}};
    }
    case NodeKind::kInvoke: {
      Roots left = RootsOf(*n.args[0], focus_type);
      const Node& right = *n.args[1];
      if (left.kind == Roots::Kind::kFocus && right.kind == NodeKind::kMember) {
        return {Roots::Kind::kMembers, {right.name}};
      }
      if (left.kind == Roots::Kind::kMembers &&
          (right.kind == NodeKind::kMember || IsEmptyPreserving(right))) {
        return left;
      }
      return Unknown();
    }
    case NodeKind::kTypeOp:
    case NodeKind::kIndexer: {
      if (n.kind == NodeKind::kTypeOp && n.name != "as") {
        return Unknown();
      }
      Roots inner = RootsOf(*n.args[0], focus_type);
      return inner.kind == Roots::Kind::kMembers ? inner : Unknown();
    }
    case NodeKind::kBinary: {
      if (n.name != "|") {
        return Unknown();
      }
      Roots a = RootsOf(*n.args[0], focus_type);
      Roots b = RootsOf(*n.args[1], focus_type);
      if (a.kind != Roots::Kind::kMembers || b.kind != Roots::Kind::kMembers) {
        return Unknown();
      }
      a.members.insert(a.members.end(), b.members.begin(), b.members.end());
      return a;
    }
    default:
      return Unknown();
  }
}

// Members whose absence makes `n` true, or nullopt.
std::optional<std::vector<std::string>> TrueWhenAbsent(const Node& n, std::string_view focus_type) {
  auto members_of = [&](const Node& path) -> std::optional<std::vector<std::string>> {
    Roots r = RootsOf(path, focus_type);
    if (r.kind != Roots::Kind::kMembers) {
      return std::nullopt;
    }
    return std::move(r.members);
  };
  if (n.kind == NodeKind::kInvoke) {
    const Node& path = *n.args[0];
    const Node& fn = *n.args[1];
    if (IsFunction(fn, "empty", 0) || IsFunction(fn, "all", 1)) {
      return members_of(path);  // empty() of nothing is true; so is all() of nothing
    }
    if (IsFunction(fn, "not", 0) && path.kind == NodeKind::kInvoke &&
        path.args[1]->kind == NodeKind::kFunction && path.args[1]->name == "exists") {
      return members_of(*path.args[0]);  // P.exists().not(): exists() of nothing is false
    }
    return std::nullopt;
  }
  if (n.kind != NodeKind::kBinary) {
    return std::nullopt;
  }
  const Node& a = *n.args[0];
  if (n.name == "implies") {  // P.exists() implies X: false implies anything is true
    if (a.kind == NodeKind::kInvoke && a.args[1]->kind == NodeKind::kFunction &&
        a.args[1]->name == "exists") {
      return members_of(*a.args[0]);
    }
    return std::nullopt;
  }
  if (n.name == "or") {
    return TrueWhenAbsent(a, focus_type);
  }
  if (n.name == "and") {
    auto left = TrueWhenAbsent(a, focus_type);
    auto right = TrueWhenAbsent(*n.args[1], focus_type);
    if (!left || !right) {
      return std::nullopt;
    }
    left->insert(left->end(), right->begin(), right->end());
    return left;
  }
  return std::nullopt;
}

}  // namespace

bool AbsenceRule::Applies(const json::Value* focus) const {
  if (outcome == Outcome::kUnknown) {
    return false;
  }
  if (focus == nullptr || !focus->is_object()) {
    return true;
  }
  for (const auto& [key, value] : focus->members()) {
    const std::string_view k =
        !key.empty() && key[0] == '_' ? std::string_view(key).substr(1) : std::string_view(key);
    for (const std::string& m : members) {
      if (k.size() >= m.size() && k[0] == m[0] && k.compare(0, m.size(), m) == 0) {
        return false;
      }
    }
  }
  return true;
}

AbsenceRule AnalyzeAbsence(const Expression& expression, std::string_view focus_type) {
  AbsenceRule rule;
  const Node& root = *expression.program().root;
  if (Roots r = RootsOf(root, focus_type); r.kind == Roots::Kind::kMembers) {
    rule.outcome = AbsenceRule::Outcome::kEmpty;
    rule.members = std::move(r.members);
  } else if (auto members = TrueWhenAbsent(root, focus_type)) {
    rule.outcome = AbsenceRule::Outcome::kTrue;
    rule.members = std::move(*members);
  }
  return rule;
}

}  // namespace carechart::fhirpath
