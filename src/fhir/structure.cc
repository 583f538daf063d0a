// Lookups over the generated R4 tables (see structure.h for their layout).
#include "fhir/structure.h"

#include <algorithm>

namespace carechart::fhir::structure {

const TypeInfo* FindType(std::string_view name) {
  const auto types = TypeTable();
  const auto it =
      std::lower_bound(types.begin(), types.end(), name,
                       [](const TypeInfo& t, std::string_view n) { return t.name < n; });
  return it != types.end() && it->name == name ? &*it : nullptr;
}

std::span<const ElementInfo> ElementsOf(const TypeInfo& type) {
  return ElementTable().subspan(type.elements_begin, type.elements_count);
}

std::span<const ElementInfo> ChildrenOf(const ElementInfo& element) {
  return ElementTable().subspan(element.children_begin, element.children_count);
}

const TypeInfo& ElementType(const ElementInfo& element, size_t i) {
  return TypeTable()[ElementTypeTable()[element.types_begin + i]];
}

const TypeInfo* BaseOf(const TypeInfo& type) {
  return type.base < 0 ? nullptr : &TypeTable()[type.base];
}

std::span<const ConstraintInfo> ConstraintsOf(const TypeInfo& type) {
  return ConstraintTable().subspan(type.constraints_begin, type.constraints_count);
}

std::span<const ConstraintInfo> ConstraintsOf(const ElementInfo& element) {
  return ConstraintTable().subspan(element.constraints_begin, element.constraints_count);
}

bool HasConstraint(const TypeInfo& type, std::string_view key) {
  for (const TypeInfo* t = &type; t != nullptr; t = BaseOf(*t)) {
    for (const ConstraintInfo& c : ConstraintsOf(*t)) {
      if (c.key == key) {
        return true;
      }
    }
  }
  return false;
}

namespace {

// "Quantity" for suffix "Quantity", "string" for suffix "String": a choice suffix is the type
// code with its first letter upper-cased.
bool SuffixNamesType(std::string_view suffix, std::string_view type) {
  if (suffix.size() != type.size() || suffix.empty()) {
    return false;
  }
  const char first = type[0] >= 'a' && type[0] <= 'z' ? static_cast<char>(type[0] - 32) : type[0];
  return suffix[0] == first && suffix.substr(1) == type.substr(1);
}

}  // namespace

const ElementInfo* FindElement(std::span<const ElementInfo> elements, std::string_view key,
                               const TypeInfo** type) {
  for (const ElementInfo& e : elements) {
    if (!e.is_choice) {
      if (e.name == key) {
        if (type != nullptr) {
          *type = e.types_count > 0 ? &ElementType(e, 0) : nullptr;
        }
        return &e;
      }
      continue;
    }
    if (key.size() <= e.name.size() || key.substr(0, e.name.size()) != e.name) {
      continue;
    }
    const std::string_view suffix = key.substr(e.name.size());
    for (size_t i = 0; i < e.types_count; ++i) {
      if (SuffixNamesType(suffix, ElementType(e, i).name)) {
        if (type != nullptr) {
          *type = &ElementType(e, i);
        }
        return &e;
      }
    }
  }
  return nullptr;
}

const ValueSetInfo* ValueSetOf(const ElementInfo& element) {
  return element.value_set < 0 ? nullptr : &ValueSetTable()[element.value_set];
}

bool ValueSetContains(const ValueSetInfo& vs, std::string_view system, std::string_view code) {
  const auto codes = CodeTable().subspan(vs.codes_begin, vs.codes_count);
  auto it = std::lower_bound(codes.begin(), codes.end(), code,
                             [](const CodeEntry& c, std::string_view k) { return c.code < k; });
  for (; it != codes.end() && it->code == code; ++it) {
    if (system.empty() || it->system == system) {
      return true;
    }
  }
  return false;
}

bool ValueSetHasSystem(const ValueSetInfo& vs, std::string_view system) {
  const auto codes = CodeTable().subspan(vs.codes_begin, vs.codes_count);
  return std::any_of(codes.begin(), codes.end(),
                     [&](const CodeEntry& c) { return c.system == system; });
}

}  // namespace carechart::fhir::structure
