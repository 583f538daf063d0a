// ExtractIndex, PatientCompartmentOf and coverage (see search_index.h).
//
// Each SearchParameter expression is compiled by cc_fhirpath once, on the first use of its
// resource type (a table per type, each built under its own std::once_flag); composite and
// special parameters are not compiled. The values an expression selects are mapped to entries by
// search_entries.cc.
//
// resolve() has no store to read from: as the search specification allows, `resolve() is X`
// (e.g. `subject.where(resolve() is Patient)`) is decided by the type the reference names. The
// resolve callback returns a stub {"resourceType": "<Type>"} for a "Type/id" reference (absolute
// URLs ending in Type/id too), so `is Patient` sees the type and nothing else.
#include "fhir/search_index.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>

#include "fhir/definitions.h"
#include "fhir/search_entries.h"
#include "fhir/structure.h"
#include "fhirpath/fhirpath.h"

namespace carechart::fhir {
namespace {

bool Indexed(const SearchParamDef& def) {
  return def.type != SearchParamType::kComposite && def.type != SearchParamType::kSpecial &&
         !def.expression.empty();
}

// Compiled expressions of one resource type, parallel to SearchParams(type).
struct TypeExpressions {
  std::once_flag once;
  std::vector<std::optional<fhirpath::Expression>> compiled;
};

const std::vector<std::optional<fhirpath::Expression>>* CompiledFor(std::string_view type) {
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
      if (Indexed(def)) {
        if (auto compiled = fhirpath::Compile(def.expression); compiled.ok()) {
          e = std::move(compiled).value();
        }
      }
      t.compiled.push_back(std::move(e));
    }
  });
  return &t.compiled;
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
template <typename Fn>
void ForEachValue(const fhirpath::Expression& expr, const json::Value& resource,
                  const fhirpath::EvaluationContext& context, Fn&& fn) {
  thread_local fhirpath::Collection result;  // storage reused across expressions
  if (!fhirpath::Evaluate(expr, resource, context, &result).ok()) {
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

IndexEntries ExtractIndex(const json::Value& resource) {
  IndexEntries out;
  if (!resource.is_object()) {
    return out;
  }
  const std::string_view type = resource.string_at("resourceType");
  const auto* compiled = CompiledFor(type);
  if (compiled == nullptr) {
    return out;
  }
  const auto params = SearchParams(type);
  const SearchContext sc(resource, type);
  for (size_t i = 0; i < params.size(); ++i) {
    if (const auto& expr = (*compiled)[i]) {
      ForEachValue(*expr, resource, sc.context, [&](const search::Node& node) {
        search::AddEntries(params[i].code, params[i].type, node, &out);
      });
    }
  }
  return out;
}

std::string PatientCompartmentOf(const json::Value& resource) {
  const std::string_view type = resource.string_at("resourceType");
  if (type == "Patient") {
    return std::string(resource.string_at("id"));
  }
  const auto* compiled = CompiledFor(type);
  if (compiled == nullptr) {
    return {};
  }
  const auto params = SearchParams(type);
  for (const std::string_view code : PatientCompartmentParams(type)) {
    const SearchParamDef* def = FindSearchParam(type, code);
    if (def == nullptr || !(*compiled)[def - params.data()]) {
      continue;
    }
    std::string id;
    const SearchContext sc(resource, type);
    ForEachValue(
        *(*compiled)[def - params.data()], resource, sc.context, [&](const search::Node& node) {
          const std::string_view ref =
              node.value->is_object() ? node.value->string_at("reference") : std::string_view();
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
    for (const auto& e : *compiled) {
      ++c.total;
      c.covered += e ? 1 : 0;
    }
  }
  return c;
}

}  // namespace carechart::fhir
