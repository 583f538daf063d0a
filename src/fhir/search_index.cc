// ExtractIndex, PatientCompartmentOf and coverage (see search_index.h).
//
// Each SearchParameter expression is compiled by cc_fhirpath once, on the first use of its
// resource type (a table per type, each built under its own std::once_flag); composite and
// special parameters (and those without an expression) are not compiled. The values an expression
// selects are mapped to entries by search_entries.cc. A composite parameter's expression selects
// elements (an Observation, each Observation.component); its component expressions are evaluated
// on each element with that element as the focus, and the cross product of their values gives
// the element's tuples.
//
// resolve() has no store to read from: as the search specification allows, `resolve() is X`
// (e.g. `subject.where(resolve() is Patient)`) is decided by the type the reference names. The
// resolve callback returns a stub {"resourceType": "<Type>"} for a "Type/id" reference (absolute
// URLs ending in Type/id too), so `is Patient` sees the type and nothing else.
#include "fhir/search_index.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "fhir/definitions.h"
#include "fhir/search_entries.h"
#include "fhir/search_union_params.h"
#include "fhir/structure.h"
#include "fhirpath/fhirpath.h"

namespace carechart::fhir {
namespace {

// Tuples kept per composite element at most (a cross product of repeated components).
constexpr size_t kMaxTuplesPerElement = 64;

bool Indexed(const SearchParamDef& def) {
  if (def.type == SearchParamType::kComposite) {
    return !def.expression.empty() && !def.components.empty();
  }
  return def.type != SearchParamType::kSpecial && !def.expression.empty();
}

// Compiled expressions of one resource type, parallel to SearchParams(type); `components` holds
// a composite parameter's compiled component expressions (empty for the others).
struct TypeExpressions {
  std::once_flag once;
  std::vector<std::optional<fhirpath::Expression>> compiled;
  std::vector<std::vector<fhirpath::Expression>> components;
  // The same expressions as member paths walked directly, where they are such paths.
  std::vector<std::optional<fhirpath::MemberPath>> paths;
  std::vector<std::vector<std::optional<fhirpath::MemberPath>>> component_paths;
  // When each expression is known to select nothing (its members absent from the resource).
  std::vector<fhirpath::AbsenceRule> absence;
  // The same for a composite's components, on each element its expression selects.
  std::vector<std::vector<fhirpath::AbsenceRule>> component_absence;
};

// R4 writes Observation-code-value-date's component as `value.as(DateTime)`, naming the System
// type, which no FHIR dateTime element is; it means the FHIR type (as the standalone value-date
// parameter's `value as dateTime` does), so the component is evaluated in that corrected form.
std::string CorrectedComponent(std::string_view expression) {
  std::string text(expression);
  const std::string wrong = "as(DateTime)";
  for (size_t at = text.find(wrong); at != std::string::npos; at = text.find(wrong, at)) {
    text.replace(at, wrong.size(), "as(dateTime)");
  }
  return text;
}

std::atomic<bool> index_shortcuts{true};
// Whether member paths are walked directly (the default) or evaluated; tests compare the two.
std::atomic<bool> member_paths{true};

const fhirpath::MemberPath* PathOf(const std::optional<fhirpath::MemberPath>& path) {
  return path && member_paths.load(std::memory_order_relaxed) ? &*path : nullptr;
}

// When `expr` selects nothing; only that lets an evaluation be skipped here.
fhirpath::AbsenceRule EmptyWhenAbsent(const fhirpath::Expression& expr,
                                      std::string_view focus_type) {
  fhirpath::AbsenceRule rule = fhirpath::AnalyzeAbsence(expr, focus_type);
  return rule.outcome == fhirpath::AbsenceRule::Outcome::kEmpty ? rule : fhirpath::AbsenceRule();
}

const TypeExpressions* TablesFor(std::string_view type) {
  const auto index = structure::SearchParamIndex();
  static const auto tables = std::make_unique<TypeExpressions[]>(index.size());
  const auto it = std::lower_bound(
      index.begin(), index.end(), type,
      [](const structure::TypeSearchParams& t, std::string_view n) { return t.type < n; });
  if (it == index.end() || it->type != type) {
    return nullptr;
  }
  TypeExpressions& t = tables[it - index.begin()];
  std::call_once(t.once, [&] {
    for (const SearchParamDef& def : structure::SearchParamTable().subspan(it->begin, it->count)) {
      std::optional<fhirpath::Expression> e;
      std::vector<fhirpath::Expression> parts;
      // A union of two other parameters' values is answered from their rows: no entries
      // (search_union_params.h).
      if (Indexed(def) && UnionParamParts(type, def.code).empty()) {
        if (auto compiled = fhirpath::Compile(def.expression); compiled.ok()) {
          e = std::move(compiled).value();
        }
        for (const SearchParamComponent& c : def.components) {
          auto compiled = fhirpath::Compile(CorrectedComponent(c.expression));
          if (!compiled.ok()) {
            e.reset();  // a composite is indexed only when every component compiles
            break;
          }
          parts.push_back(std::move(compiled).value());
        }
      }
      std::vector<fhirpath::AbsenceRule> part_rules;
      std::vector<std::optional<fhirpath::MemberPath>> part_paths;
      for (const fhirpath::Expression& part : parts) {
        part_rules.push_back(EmptyWhenAbsent(part, ""));
        part_paths.push_back(fhirpath::MemberPath::Plan(part, ""));
      }
      t.paths.push_back(e ? fhirpath::MemberPath::Plan(*e, type) : std::nullopt);
      t.component_paths.push_back(std::move(part_paths));
      t.absence.push_back(e ? EmptyWhenAbsent(*e, type) : fhirpath::AbsenceRule());
      t.compiled.push_back(std::move(e));
      t.components.push_back(std::move(parts));
      t.component_absence.push_back(std::move(part_rules));
    }
  });
  return &t;
}

const std::vector<std::optional<fhirpath::Expression>>* CompiledFor(std::string_view type) {
  const TypeExpressions* t = TablesFor(type);
  return t == nullptr ? nullptr : &t->compiled;
}

// The evaluation context of the search expressions on `resource`: its item typed once for all
// of them (`focus`), resolve() by reference type, `as` filtering collections.
struct SearchContext {
  explicit SearchContext(const json::Value& resource, std::string_view type)
      : root(fhirpath::Item::Node(&resource, structure::FindType(type))) {
    context.focus = &root;
    context.resolve = search::ReferenceStub;
    context.as_filters_collections = true;
  }
  fhirpath::Item root;
  fhirpath::EvaluationContext context;
};

// Calls fn(search::Node) for each value `expr` selects in `resource`. System values computed by
// the expression (Resource.id is a System.String, `deceased.exists() and ...` a Boolean) are
// handed over as JSON primitives; nothing is selected when evaluation fails.
// `path`, when given, is `expr` as a member path: walked directly, with the same result.
template <typename Fn>
void ForEachValue(const fhirpath::Expression& expr, const fhirpath::MemberPath* path,
                  const json::Value& resource, const fhirpath::EvaluationContext& context,
                  Fn&& fn) {
  thread_local fhirpath::Collection result;  // storage reused across expressions
  const Status status = path != nullptr ? path->Select(*context.focus, context, &result)
                                        : fhirpath::Evaluate(expr, resource, context, &result);
  if (!status.ok()) {
    return;
  }
  for (const fhirpath::Item& item : result) {
    json::Value computed;
    switch (item.kind) {
      case fhirpath::ItemKind::kNode:
        if (item.node != nullptr) {
          fn(search::Node{item.node, item.backbone != nullptr ? nullptr : item.type});
        }
        continue;
      case fhirpath::ItemKind::kBoolean:
        computed = json::Value::Bool(item.boolean);
        break;
      case fhirpath::ItemKind::kString:
      case fhirpath::ItemKind::kDate:
      case fhirpath::ItemKind::kDateTime:
      case fhirpath::ItemKind::kTime:
        computed = json::Value::String(fhirpath::ToDisplayString(item));
        break;
      case fhirpath::ItemKind::kInteger:
      case fhirpath::ItemKind::kLong:
      case fhirpath::ItemKind::kDecimal:
        computed = json::Value::Number(fhirpath::ToDisplayString(item));
        break;
      default:
        continue;
    }
    fn(search::Node{&computed, nullptr});
  }
}

// The tuples of composite parameter `def` (see the file comment).
// `context` is the resource's evaluation context; its focus is moved to each element and back.
void AddComposite(const SearchParamDef& def, const fhirpath::Expression& expr,
                  const fhirpath::MemberPath* path,
                  const std::vector<fhirpath::Expression>& components,
                  const std::vector<std::optional<fhirpath::MemberPath>>& component_paths,
                  const std::vector<fhirpath::AbsenceRule>* component_absence,
                  const json::Value& resource, fhirpath::EvaluationContext& context,
                  IndexEntries* out) {
  fhirpath::Collection elements;  // not ForEachValue's storage: components are evaluated inside
  const Status status = path != nullptr ? path->Select(*context.focus, context, &elements)
                                        : fhirpath::Evaluate(expr, resource, context, &elements);
  if (!status.ok()) {
    return;
  }
  const fhirpath::Item* const resource_focus = context.focus;
  struct Restore {
    fhirpath::EvaluationContext& c;
    const fhirpath::Item* f;
    ~Restore() { c.focus = f; }
  } restore{context, resource_focus};
  std::vector<std::vector<CompositePart>> choices(components.size());
  for (const fhirpath::Item& element : elements) {
    if (element.kind != fhirpath::ItemKind::kNode || element.node == nullptr) {
      continue;
    }
    context.focus = &element;
    bool complete = true;
    // Last component first: it is the selective one (value.as(Quantity) vs value.as(dateTime)),
    // so an element without it costs one evaluation, not one per component.
    for (size_t k = components.size(); k-- > 0 && complete;) {
      if (component_absence != nullptr && (*component_absence)[k].Applies(element.node)) {
        complete = false;  // the component's members are absent from this element
        break;
      }
      IndexEntries values;
      const fhirpath::MemberPath* part_path = PathOf(component_paths[k]);
      ForEachValue(components[k], part_path, resource, context, [&](const search::Node& node) {
        search::AddEntries("", def.components[k].type, node, &values);
      });
      choices[k] = search::CompositeParts(def.components[k].type, values);
      complete = !choices[k].empty();
    }
    if (!complete) {
      continue;
    }
    // Cross product of the components' values, bounded.
    std::vector<size_t> pick(components.size(), 0);
    for (size_t n = 0; n < kMaxTuplesPerElement; ++n) {
      CompositeEntry entry{std::string(def.code), {}};
      for (size_t k = 0; k < components.size(); ++k) {
        entry.parts.push_back(choices[k][pick[k]]);
      }
      out->composites.push_back(std::move(entry));
      size_t k = components.size();
      while (k-- > 0 && ++pick[k] == choices[k].size()) {
        pick[k] = 0;
      }
      if (k == static_cast<size_t>(-1)) {
        break;  // every combination emitted
      }
    }
  }
}

// Compiled expressions of run-time parameters, by definition (definitions are never freed).
const fhirpath::Expression* CustomExpression(const SearchParamDef* def) {
  static std::mutex mu;
  static auto* cache = new std::map<const SearchParamDef*, std::optional<fhirpath::Expression>>();
  std::lock_guard lock(mu);
  auto [it, added] = cache->try_emplace(def);
  if (added) {
    if (auto compiled = fhirpath::Compile(def->expression); compiled.ok()) {
      it->second = std::move(compiled).value();
    }
  }
  return it->second ? &*it->second : nullptr;
}

}  // namespace

namespace search {

const json::Value* ReferenceStub(std::string_view reference) {
  static const std::vector<json::Value>* stubs = [] {
    auto* v = new std::vector<json::Value>();
    for (const std::string_view type : ResourceTypes()) {
      json::Value stub = json::Value::Object();
      stub.set("resourceType", json::Value::String(std::string(type)));
      v->push_back(std::move(stub));
    }
    return v;
  }();
  const std::string_view type = search::ReferenceType(reference);
  if (type.empty()) {
    return nullptr;
  }
  const auto types = ResourceTypes();
  const auto it = std::lower_bound(types.begin(), types.end(), type);
  return &(*stubs)[it - types.begin()];
}

}  // namespace search

IndexEntries ExtractIndex(const json::Value& resource) { return ExtractIndex(resource, {}); }

IndexEntries ExtractIndex(const json::Value& resource, std::span<const std::string_view> only) {
  auto wanted = [&](std::string_view code) {
    return only.empty() || std::find(only.begin(), only.end(), code) != only.end();
  };
  IndexEntries out;
  if (!resource.is_object()) {
    return out;
  }
  const std::string_view type = resource.string_at("resourceType");
  const TypeExpressions* tables = TablesFor(type);
  if (tables == nullptr) {
    return out;
  }
  const auto* compiled = &tables->compiled;
  const auto params = SearchParams(type);
  SearchContext sc(resource, type);
  const bool shortcuts = index_shortcuts.load(std::memory_order_relaxed);
  for (size_t i = 0; i < params.size(); ++i) {
    if (!wanted(params[i].code)) {
      continue;
    }
    if (shortcuts && tables->absence[i].Applies(&resource)) {
      continue;  // the members its expression starts from are absent: it selects nothing
    }
    if (const auto& expr = (*compiled)[i]; expr && params[i].type == SearchParamType::kComposite) {
      AddComposite(params[i], *expr, PathOf(tables->paths[i]), tables->components[i],
                   tables->component_paths[i], shortcuts ? &tables->component_absence[i] : nullptr,
                   resource, sc.context, &out);
    } else if (expr) {
      ForEachValue(*expr, PathOf(tables->paths[i]), resource, sc.context,
                   [&](const search::Node& node) {
                     search::AddEntries(params[i].code, params[i].type, node, &out);
                   });
    }
  }
  for (const SearchParamDef* def : CustomSearchParams(type)) {
    if (!wanted(def->code)) {
      continue;
    }
    if (const fhirpath::Expression* expr = CustomExpression(def)) {
      ForEachValue(*expr, nullptr, resource, sc.context, [&](const search::Node& node) {
        search::AddEntries(def->code, def->type, node, &out);
      });
    }
  }
  return out;
}

void SetIndexShortcuts(bool enabled) { index_shortcuts = enabled; }

void SetIndexMemberPaths(bool enabled) { member_paths = enabled; }

std::string PatientCompartmentOf(const json::Value& resource) {
  const std::string_view type = resource.string_at("resourceType");
  if (type == "Patient") {
    return std::string(resource.string_at("id"));
  }
  const TypeExpressions* tables = TablesFor(type);
  if (tables == nullptr) {
    return {};
  }
  const auto* compiled = &tables->compiled;
  const auto params = SearchParams(type);
  for (const std::string_view code : PatientCompartmentParams(type)) {
    const SearchParamDef* def = FindSearchParam(type, code);
    if (def == nullptr || !(*compiled)[def - params.data()]) {
      continue;
    }
    std::string id;
    const SearchContext sc(resource, type);
    ForEachValue(*(*compiled)[def - params.data()], PathOf(tables->paths[def - params.data()]),
                 resource, sc.context, [&](const search::Node& node) {
                   const std::string_view ref = node.value->is_object()
                                                    ? node.value->string_at("reference")
                                                    : std::string_view();
                   if (id.empty() && ref.substr(0, 8) == "Patient/") {
                     const std::string_view rest = ref.substr(8);
                     id = std::string(rest.substr(0, rest.find('/')));
                   }
                 });
    if (!id.empty()) {
      return id;
    }
  }
  return {};
}

IndexCoverage SearchIndexCoverage() {
  IndexCoverage c;
  for (const structure::TypeSearchParams& t : structure::SearchParamIndex()) {
    const auto* compiled = CompiledFor(t.type);
    const auto params = structure::SearchParamTable().subspan(t.begin, t.count);
    for (size_t i = 0; i < compiled->size(); ++i) {
      ++c.total;
      if ((*compiled)[i] || !UnionParamParts(t.type, params[i].code).empty()) {
        ++c.covered;  // a union parameter is searched through its parts' entries
      } else {
        c.not_covered.push_back(std::string(t.type) + "." + std::string(params[i].code));
      }
    }
  }
  return c;
}

}  // namespace carechart::fhir
