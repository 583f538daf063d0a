#include "fhir/summary.h"

#include <algorithm>
#include <span>
#include <string_view>

#include "fhir/structure.h"

namespace carechart::fhir {
namespace {

using structure::ElementInfo;

constexpr std::string_view kSubsettedSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
constexpr std::string_view kSubsettedCode = "SUBSETTED";

bool AlwaysKept(std::string_view key) {
  return key == "resourceType" || key == "id" || key == "meta";
}

// The element a JSON property names; `_birthDate` names birthDate.
const ElementInfo* ElementFor(std::span<const ElementInfo> elements, std::string_view key) {
  if (key.size() > 1 && key[0] == '_') {
    key.remove_prefix(1);
  }
  return structure::FindElement(elements, key, nullptr);
}

void SummarizeObject(json::Value& object, std::span<const ElementInfo> elements, bool top_level);

// Keeps `value` if summary; backbone elements are filtered further, datatypes kept whole.
void SummarizeBackbone(json::Value& value, const ElementInfo& element) {
  if (value.is_object()) {
    SummarizeObject(value, structure::ChildrenOf(element), false);
  } else if (value.is_array()) {
    for (json::Value& item : value.items()) {
      if (item.is_object()) {
        SummarizeObject(item, structure::ChildrenOf(element), false);
      }
    }
  }
}

void SummarizeObject(json::Value& object, std::span<const ElementInfo> elements, bool top_level) {
  std::erase_if(object.members(), [&](const json::Value::Member& m) {
    if (top_level && AlwaysKept(m.first)) {
      return false;
    }
    const ElementInfo* e = ElementFor(elements, m.first);
    return e == nullptr || !(e->is_summary || (top_level && e->min >= 1));
  });
  for (auto& [key, value] : object.members()) {
    const ElementInfo* e = key[0] == '_' ? nullptr : ElementFor(elements, key);
    if (e != nullptr && e->is_backbone) {
      SummarizeBackbone(value, *e);
    }
  }
}

bool Listed(const std::vector<std::string_view>& listed, std::string_view key,
            const ElementInfo* e) {
  if (std::find(listed.begin(), listed.end(), key) != listed.end()) {
    return true;
  }
  if (e == nullptr) {
    return false;
  }
  const std::string choice = std::string(e->name) + "[x]";
  return std::any_of(listed.begin(), listed.end(), [&](std::string_view l) {
    return l == e->name || (e->is_choice && l == choice);
  });
}

// Top-level name of an `_elements` entry: " name.family " -> "name".
std::string_view TopLevelName(std::string_view entry) {
  while (!entry.empty() && entry.front() == ' ') {
    entry.remove_prefix(1);
  }
  while (!entry.empty() && entry.back() == ' ') {
    entry.remove_suffix(1);
  }
  return entry.substr(0, entry.find('.'));
}

void AddSubsettedTag(json::Value& resource) {
  json::Value* meta = resource.find("meta");
  if (meta == nullptr || !meta->is_object()) {
    const auto& members = resource.members();
    size_t pos = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      if (members[i].first == "resourceType" || members[i].first == "id") {
        pos = i + 1;
      }
    }
    meta = &resource.set_at("meta", json::Value::Object(), pos);
  }
  json::Value* tags = meta->find("tag");
  if (tags == nullptr || !tags->is_array()) {
    tags = &meta->set("tag", json::Value::Array());
  }
  for (const json::Value& t : tags->items()) {
    if (t.string_at("system") == kSubsettedSystem && t.string_at("code") == kSubsettedCode) {
      return;
    }
  }
  json::Value tag = json::Value::Object();
  tag.set("system", json::Value::String(std::string(kSubsettedSystem)));
  tag.set("code", json::Value::String(std::string(kSubsettedCode)));
  tags->push_back(std::move(tag));
}

std::span<const ElementInfo> ResourceElements(const json::Value& resource, bool* known) {
  const structure::TypeInfo* type = structure::FindType(resource.string_at("resourceType"));
  *known = type != nullptr && type->kind == structure::TypeKind::kResource;
  return *known ? structure::ElementsOf(*type) : std::span<const ElementInfo>();
}

}  // namespace

void ApplySummary(json::Value& resource) {
  bool known = false;
  const auto elements = ResourceElements(resource, &known);
  if (!resource.is_object() || !known) {
    return;
  }
  SummarizeObject(resource, elements, true);
  AddSubsettedTag(resource);
}

void ApplyElements(json::Value& resource, const std::vector<std::string>& elements) {
  if (!resource.is_object()) {
    return;
  }
  bool known = false;
  const auto defs = ResourceElements(resource, &known);
  std::vector<std::string_view> listed;
  for (const std::string& entry : elements) {
    if (const std::string_view name = TopLevelName(entry); !name.empty()) {
      listed.push_back(name);
    }
  }
  std::erase_if(resource.members(), [&](const json::Value::Member& m) {
    if (AlwaysKept(m.first)) {
      return false;
    }
    const std::string_view base =
        m.first.size() > 1 && m.first[0] == '_' ? std::string_view(m.first).substr(1) : m.first;
    const ElementInfo* e = ElementFor(defs, m.first);
    return !(Listed(listed, base, e) || (e != nullptr && e->min >= 1));
  });
  AddSubsettedTag(resource);
}

}  // namespace carechart::fhir
