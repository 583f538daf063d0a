// definitions.h over the generated tables (tools/gen-definitions.mjs).
#include "fhir/definitions.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "fhir/custom_params_generation.h"
#include "fhir/structure.h"

namespace carechart::fhir {

std::string_view SearchParamTypeName(SearchParamType type) {
  switch (type) {
    case SearchParamType::kNumber:
      return "number";
    case SearchParamType::kDate:
      return "date";
    case SearchParamType::kString:
      return "string";
    case SearchParamType::kToken:
      return "token";
    case SearchParamType::kReference:
      return "reference";
    case SearchParamType::kComposite:
      return "composite";
    case SearchParamType::kQuantity:
      return "quantity";
    case SearchParamType::kUri:
      return "uri";
    case SearchParamType::kSpecial:
      return "special";
  }
  return "unknown";
}

std::span<const std::string_view> ResourceTypes() { return structure::ResourceTypeTable(); }

bool IsResourceType(std::string_view name) {
  const auto types = ResourceTypes();
  return std::binary_search(types.begin(), types.end(), name);
}

std::span<const SearchParamDef> SearchParams(std::string_view resource_type) {
  const auto index = structure::SearchParamIndex();
  const auto it = std::lower_bound(
      index.begin(), index.end(), resource_type,
      [](const structure::TypeSearchParams& t, std::string_view n) { return t.type < n; });
  if (it == index.end() || it->type != resource_type) {
    return {};
  }
  return structure::SearchParamTable().subspan(it->begin, it->count);
}

namespace {

// One registered base of a run-time parameter: owns the strings its SearchParamDef views.
struct CustomEntry {
  CustomSearchParam param;
  std::string base;
  std::vector<std::string_view> target_views;
  SearchParamDef def{};
};

struct CustomRegistry {
  std::shared_mutex mu;
  std::atomic<uint64_t> generation{0};
  std::deque<std::unique_ptr<CustomEntry>> all;  // never freed: lookups hand out pointers
  std::map<std::pair<std::string, std::string>, const CustomEntry*, std::less<>> by_type_code;
};

CustomRegistry& Registry() {
  static CustomRegistry* r = new CustomRegistry();
  return *r;
}

void UnregisterLocked(CustomRegistry& r, std::string_view key) {
  r.generation.fetch_add(1);
  std::erase_if(r.by_type_code, [&](const auto& kv) { return kv.second->param.key == key; });
}

const SearchParamDef* FindStatic(std::string_view resource_type, std::string_view code) {
  const auto params = SearchParams(resource_type);
  const auto it =
      std::lower_bound(params.begin(), params.end(), code,
                       [](const SearchParamDef& p, std::string_view c) { return p.code < c; });
  return it != params.end() && it->code == code ? &*it : nullptr;
}

}  // namespace

std::vector<std::string> RegisterSearchParam(const CustomSearchParam& p) {
  CustomRegistry& r = Registry();
  std::unique_lock lock(r.mu);
  UnregisterLocked(r, p.key);
  std::vector<std::string> skipped;
  for (const std::string& base : p.bases) {
    if (FindStatic(base, p.code) != nullptr || !IsResourceType(base)) {
      skipped.push_back(base);
      continue;
    }
    auto e = std::make_unique<CustomEntry>();
    e->param = p;
    e->base = base;
    for (const std::string& t : e->param.targets) {
      e->target_views.push_back(t);
    }
    e->def = SearchParamDef{e->param.code,   e->param.type, e->param.expression,
                            e->target_views, e->param.url,  {}};
    r.by_type_code[{base, p.code}] = e.get();
    r.all.push_back(std::move(e));
  }
  return skipped;
}

void UnregisterSearchParam(std::string_view key) {
  CustomRegistry& r = Registry();
  std::unique_lock lock(r.mu);
  UnregisterLocked(r, key);
}

uint64_t CustomSearchParamsGeneration() { return Registry().generation.load(); }

std::vector<const SearchParamDef*> CustomSearchParams(std::string_view resource_type) {
  CustomRegistry& r = Registry();
  std::shared_lock lock(r.mu);
  std::vector<const SearchParamDef*> out;
  for (auto it =
           r.by_type_code.lower_bound(std::make_pair(std::string(resource_type), std::string()));
       it != r.by_type_code.end() && it->first.first == resource_type; ++it) {
    out.push_back(&it->second->def);
  }
  return out;
}

const SearchParamDef* FindSearchParam(std::string_view resource_type, std::string_view code) {
  if (const SearchParamDef* def = FindStatic(resource_type, code)) {
    return def;
  }
  CustomRegistry& r = Registry();
  std::shared_lock lock(r.mu);
  if (r.by_type_code.empty()) {
    return nullptr;
  }
  const auto it =
      r.by_type_code.find(std::make_pair(std::string(resource_type), std::string(code)));
  return it == r.by_type_code.end() ? nullptr : &it->second->def;
}

std::span<const std::string_view> PatientCompartmentParams(std::string_view resource_type) {
  const auto index = structure::CompartmentIndex();
  const auto it = std::lower_bound(
      index.begin(), index.end(), resource_type,
      [](const structure::CompartmentEntry& c, std::string_view n) { return c.type < n; });
  if (it == index.end() || it->type != resource_type) {
    return {};
  }
  return structure::CompartmentParamTable().subspan(it->begin, it->count);
}

}  // namespace carechart::fhir
