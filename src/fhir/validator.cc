// Validation of FHIR R4 JSON against the generated element tables (structure.h).
//
// One walk over the tree: each object is matched against the element list of its type (or of its
// BackboneElement), each property is resolved to an element (choice suffixes included), and each
// value is checked for its JSON shape, cardinality, primitive format and required binding. The
// path of the node being checked is kept in one string that grows and shrinks as the walk goes,
// so a valid resource allocates nothing but that string.
#include "fhir/validator.h"

#include <algorithm>
#include <bitset>

#include "fhir/definitions.h"
#include "fhir/primitive_format.h"
#include "fhir/structure.h"
#include "fhir/validator_internal.h"
#include "fhirpath/fhirpath.h"

namespace carechart::fhir {
namespace {

using structure::ElementInfo;
using structure::TypeInfo;
using structure::TypeKind;

class Walker {
 public:
  explicit Walker(std::vector<ValidationIssue>* issues) : sink_(issues) {}

  void Resource(const json::Value& v, bool contained, std::string_view expected_type);

 private:
  // Appends to the path for the lifetime of the object.
  class PathScope {
   public:
    PathScope(std::string* path, std::string_view name, int index = -1)
        : path_(path), size_(path->size()) {
      if (!name.empty()) {
        path_->push_back('.');
        path_->append(name);
      }
      if (index >= 0) {
        path_->push_back('[');
        path_->append(std::to_string(index));
        path_->push_back(']');
      }
    }
    ~PathScope() { path_->resize(size_); }

   private:
    std::string* path_;
    size_t size_;
  };

  void Error(std::string_view code, std::string message) {
    sink_.Error(code, path_, std::move(message));
  }
  void Object(const json::Value& v, const TypeInfo* type, std::span<const ElementInfo> elements,
              bool resource_root, bool contained);
  void Property(const json::Value& owner, std::string_view key, const json::Value& v,
                const ElementInfo& e, const TypeInfo& t, bool contained);
  void PrimitiveProperty(const json::Value& owner, std::string_view key, const json::Value* v,
                         const ElementInfo& e, const TypeInfo& t);
  void Item(const json::Value& v, const ElementInfo& e, const TypeInfo& t, bool contained);
  void Companion(const json::Value& v);
  void Binding(const json::Value& v, const ElementInfo& e, const TypeInfo& t);
  void CodingBinding(const json::Value& coding, const structure::ValueSetInfo& vs);
  // ElementDefinition.constraint on a value: those of `element` (when given) and those of `type`
  // and its base types.
  void Constraints(const fhirpath::Item& focus, const ElementInfo* element, const TypeInfo& type);

  validation::IssueSink sink_;
  std::string path_;
  const json::Value* resource_ = nullptr;  // %resource: the resource being walked
  const json::Value* root_ = nullptr;      // %rootResource: its container when contained
};

void Walker::Resource(const json::Value& v, bool contained, std::string_view expected_type) {
  if (!v.is_object()) {
    Error("structure", "A resource must be a JSON object");
    return;
  }
  const json::Value* rt = v.find("resourceType");
  if (rt == nullptr || !rt->is_string()) {
    Error("structure", "Unable to find resourceType property");
    return;
  }
  const TypeInfo* type = structure::FindType(rt->text());
  if (type == nullptr || type->kind != TypeKind::kResource || type->is_abstract) {
    Error("structure", "Unknown resource type '" + rt->text() + "'");
    return;
  }
  if (!expected_type.empty() && rt->text() != expected_type) {
    Error("invalid", "Expected a " + std::string(expected_type) + " but found a " + rt->text());
  }
  const size_t size = path_.size();
  if (path_.empty()) {
    path_ = rt->text();
  }
  if (const json::Value* id = v.find("id"); id != nullptr && id->is_string()) {
    const std::string& s = id->text();
    if (s.size() > 64) {
      sink_.Error("value", path_ + ".id",
                  "Invalid Resource id: Too long (" + std::to_string(s.size()) + " chars)");
    } else if (!primitive::IsValidId(s)) {
      sink_.Error("value", path_ + ".id", "Invalid Resource id: Invalid Characters ('" + s + "')");
    }
  }
  const json::Value* saved_resource = resource_;
  const json::Value* saved_root = root_;
  resource_ = &v;
  if (!contained || root_ == nullptr) {
    root_ = &v;
  }
  Object(v, type, structure::ElementsOf(*type), true, contained);
  validation::CheckResourceRules(type->name, v, path_, &sink_);
  Constraints(fhirpath::Item::Node(&v, type), nullptr, *type);
  resource_ = saved_resource;
  root_ = saved_root;
  path_.resize(size);
}

void Walker::Object(const json::Value& v, const TypeInfo* type,
                    std::span<const ElementInfo> elements, bool resource_root, bool contained) {
  if (!v.is_object()) {
    Error("structure", "Expected a JSON object");
    return;
  }
  if (v.members().empty()) {
    Error("required", "Object must have some content");
    return;
  }
  std::vector<bool> seen_heap;
  std::bitset<128> seen_small;
  const bool small = elements.size() <= 128;
  if (!small) {
    seen_heap.resize(elements.size());
  }
  auto mark = [&](const ElementInfo* e) {
    const size_t i = static_cast<size_t>(e - elements.data());
    const bool before = small ? seen_small[i] : static_cast<bool>(seen_heap[i]);
    if (small) {
      seen_small[i] = true;
    } else {
      seen_heap[i] = true;
    }
    return before;
  };
  for (const auto& [key, value] : v.members()) {
    if (resource_root && key == "resourceType") {
      continue;
    }
    PathScope scope(&path_, key);
    if (key == "fhir_comments") {
      Error("structure",
            "Unrecognized property 'fhir_comments' (comments are not allowed in JSON)");
      continue;
    }
    const bool is_companion = !key.empty() && key[0] == '_';
    const std::string_view name = is_companion ? std::string_view(key).substr(1) : key;
    const TypeInfo* t = nullptr;
    const ElementInfo* e = structure::FindElement(elements, name, &t);
    if (e == nullptr || t == nullptr || (is_companion && t->kind != TypeKind::kPrimitive)) {
      Error("structure", "Unrecognized property '" + key + "'");
      continue;
    }
    if (is_companion) {
      if (v.find(name) == nullptr) {  // only an extension/id for the value: still present
        if (mark(e) && e->is_choice) {
          Error("structure", "Only one value of " + std::string(e->name) + "[x] is allowed");
        }
        PrimitiveProperty(v, name, nullptr, *e, *t);
      }
      continue;
    }
    if (mark(e) && e->is_choice) {
      Error("structure", "Only one value of " + std::string(e->name) + "[x] is allowed");
    }
    Property(v, key, value, *e, *t, contained || (resource_root && key == "contained"));
  }
  for (size_t i = 0; i < elements.size(); ++i) {
    const bool present = small ? seen_small[i] : static_cast<bool>(seen_heap[i]);
    if (!present && elements[i].min > 0) {
      const ElementInfo& e = elements[i];
      Error("required", path_ + "." + std::string(e.name) + (e.is_choice ? "[x]" : "") +
                            ": minimum required = " + std::to_string(e.min) + ", but only found 0");
    }
  }
}

void Walker::Property(const json::Value& owner, std::string_view key, const json::Value& v,
                      const ElementInfo& e, const TypeInfo& t, bool contained) {
  if (t.kind == TypeKind::kPrimitive) {
    PrimitiveProperty(owner, key, &v, e, t);
    return;
  }
  const bool many = e.max > 1;
  if (!many) {
    if (v.is_array()) {
      Error("structure", "This property must be a single value, not an array");
      return;
    }
    Item(v, e, t, contained);
    return;
  }
  if (!v.is_array()) {
    Error("structure", "The property " + std::string(key) + " must be a JSON Array, not " +
                           (v.is_object() ? "an Object" : "a primitive"));
    return;
  }
  if (v.items().empty()) {
    Error("required",
          "Array cannot be empty - the property should not be present if it has no values");
    return;
  }
  if (e.max != structure::kUnbounded && v.items().size() > e.max) {
    Error("structure", "Too many values: maximum allowed = " + std::to_string(e.max));
  }
  for (size_t i = 0; i < v.items().size(); ++i) {
    PathScope scope(&path_, {}, static_cast<int>(i));
    Item(v.items()[i], e, t, contained);
  }
}

void Walker::PrimitiveProperty(const json::Value& owner, std::string_view key, const json::Value* v,
                               const ElementInfo& e, const TypeInfo& t) {
  const json::Value* companion = owner.find("_" + std::string(key));
  const bool many = e.max > 1;
  auto check_one = [&](const json::Value* item, const json::Value* ext) {
    bool valid = true;
    if (item != nullptr && !item->is_null()) {
      if (std::string problem = primitive::Check(t.name, *item); !problem.empty()) {
        Error(problem.find("1 MB") != std::string::npos ? "too-long" : "value", std::move(problem));
        valid = false;
      } else {
        Binding(*item, e, t);
      }
    } else if (ext == nullptr || ext->is_null()) {
      Error("required", "A primitive needs a value or an extension (null found)");
      return;
    }
    if (ext != nullptr && !ext->is_null()) {
      Companion(*ext);
    }
    if (valid) {
      fhirpath::Item focus = fhirpath::Item::Node(item, &t);
      focus.primitive_extension = ext != nullptr && ext->is_object() ? ext : nullptr;
      Constraints(focus, &e, t);
    }
  };
  const json::Value* shape = v != nullptr ? v : companion;
  if (!many) {
    if (shape->is_array() || (companion != nullptr && companion->is_array())) {
      Error("structure", "This property must be a single value, not an array");
      return;
    }
    check_one(v, companion);
    return;
  }
  if (!shape->is_array() || (v != nullptr && companion != nullptr && !companion->is_array())) {
    Error("structure", "The property " + std::string(key) + " must be a JSON Array");
    return;
  }
  const size_t n = shape->items().size();
  if (n == 0) {
    Error("required",
          "Array cannot be empty - the property should not be present if it has no values");
    return;
  }
  if (v != nullptr && companion != nullptr && companion->items().size() != n) {
    Error("structure", "The arrays " + std::string(key) + " and _" + std::string(key) +
                           " must have the same length");
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    PathScope scope(&path_, {}, static_cast<int>(i));
    check_one(v != nullptr ? &v->items()[i] : nullptr,
              companion != nullptr ? &companion->items()[i] : nullptr);
  }
}

void Walker::Item(const json::Value& v, const ElementInfo& e, const TypeInfo& t, bool contained) {
  if (v.is_null()) {
    Error("required", "Null values are not allowed here");
    return;
  }
  if (t.kind == TypeKind::kResource) {  // contained, Bundle.entry.resource, parameter.resource
    // A contained resource with resources of its own breaks dom-2 (evaluated on the container).
    Resource(v, contained, {});
    return;
  }
  if (e.is_backbone) {
    Object(v, nullptr, structure::ChildrenOf(e), false, contained);
  } else {
    Object(v, &t, structure::ElementsOf(t), false, contained);
  }
  if (!v.is_object()) {
    return;
  }
  if (!v.members().empty()) {
    fhirpath::Item focus = fhirpath::Item::Node(&v, &t);
    focus.backbone = e.is_backbone ? &e : nullptr;
    Constraints(focus, &e, t);
  }
  if (t.name == "Reference") {
    if (const json::Value* ref = v.find("reference"); ref != nullptr && ref->is_string()) {
      if (std::string problem = validation::CheckReferenceFormat(ref->text()); !problem.empty()) {
        sink_.Error("value", path_ + ".reference", std::move(problem));
      }
    }
  }
  Binding(v, e, t);
}

void Walker::Companion(const json::Value& v) {
  static const TypeInfo* element = structure::FindType("Element");
  Object(v, nullptr, structure::ElementsOf(*element), false, false);
}

void Walker::Binding(const json::Value& v, const ElementInfo& e, const TypeInfo& t) {
  const structure::ValueSetInfo* vs = structure::ValueSetOf(e);
  if (vs == nullptr || !vs->checked) {
    return;
  }
  if (t.kind == TypeKind::kPrimitive) {
    if (v.is_string() && !structure::ValueSetContains(*vs, {}, v.text())) {
      Error("code-invalid", "The value provided ('" + v.text() + "') is not in the value set '" +
                                std::string(vs->url) +
                                "', and a code is required from this value set");
    }
  } else if (t.name == "Coding") {
    CodingBinding(v, *vs);
  } else if (t.name == "CodeableConcept") {
    if (const json::Value* codings = v.find("coding"); codings != nullptr && codings->is_array()) {
      for (size_t i = 0; i < codings->items().size(); ++i) {
        PathScope scope(&path_, "coding", static_cast<int>(i));
        CodingBinding(codings->items()[i], *vs);
      }
    }
  }
}

void Walker::CodingBinding(const json::Value& coding, const structure::ValueSetInfo& vs) {
  const std::string_view system = coding.string_at("system");
  const std::string_view code = coding.string_at("code");
  if (system.empty() || code.empty() || !structure::ValueSetHasSystem(vs, system)) {
    return;
  }
  if (!structure::ValueSetContains(vs, system, code)) {
    Error("code-invalid", "The code '" + std::string(code) + "' of system '" + std::string(system) +
                              "' is not in the required value set '" + std::string(vs.url) + "'");
  }
}

void Walker::Constraints(const fhirpath::Item& focus, const ElementInfo* element,
                         const TypeInfo& type) {
  if (element != nullptr) {
    validation::CheckConstraints(structure::ConstraintsOf(*element), focus, *resource_, *root_,
                                 path_, &sink_);
  }
  for (const TypeInfo* t = &type; t != nullptr; t = structure::BaseOf(*t)) {
    validation::CheckConstraints(structure::ConstraintsOf(*t), focus, *resource_, *root_, path_,
                                 &sink_);
  }
}

}  // namespace

std::vector<ValidationIssue> Validate(const json::Value& resource,
                                      const ValidationOptions& options) {
  std::vector<ValidationIssue> issues;
  Walker walker(&issues);
  walker.Resource(resource, false, options.expected_type);
  return issues;
}

bool HasErrors(const std::vector<ValidationIssue>& issues) {
  return std::any_of(issues.begin(), issues.end(), [](const ValidationIssue& i) {
    return i.severity == IssueSeverity::kError || i.severity == IssueSeverity::kFatal;
  });
}

}  // namespace carechart::fhir
