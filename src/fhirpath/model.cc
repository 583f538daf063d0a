// FHIR R4 type model for FHIRPath (see model.h).
#include "fhirpath/model.h"

#include <algorithm>

#include "fhir/structure.h"

namespace carechart::fhirpath {
namespace {

using fhir::structure::ElementInfo;
using fhir::structure::TypeInfo;

const TypeInfo* Type(std::string_view name) { return fhir::structure::FindType(name); }

const TypeInfo* DynamicType(const json::Value* v, const TypeInfo* declared) {
  if (v != nullptr && v->is_object()) {
    const std::string_view rt = v->string_at("resourceType");
    if (!rt.empty()) {
      if (const TypeInfo* t = Type(rt)) {
        return t;
      }
    }
  }
  return declared;
}

void Emit(const json::Value* v, const json::Value* ext, const TypeInfo* type,
          const ElementInfo* backbone, bool use_model, Collection* out) {
  const auto push = [&](const json::Value* value, const json::Value* e) {
    if ((value == nullptr || value->is_null()) && (e == nullptr || e->is_null())) {
      return;
    }
    Item item;
    item.node = value;
    item.primitive_extension = e != nullptr && e->is_object() ? e : nullptr;
    const TypeInfo* t = use_model ? type : nullptr;
    // Abstract declared types (Resource for contained, entry.resource) take the resourceType.
    item.type = t == nullptr || t->is_abstract ? DynamicType(value, t) : t;
    item.backbone = backbone;
    out->push_back(std::move(item));
  };
  if (v != nullptr && v->is_array()) {
    // `_given` may be longer than `given` (trailing values with only extensions).
    const auto& items = v->items();
    const bool ext_array = ext != nullptr && ext->is_array();
    const size_t n = std::max(items.size(), ext_array ? ext->items().size() : 0);
    for (size_t i = 0; i < n; ++i) {
      push(i < items.size() ? &items[i] : nullptr,
           ext_array && i < ext->items().size() ? &ext->items()[i] : nullptr);
    }
  } else if ((v == nullptr || v->is_null()) && ext != nullptr && ext->is_array()) {
    for (const json::Value& e : ext->items()) {
      push(nullptr, &e);
    }
  } else {
    push(v, ext);
  }
}

// The object whose members are the children of `item`.
const json::Value* ObjectOf(const Item& item) {
  if (item.kind != ItemKind::kNode) {
    return nullptr;
  }
  if (item.node != nullptr && item.node->is_object()) {
    return item.node;
  }
  return item.primitive_extension;
}

std::span<const ElementInfo> ElementsOfItem(const Item& item) {
  if (item.backbone != nullptr) {
    return fhir::structure::ChildrenOf(*item.backbone);
  }
  if (item.type != nullptr) {
    return fhir::structure::ElementsOf(*item.type);
  }
  return {};
}

bool IsExtensionKey(std::string_view key, std::string_view name) {
  return key.size() == name.size() + 1 && key[0] == '_' && key.substr(1) == name;
}

// `element` (nullptr without the model) gives the System type of Element.id, Resource.id and
// Extension.url: their values are System.String, not FHIR strings.
void EmitMember(const json::Value* value, const json::Value* ext, const ElementInfo* element,
                const TypeInfo* type, bool use_model, Collection* out) {
  if (element != nullptr && element->system_type == fhir::structure::SystemType::kString &&
      value != nullptr && value->is_string()) {
    out->push_back(Item::String(value->text()));
    return;
  }
  const ElementInfo* backbone = element != nullptr && element->is_backbone ? element : nullptr;
  Emit(value, ext, type, backbone, use_model, out);
}

void AppendMember(const json::Value& obj, std::string_view name, const ElementInfo* element,
                  const TypeInfo* type, bool use_model, Collection* out) {
  const json::Value* value = nullptr;
  const json::Value* ext = nullptr;
  for (const auto& [key, v] : obj.members()) {
    if (key == name) {
      value = &v;
    } else if (IsExtensionKey(key, name)) {
      ext = &v;
    }
  }
  EmitMember(value, ext, element, type, use_model, out);
}

}  // namespace

Item ResourceItem(const json::Value& resource, bool use_model) {
  return Item::Node(&resource, DynamicType(&resource, nullptr));
}

Item PartItem(const json::Value& part, std::string_view path, bool use_model) {
  Item item = Item::Node(&part, nullptr);
  if (!use_model) {
    return item;
  }
  size_t dot = path.find('.');
  item.type = Type(path.substr(0, dot));
  while (item.type != nullptr && dot != std::string_view::npos) {
    const size_t next = path.find('.', dot + 1);
    const std::string_view name =
        path.substr(dot + 1, next == std::string_view::npos ? next : next - dot - 1);
    const TypeInfo* type = nullptr;
    const ElementInfo* e = fhir::structure::FindElement(ElementsOfItem(item), name, &type);
    if (e == nullptr) {
      return Item::Node(&part, nullptr);
    }
    item.type = type;
    item.backbone = e->is_backbone ? e : nullptr;
    dot = next;
  }
  return item;
}

void AppendChildren(const Item& item, std::string_view name, bool use_model, Collection* out) {
  const json::Value* obj = ObjectOf(item);
  if (obj == nullptr) {
    return;
  }
  const auto elements = use_model ? ElementsOfItem(item) : std::span<const ElementInfo>();
  if (elements.empty() || name == "resourceType") {
    AppendMember(*obj, name, nullptr, nullptr, use_model, out);
    return;
  }
  for (const ElementInfo& e : elements) {
    if (e.name != name) {
      continue;
    }
    if (!e.is_choice) {
      const TypeInfo* type = e.types_count > 0 ? &fhir::structure::ElementType(e, 0) : nullptr;
      AppendMember(*obj, name, &e, type, use_model, out);
      return;
    }
    // Choice: each member "name<Type>" (and its "_name<Type>" extension).
    for (const auto& [key, v] : obj->members()) {
      const bool ext = !key.empty() && key[0] == '_';
      const std::string_view k = ext ? std::string_view(key).substr(1) : std::string_view(key);
      if (k.size() <= name.size() || k.substr(0, name.size()) != name) {
        continue;
      }
      const TypeInfo* type = nullptr;
      if (fhir::structure::FindElement(std::span(&e, 1), k, &type) == nullptr) {
        continue;
      }
      if (ext) {
        if (obj->find(k) == nullptr) {
          Emit(nullptr, &v, type, nullptr, use_model, out);
        }
        continue;
      }
      Emit(&v, obj->find("_" + std::string(k)), type, nullptr, use_model, out);
    }
    return;
  }
}

void AppendAllChildren(const Item& item, bool use_model, Collection* out) {
  const json::Value* obj = ObjectOf(item);
  if (obj == nullptr) {
    return;
  }
  const auto elements = use_model ? ElementsOfItem(item) : std::span<const ElementInfo>();
  bool companions = false;  // any "_name" member
  for (const auto& [key, v] : obj->members()) {
    companions |= !key.empty() && key[0] == '_';
  }
  for (const auto& [key, v] : obj->members()) {
    if (key == "resourceType" || key.empty()) {
      continue;
    }
    std::string_view k = key;
    const json::Value* value = &v;
    const json::Value* ext = nullptr;
    if (k[0] == '_') {
      k = k.substr(1);
      if (obj->find(k) != nullptr) {
        continue;  // emitted with its value
      }
      value = nullptr;
      ext = &v;
    } else if (companions) {
      ext = obj->find("_" + key);
    }
    const TypeInfo* type = nullptr;
    const ElementInfo* e =
        elements.empty() ? nullptr : fhir::structure::FindElement(elements, k, &type);
    EmitMember(value, ext, e, type, use_model, out);
  }
}

const TypeInfo* BaseType(const TypeInfo* t) {
  return t == nullptr ? nullptr : fhir::structure::BaseOf(*t);
}

bool IsOfType(const Item& item, const TypeSpec& spec, bool exact) {
  if (item.kind != ItemKind::kNode) {
    if (!spec.system && !spec.any_namespace) {
      return false;
    }
    if (!spec.has_system) {
      return false;
    }
    if (spec.system_kind == item.kind) {
      return true;
    }
    return false;
  }
  if (item.type == nullptr && (spec.system || spec.any_namespace) && spec.has_system) {
    Item v;
    return ToSystem(item, &v) && v.kind == spec.system_kind;
  }
  if (spec.system || spec.fhir == nullptr) {
    return false;
  }
  for (const TypeInfo* t = item.type; t != nullptr; t = exact ? nullptr : BaseType(t)) {
    if (t == spec.fhir) {
      return true;
    }
  }
  return false;
}

}  // namespace carechart::fhirpath

namespace carechart::fhirpath {

StatusOr<TypeSpec> ResolveTypeName(std::string_view qualified, int position) {
  static constexpr std::pair<std::string_view, ItemKind> kSystem[] = {
      {"Boolean", ItemKind::kBoolean},   {"String", ItemKind::kString},
      {"Integer", ItemKind::kInteger},   {"Long", ItemKind::kLong},
      {"Decimal", ItemKind::kDecimal},   {"Date", ItemKind::kDate},
      {"DateTime", ItemKind::kDateTime}, {"Time", ItemKind::kTime},
      {"Quantity", ItemKind::kQuantity}};
  TypeSpec spec;
  std::string_view name = qualified;
  std::string_view ns;
  if (const size_t dot = qualified.find('.'); dot != std::string_view::npos) {
    ns = qualified.substr(0, dot);
    name = qualified.substr(dot + 1);
  }
  spec.name = std::string(name);
  for (const auto& [n, kind] : kSystem) {
    if (n == name) {
      spec.has_system = true;
      spec.system_kind = kind;
    }
  }
  if (ns == "System") {
    spec.system = true;
    if (!spec.has_system) {
      return InvalidError("FHIRPath: unknown type System." + spec.name,
                          "@" + std::to_string(position));
    }
    return spec;
  }
  spec.fhir = Type(name);
  if (ns == "FHIR") {
    spec.has_system = false;
  } else if (!ns.empty()) {
    spec.fhir = nullptr;
    spec.has_system = false;
  } else {
    spec.any_namespace = true;
  }
  if (spec.fhir == nullptr && !spec.has_system) {
    return InvalidError("FHIRPath: unknown type " + std::string(qualified),
                        "@" + std::to_string(position));
  }
  return spec;
}

}  // namespace carechart::fhirpath
