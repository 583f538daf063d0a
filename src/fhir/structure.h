// Internal view of the generated R4 tables (tools/gen-definitions.mjs writes them into the build
// directory). Used by the validator, the search-index extractor and cc_fhirpath's type model; not
// a public API of cc_fhir_model.
//
// Layout: one table of types (sorted by name), one flat table of elements. A type's direct
// elements are the contiguous range [elements_begin, elements_begin + elements_count); a
// BackboneElement's children are another range of the same table (contentReference elements such
// as Questionnaire.item.item point at the range of their target). Each type names its base type
// (StructureDefinition.baseDefinition: code → string, Age → Quantity, Patient → DomainResource).
// Constraints (ElementDefinition.constraint) are one more flat table: a type's range holds those
// of its root element, an element's range those defined on that element, each listed once where
// it is defined (a type inherits its base types' constraints; contentReference elements carry
// their target's). All tables are constinit arrays of string_views and integers: nothing is built
// at start-up.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "fhir/definitions.h"

namespace carechart::fhir::structure {

enum class TypeKind : uint8_t { kPrimitive, kComplex, kResource };

struct TypeInfo {
  std::string_view name;
  TypeKind kind;
  bool is_abstract;
  int32_t base;  // into TypeTable(): StructureDefinition.baseDefinition, -1 for Element, Resource
  uint32_t elements_begin;
  uint32_t elements_count;
  uint32_t constraints_begin;  // into ConstraintTable(): constraints of the type's root element
  uint32_t constraints_count;
};

// The FHIRPath System type an element is declared with (Element.id, Resource.id and Extension.url
// are System.String; the `value` of each primitive is its System type), kNone for FHIR types.
enum class SystemType : uint8_t {
  kNone,
  kString,
  kBoolean,
  kInteger,
  kDecimal,
  kDate,
  kDateTime,
  kTime
};

enum class ConstraintSeverity : uint8_t { kError, kWarning };

struct ConstraintInfo {
  std::string_view key;  // "per-1"
  ConstraintSeverity severity;
  std::string_view human;       // "If present, start SHALL have a lower value than end"
  std::string_view expression;  // FHIRPath, evaluated with the constrained value as focus
};

inline constexpr uint16_t kUnbounded = 0xFFFF;

struct ElementInfo {
  std::string_view name;  // "value" for "value[x]" (is_choice set)
  uint16_t min;
  uint16_t max;          // kUnbounded for "*"
  uint32_t types_begin;  // into ElementTypeTable(): indexes into TypeTable()
  uint16_t types_count;
  bool is_choice;
  bool is_backbone;  // children are [children_begin, children_begin + children_count)
  bool is_summary;   // ElementDefinition.isSummary: part of the `_summary=true` view
  SystemType system_type;
  uint32_t children_begin;
  uint32_t children_count;
  int32_t value_set;           // index into ValueSetTable() for a required binding, -1 when none
  uint32_t constraints_begin;  // into ConstraintTable(): constraints defined on this element
  uint32_t constraints_count;
};

struct CodeEntry {
  std::string_view code;
  std::string_view system;
};

struct ValueSetInfo {
  std::string_view url;
  bool checked;  // false: could not be expanded from the definitions (UCUM, BCP-47, MIME ...)
  uint32_t codes_begin;  // into CodeTable(), sorted by code
  uint32_t codes_count;
};

struct TypeSearchParams {
  std::string_view type;
  uint32_t begin;  // into SearchParamTable(), sorted by code
  uint32_t count;
};

struct CompartmentEntry {
  std::string_view type;
  uint32_t begin;  // into CompartmentParamTable()
  uint32_t count;
};

// Generated tables.
std::span<const TypeInfo> TypeTable();
std::span<const ElementInfo> ElementTable();
std::span<const uint16_t> ElementTypeTable();
std::span<const ConstraintInfo> ConstraintTable();
std::span<const ValueSetInfo> ValueSetTable();
std::span<const CodeEntry> CodeTable();
std::span<const std::string_view> ResourceTypeTable();
std::span<const SearchParamDef> SearchParamTable();
std::span<const TypeSearchParams> SearchParamIndex();
std::span<const std::string_view> CompartmentParamTable();
std::span<const CompartmentEntry> CompartmentIndex();

// Lookups over the tables (structure.cc).
const TypeInfo* FindType(std::string_view name);
std::span<const ElementInfo> ElementsOf(const TypeInfo& type);
std::span<const ElementInfo> ChildrenOf(const ElementInfo& element);
const TypeInfo& ElementType(const ElementInfo& element, size_t i);
// The type `type` derives from; nullptr for Element and Resource.
const TypeInfo* BaseOf(const TypeInfo& type);
// Constraints of the type's root element (not those of its base types) and of one element.
std::span<const ConstraintInfo> ConstraintsOf(const TypeInfo& type);
std::span<const ConstraintInfo> ConstraintsOf(const ElementInfo& element);
// Whether `type` or one of its base types defines constraint `key` on its root element.
bool HasConstraint(const TypeInfo& type, std::string_view key);

// The element of `elements` that JSON property `key` names, and for a choice element the type its
// suffix selects ("valueQuantity" → value[x], Quantity). Returns nullptr when none matches.
const ElementInfo* FindElement(std::span<const ElementInfo> elements, std::string_view key,
                               const TypeInfo** type);

// Required-binding membership; `system` empty means "any system of the value set".
const ValueSetInfo* ValueSetOf(const ElementInfo& element);
bool ValueSetContains(const ValueSetInfo& vs, std::string_view system, std::string_view code);
bool ValueSetHasSystem(const ValueSetInfo& vs, std::string_view system);

}  // namespace carechart::fhir::structure
