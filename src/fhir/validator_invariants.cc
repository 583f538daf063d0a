// ElementDefinition.constraint evaluation with cc_fhirpath, and the reference validator's rules
// (see validator_internal.h).
//
// Every error-severity constraint of the generated tables is compiled once (on first use) and
// evaluated where the validator meets a value of the element or type that defines it; warnings
// (best practice) are not evaluated. A constraint holds when its expression gives true (or a
// non-boolean value); false and empty are failures, as in the reference validator (per-1 on
// periods whose bounds differ in precision is "empty", so it fails). An expression that cannot be
// evaluated on a particular resource (e.g. a singleton error) is reported as a warning.
#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <set>

#include "fhir/definitions.h"
#include "fhir/primitive_format.h"
#include "fhir/search_entries.h"
#include "fhir/validator_internal.h"

namespace carechart::fhir::validation {
namespace {

// Error-severity constraints that are not evaluated, and why. None of R4's needs what we lack:
// no error constraint calls conformsTo() or memberOf(); the one that resolves references (ctm-1,
// `member.resolve().iif(empty(), true, ofType(Practitioner).exists())`) runs on a stub typed by
// the reference (search::ReferenceStub) or on the contained resource. Listed here when one must
// be skipped (the validator test prints and checks this list).
constexpr std::array<std::pair<std::string_view, std::string_view>, 0> kSkipped = {};

// R4 expressions that the reference validator does not evaluate as published either (its
// FHIRPathExpressionFixer patches them); we evaluate the corrected form, key → expression.
constexpr std::pair<std::string_view, std::string_view> kCorrected[] = {
    // ref-1 as published fails every Reference without .reference (display- or identifier-only:
    // startsWith() on empty is empty), and "#" (a reference to the container). R5's ref-1:
    {"ref-1",
     "reference.exists() implies (reference.startsWith('#').not() or "
     "(reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids')) or "
     "(reference='#' and %rootResource!=%resource))"},
    // que-7 tests `answer is Boolean`: a System type, which answerBoolean (a FHIR boolean) is not
    // (FHIRPath R4 suite, testType12); the reference validator compares type names ignoring
    // case. R5's que-7 says `boolean`:
    {"que-7", "operator = 'exists' implies (answer is boolean)"},
};

// Shortcuts, tried before evaluating a constraint, that prove it holds from a glance at the JSON
// (a shortcut that proves nothing falls back to the evaluation: the expression stays the
// definition, and validator_examples_test checks that the results are the same without them).
// Most evaluations are of ele-1 (some 46 per generated resource) and ref-1; both get a native
// proof of their common case. Any other constraint true when the members it navigates from are
// absent (`contained.meta.security.empty()`, `x.exists() implies ...`) gets an AbsenceRule.
using Proof = bool (*)(const fhirpath::Item& focus);

// The object whose members are the focus's children (as fhirpath's model takes them).
const json::Value* ChildrenObject(const fhirpath::Item& focus) {
  if (focus.kind != fhirpath::ItemKind::kNode) {
    return nullptr;
  }
  return focus.node != nullptr && focus.node->is_object() ? focus.node : focus.primitive_extension;
}

// ele-1 `hasValue() or (children().count() > id.count())`: a primitive with a value, or a member
// other than id that gives a child (a non-null value, or an array with a non-null item).
bool Ele1Holds(const fhirpath::Item& focus) {
  if (focus.kind != fhirpath::ItemKind::kNode) {
    return false;
  }
  if (focus.node != nullptr && !focus.node->is_null() && !focus.node->is_object() &&
      !focus.node->is_array()) {
    return true;  // hasValue()
  }
  const json::Value* obj = ChildrenObject(focus);
  if (obj == nullptr) {
    return false;
  }
  for (const auto& [key, v] : obj->members()) {
    if (key.empty() || key[0] == '_' || key == "id" || key == "resourceType" || v.is_null()) {
      continue;
    }
    if (!v.is_array()) {
      return true;
    }
    for (const json::Value& item : v.items()) {
      if (!item.is_null()) {
        return true;
      }
    }
  }
  return false;
}

// ref-1: a reference that does not start with '#' needs no contained resource.
bool Ref1Holds(const fhirpath::Item& focus) {
  const json::Value* obj = ChildrenObject(focus);
  const json::Value* ref = obj != nullptr && obj == focus.node ? obj->find("reference") : nullptr;
  return ref != nullptr && ref->is_string() && !ref->text().empty() && ref->text()[0] != '#';
}

constexpr std::pair<std::string_view, Proof> kProofs[] = {{"ele-1", Ele1Holds},
                                                          {"ref-1", Ref1Holds}};

struct Shortcut {
  Proof proof = nullptr;
  fhirpath::AbsenceRule absent;  // kTrue, or kUnknown
};

std::atomic<bool> shortcuts_enabled{true};

struct CompiledConstraints {
  std::vector<std::optional<fhirpath::Expression>> table;  // parallel to ConstraintTable()
  std::vector<Shortcut> shortcuts;                         // parallel to ConstraintTable()
  ConstraintCoverage coverage;
};

Shortcut ShortcutFor(const structure::ConstraintInfo& info,
                     const std::optional<fhirpath::Expression>& expr) {
  Shortcut s;
  if (!expr) {
    return s;
  }
  for (const auto& [key, proof] : kProofs) {
    s.proof = key == info.key ? proof : s.proof;
  }
  s.absent = fhirpath::AnalyzeAbsence(*expr, "");
  if (s.absent.outcome != fhirpath::AbsenceRule::Outcome::kTrue) {
    s.absent = {};
  }
  return s;
}

bool ProvedToHold(const Shortcut& s, const fhirpath::Item& focus) {
  if (s.proof != nullptr && s.proof(focus)) {
    return true;
  }
  return s.absent.outcome == fhirpath::AbsenceRule::Outcome::kTrue &&
         s.absent.Applies(ChildrenObject(focus));
}

std::optional<fhirpath::Expression> CompileConstraint(const structure::ConstraintInfo& info,
                                                      ConstraintCoverage* coverage) {
  if (info.severity != structure::ConstraintSeverity::kError) {
    return std::nullopt;
  }
  ++coverage->errors;
  for (const auto& skipped : kSkipped) {
    if (skipped.first == info.key) {
      coverage->skipped.push_back(skipped);
      return std::nullopt;
    }
  }
  std::string_view text = info.expression;
  for (const auto& [key, corrected] : kCorrected) {
    text = key == info.key ? corrected : text;
  }
  auto expr = fhirpath::Compile(text);
  if (!expr.ok()) {
    coverage->skipped.emplace_back(info.key, "does not compile");
    return std::nullopt;
  }
  ++coverage->evaluated;
  return std::move(expr).value();
}

const CompiledConstraints& Compiled() {
  static const CompiledConstraints* compiled = [] {
    auto* c = new CompiledConstraints();
    for (const structure::ConstraintInfo& info : structure::ConstraintTable()) {
      c->table.push_back(CompileConstraint(info, &c->coverage));
      c->shortcuts.push_back(ShortcutFor(info, c->table.back()));
    }
    return c;
  }();
  return *compiled;
}

// true (or any non-boolean value) holds; false and empty fail.
bool Holds(const fhirpath::Collection& result) {
  if (result.size() != 1) {
    return result.size() > 1;
  }
  const fhirpath::Item& item = result[0];
  if (item.kind == fhirpath::ItemKind::kBoolean) {
    return item.boolean;
  }
  if (item.kind == fhirpath::ItemKind::kNode && item.node != nullptr && item.node->is_bool()) {
    return item.node->as_bool();
  }
  return true;
}

bool IsAbsoluteUrl(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return false;
  }
  return std::all_of(s.begin(), s.begin() + colon, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

void CheckBundle(const json::Value& bundle, const std::string& location, IssueSink* sink) {
  if (const json::Value* entries = bundle.find("entry");
      entries != nullptr && entries->is_array()) {
    for (size_t i = 0; i < entries->items().size(); ++i) {
      const std::string_view full_url = entries->items()[i].string_at("fullUrl");
      if (!full_url.empty() && !IsAbsoluteUrl(full_url)) {
        sink->Error("value", location + ".entry[" + std::to_string(i) + "].fullUrl",
                    "The fullUrl must be an absolute URL (not '" + std::string(full_url) + "')");
      }
    }
  }
  if (const json::Value* links = bundle.find("link"); links != nullptr && links->is_array()) {
    std::set<std::string_view> seen;
    for (size_t i = 0; i < links->items().size(); ++i) {
      const std::string_view relation = links->items()[i].string_at("relation");
      if (!relation.empty() && !seen.insert(relation).second) {
        sink->Error(
            "invariant", location + ".link[" + std::to_string(i) + "]",
            "The link relationship type '" + std::string(relation) + "' can only occur once");
      }
    }
  }
}

// The reference validator's SearchParameter rule (not an R4 invariant): a composite parameter
// combines two or more components.
void CheckSearchParameter(const json::Value& sp, const std::string& location, IssueSink* sink) {
  if (sp.string_at("type") != "composite") {
    return;
  }
  const json::Value* components = sp.find("component");
  if (components == nullptr || !components->is_array() || components->items().size() < 2) {
    sink->Error("business-rule", location,
                "When the SearchParameter has a type of 'composite', then the SearchParameter "
                "must define two or more components");
  }
}

}  // namespace

void CheckConstraints(std::span<const structure::ConstraintInfo> constraints,
                      const fhirpath::Item& focus, const json::Value& resource,
                      const json::Value& root, const std::string& location, IssueSink* sink) {
  if (constraints.empty()) {
    return;
  }
  const CompiledConstraints& compiled = Compiled();
  const structure::ConstraintInfo* table = structure::ConstraintTable().data();
  // Built once per thread (a std::function and a few members), and a result collection whose
  // storage is reused: most evaluations are ele-1 on a value and allocate next to nothing else.
  thread_local fhirpath::EvaluationContext context = [] {
    fhirpath::EvaluationContext c;
    c.resolve = search::ReferenceStub;
    c.as_filters_collections = true;  // dom-3: %resource.descendants().as(canonical)
    return c;
  }();
  thread_local fhirpath::Collection result;
  context.focus = &focus;
  context.root_resource = &root == &resource ? nullptr : &root;
  const bool shortcuts = shortcuts_enabled.load(std::memory_order_relaxed);
  for (const structure::ConstraintInfo& c : constraints) {
    const auto& expr = compiled.table[&c - table];
    if (!expr || (shortcuts && ProvedToHold(compiled.shortcuts[&c - table], focus))) {
      continue;
    }
    if (Status s = fhirpath::Evaluate(*expr, resource, context, &result); !s.ok()) {
      sink->Add(IssueSeverity::kWarning, "invariant", location,
                "Constraint " + std::string(c.key) + " could not be evaluated: " + s.message());
    } else if (!Holds(result)) {
      sink->Error("invariant", location,
                  "Constraint failed: " + std::string(c.key) + ": '" + std::string(c.human) + "'");
    }
  }
}

ConstraintCoverage Coverage() { return Compiled().coverage; }

void SetConstraintShortcuts(bool enabled) { shortcuts_enabled = enabled; }

void CheckResourceRules(std::string_view type, const json::Value& resource,
                        const std::string& location, IssueSink* sink) {
  if (type == "Bundle") {
    CheckBundle(resource, location, sink);
  } else if (type == "SearchParameter") {
    CheckSearchParameter(resource, location, sink);
  }
}

std::string CheckReferenceFormat(std::string_view ref) {
  if (ref.empty() || ref[0] == '#') {
    return ref.empty() ? "Reference.reference is empty" : "";
  }
  if (ref.substr(0, 9) == "urn:uuid:") {
    return primitive::IsValidUuid(ref) ? ""
                                       : "Invalid urn:uuid: reference '" + std::string(ref) + "'";
  }
  if (ref.substr(0, 8) == "urn:oid:") {
    return primitive::IsValidOid(ref) ? ""
                                      : "Invalid urn:oid: reference '" + std::string(ref) + "'";
  }
  if (ref.find("://") != std::string_view::npos) {
    return primitive::IsValidUri(ref) ? "" : "Invalid URL reference '" + std::string(ref) + "'";
  }
  const size_t query = ref.find('?');
  const std::string_view path = ref.substr(0, query);
  std::string_view parts[5];
  size_t n = 0;
  size_t start = 0;
  while (n < 5) {
    const size_t slash = path.find('/', start);
    parts[n++] = path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  const std::string bad = "Invalid reference '" + std::string(ref) + "'";
  if (!IsResourceType(parts[0])) {
    return bad + ": unknown resource type '" + std::string(parts[0]) + "'";
  }
  if (query != std::string_view::npos) {
    return n == 1 ? "" : bad;
  }
  const bool shape_ok = (n == 2 || (n == 4 && parts[2] == "_history")) &&
                        primitive::IsValidId(parts[1]) &&
                        (n == 2 || primitive::IsValidId(parts[3]));
  return shape_ok ? "" : bad + ": expected Type/id or Type/id/_history/version";
}

}  // namespace carechart::fhir::validation
