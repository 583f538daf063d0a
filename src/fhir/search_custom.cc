// SearchParameter resources as run-time search parameters (search_index.h): what the REST layer
// calls when one is written, deleted, or found in the database at start-up.
#include <optional>

#include "core/status.h"
#include "fhir/definitions.h"
#include "fhir/search_index.h"
#include "fhirpath/fhirpath.h"

namespace carechart::fhir {
namespace {

std::optional<SearchParamType> TypeNamed(std::string_view name) {
  for (SearchParamType t :
       {SearchParamType::kNumber, SearchParamType::kDate, SearchParamType::kString,
        SearchParamType::kToken, SearchParamType::kReference, SearchParamType::kQuantity,
        SearchParamType::kUri, SearchParamType::kComposite, SearchParamType::kSpecial}) {
    if (SearchParamTypeName(t) == name) {
      return t;
    }
  }
  return std::nullopt;
}

std::vector<std::string> Strings(const json::Value& sp, std::string_view key) {
  std::vector<std::string> out;
  if (const json::Value* v = sp.find(key); v != nullptr && v->is_array()) {
    for (const json::Value& item : v->items()) {
      if (item.is_string()) {
        out.push_back(item.text());
      }
    }
  }
  return out;
}

}  // namespace

namespace {

// The run-time parameter `sp` defines; nullopt when it is not active. kInvalid naming the element
// when an active one cannot be used.
StatusOr<std::optional<CustomSearchParam>> ToCustom(const json::Value& sp) {
  if (sp.string_at("status") != "active") {
    return std::optional<CustomSearchParam>();
  }
  CustomSearchParam p;
  p.key = "SearchParameter/" + std::string(sp.string_at("id"));
  p.code = std::string(sp.string_at("code"));
  p.url = std::string(sp.string_at("url"));
  p.expression = std::string(sp.string_at("expression"));
  p.bases = Strings(sp, "base");
  p.targets = Strings(sp, "target");
  const std::optional<SearchParamType> type = TypeNamed(sp.string_at("type"));
  if (!type || *type == SearchParamType::kComposite || *type == SearchParamType::kSpecial) {
    return InvalidError("SearchParameter.type '" + std::string(sp.string_at("type")) +
                            "' cannot be searched when defined at run time (number, date, "
                            "string, token, reference, quantity and uri can)",
                        "SearchParameter.type");
  }
  p.type = *type;
  if (p.expression.empty()) {
    return InvalidError("an active SearchParameter needs an expression to be searchable",
                        "SearchParameter.expression");
  }
  if (auto compiled = fhirpath::Compile(p.expression); !compiled.ok()) {
    return InvalidError(
        "SearchParameter.expression does not compile: " + compiled.status().message(),
        "SearchParameter.expression");
  }
  return std::optional<CustomSearchParam>(std::move(p));
}

}  // namespace

Status CheckSearchParameterResource(const json::Value& sp) { return ToCustom(sp).status(); }

StatusOr<std::vector<std::string>> ApplySearchParameterResource(const json::Value& sp) {
  auto p = ToCustom(sp);
  if (!p.ok() || !p->has_value()) {
    UnregisterSearchParam("SearchParameter/" + std::string(sp.string_at("id")));
    if (!p.ok()) {
      return p.status();
    }
    return std::vector<std::string>{};
  }
  return RegisterSearchParam(**p);
}

void ForgetSearchParameterResource(std::string_view id) {
  UnregisterSearchParam("SearchParameter/" + std::string(id));
}

}  // namespace carechart::fhir
