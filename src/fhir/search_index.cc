// ExtractIndex, PatientCompartmentOf and coverage (see search_index.h).
//
// Each SearchParameter expression is compiled once, on first use, into a path::Expression; the
// table of compiled expressions parallels SearchParamTable() (same index), so a lookup is an
// array access. Expressions the subset evaluator cannot compile stay empty and are skipped.
#include "fhir/search_index.h"

#include "fhir/definitions.h"
#include "fhir/path_eval.h"
#include "fhir/search_entries.h"
#include "fhir/structure.h"

namespace carechart::fhir {
namespace {

const std::vector<std::optional<path::Expression>>& CompiledExpressions() {
  static const auto* compiled = [] {
    auto* table = new std::vector<std::optional<path::Expression>>();
    for (const SearchParamDef& def : structure::SearchParamTable()) {
      const bool evaluable =
          def.type != SearchParamType::kComposite && def.type != SearchParamType::kSpecial;
      table->push_back(evaluable ? path::Expression::Compile(def.expression) : std::nullopt);
    }
    return table;
  }();
  return *compiled;
}

const path::Expression* CompiledFor(const SearchParamDef& def) {
  const size_t i = static_cast<size_t>(&def - structure::SearchParamTable().data());
  const auto& slot = CompiledExpressions()[i];
  return slot ? &*slot : nullptr;
}

}  // namespace

IndexEntries ExtractIndex(const json::Value& resource) {
  IndexEntries out;
  if (!resource.is_object()) {
    return out;
  }
  std::vector<path::Node> nodes;
  for (const SearchParamDef& def : SearchParams(resource.string_at("resourceType"))) {
    const path::Expression* expr = CompiledFor(def);
    if (expr == nullptr) {
      continue;
    }
    nodes.clear();
    expr->Evaluate(resource, &nodes);
    for (const path::Node& node : nodes) {
      search::AddEntries(def.code, def.type, node, &out);
    }
  }
  return out;
}

std::string PatientCompartmentOf(const json::Value& resource) {
  const std::string_view type = resource.string_at("resourceType");
  if (type == "Patient") {
    return std::string(resource.string_at("id"));
  }
  std::vector<path::Node> nodes;
  for (const std::string_view code : PatientCompartmentParams(type)) {
    const SearchParamDef* def = FindSearchParam(type, code);
    const path::Expression* expr = def ? CompiledFor(*def) : nullptr;
    if (expr == nullptr) {
      continue;
    }
    nodes.clear();
    expr->Evaluate(resource, &nodes);
    for (const path::Node& node : nodes) {
      const std::string_view ref =
          node.value->is_object() ? node.value->string_at("reference") : std::string_view();
      if (ref.substr(0, 8) == "Patient/") {
        std::string_view id = ref.substr(8);
        return std::string(id.substr(0, id.find('/')));
      }
    }
  }
  return {};
}

IndexCoverage SearchIndexCoverage() {
  IndexCoverage c;
  for (const SearchParamDef& def : structure::SearchParamTable()) {
    ++c.total;
    c.covered += CompiledFor(def) != nullptr ? 1 : 0;
  }
  return c;
}

}  // namespace carechart::fhir
