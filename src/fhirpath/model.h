// The FHIR R4 type model as FHIRPath sees it (internal to cc_fhirpath): navigation from an item to
// its children (choice elements, primitive extensions, contained resources), the type hierarchy
// behind is/as/ofType, and the mapping of FHIR primitives and Quantity to System values.
#pragma once

#include <string_view>

#include "fhirpath/ast.h"
#include "fhirpath/fhirpath.h"

namespace carechart::fhirpath {

// The item for a resource (type from resourceType; none without the model).
Item ResourceItem(const json::Value& resource, bool use_model);
// The item for a part of a resource at `path` ("QuestionnaireResponse.item"), typed by the model.
Item PartItem(const json::Value& part, std::string_view path, bool use_model);

// Appends the children of `item` named `name` (choice elements: `value` finds valueQuantity ...).
void AppendChildren(const Item& item, std::string_view name, bool use_model, Collection* out);
// Appends every child of `item` in document order (children()).
void AppendAllChildren(const Item& item, bool use_model, Collection* out);

// Whether `item` is of type `spec`; `exact` false accepts subtypes (is, as), true only the type
// itself (ofType follows the spec and accepts subtypes too: callers pass false).
bool IsOfType(const Item& item, const TypeSpec& spec, bool exact = false);

// The System value of `item`: itself when already one, the converted FHIR primitive / Quantity
// otherwise. Returns false for objects and primitives without a value.
bool ToSystem(const Item& item, Item* out);
// Same, but returns a pointer to `item` itself when no conversion is needed.
const Item* SystemView(const Item& item, Item* scratch);

// type(): namespace and name.
void TypeNameOf(const Item& item, std::string_view* ns, std::string* name);

// The FHIR type that `t` derives from (code → string, Age → Quantity, Patient → DomainResource);
// nullptr at the root.
const fhir::structure::TypeInfo* BaseType(const fhir::structure::TypeInfo* t);

}  // namespace carechart::fhirpath
