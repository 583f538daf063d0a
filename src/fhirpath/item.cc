// Items: constructors, the FHIR → System value mapping, type names and display text.
#include "fhir/structure.h"
#include "fhirpath/fhirpath.h"
#include "fhirpath/model.h"
#include "fhirpath/quantity.h"

namespace carechart::fhirpath {
namespace {

using fhir::structure::TypeInfo;
using fhir::structure::TypeKind;

constexpr std::string_view kUcumSystem = "http://unitsofmeasure.org";

bool IsQuantityType(const TypeInfo* t) {
  for (; t != nullptr; t = BaseType(t)) {
    if (t->name == "Quantity") {
      return true;
    }
  }
  return false;
}

bool QuantityFromNode(const json::Value& obj, Item* out) {
  const json::Value* value = obj.find("value");
  if (value == nullptr || !value->is_number()) {
    return false;
  }
  const auto d = Decimal::Parse(value->text());
  if (!d) {
    return false;
  }
  std::string_view unit = obj.string_at("code");
  if (unit.empty() || obj.string_at("system") != kUcumSystem) {
    unit = obj.string_at("unit").empty() ? unit : obj.string_at("unit");
  }
  *out = Item::FromQuantity(*d, std::string(unit.empty() ? "1" : unit));
  return true;
}

bool NumberItem(const std::string& text, bool integer, Item* out) {
  if (integer) {
    const auto d = Decimal::Parse(text);
    const auto v = d ? d->ToInt64() : std::nullopt;
    if (!v) {
      return false;
    }
    *out = Item::Integer(*v);
    return true;
  }
  const auto d = Decimal::Parse(text);
  if (!d) {
    return false;
  }
  *out = Item::FromDecimal(*d);
  return true;
}

}  // namespace

Item Item::Boolean(bool b) {
  Item i;
  i.kind = ItemKind::kBoolean;
  i.boolean = b;
  return i;
}
Item Item::String(std::string s) {
  Item i;
  i.kind = ItemKind::kString;
  i.text = std::move(s);
  return i;
}
Item Item::Integer(int64_t v) {
  Item i;
  i.kind = ItemKind::kInteger;
  i.integer = v;
  return i;
}
Item Item::Long(int64_t v) {
  Item i = Integer(v);
  i.kind = ItemKind::kLong;
  return i;
}
Item Item::FromDecimal(Decimal d) {
  Item i;
  i.kind = ItemKind::kDecimal;
  i.decimal = d;
  return i;
}
Item Item::FromDate(DateTimeValue d) {
  Item i;
  i.kind = d.kind == DateKind::kDate       ? ItemKind::kDate
           : d.kind == DateKind::kDateTime ? ItemKind::kDateTime
                                           : ItemKind::kTime;
  i.date = d;
  return i;
}
Item Item::FromQuantity(Decimal value, std::string unit) {
  Item i;
  i.kind = ItemKind::kQuantity;
  i.decimal = value;
  i.text = std::move(unit);
  return i;
}
Item Item::Node(const json::Value* value, const fhir::structure::TypeInfo* type) {
  Item i;
  i.node = value;
  i.type = type;
  return i;
}

bool ToSystem(const Item& item, Item* out) {
  if (item.kind != ItemKind::kNode) {
    *out = item;
    return true;
  }
  const json::Value* v = item.node;
  if (v == nullptr || v->is_null() || v->is_array()) {
    return false;
  }
  if (v->is_object()) {
    return IsQuantityType(item.type) && QuantityFromNode(*v, out);
  }
  if (v->is_bool()) {
    *out = Item::Boolean(v->as_bool());
    return true;
  }
  const std::string_view type = item.type != nullptr ? item.type->name : std::string_view();
  if (v->is_number()) {
    const bool integer =
        type.empty() ? v->text().find_first_of(".eE") == std::string::npos : type != "decimal";
    return NumberItem(v->text(), integer, out);
  }
  if (type == "date" || type == "dateTime" || type == "instant" || type == "time") {
    const DateKind kind = type == "date"   ? DateKind::kDate
                          : type == "time" ? DateKind::kTime
                                           : DateKind::kDateTime;
    if (const auto d = DateTimeValue::ParseString(v->text(), kind)) {
      *out = Item::FromDate(*d);
      return true;
    }
  }
  *out = Item::String(v->text());
  return true;
}

const Item* SystemView(const Item& item, Item* scratch) {
  if (item.kind != ItemKind::kNode) {
    return &item;
  }
  return ToSystem(item, scratch) ? scratch : nullptr;
}

void TypeNameOf(const Item& item, std::string_view* ns, std::string* name) {
  static constexpr std::string_view kNames[] = {"",     "Boolean",  "String",  "Integer",
                                                "Long", "Decimal",  "Date",    "DateTime",
                                                "Time", "Quantity", "TypeInfo"};
  if (item.kind != ItemKind::kNode) {
    *ns = "System";
    *name = kNames[static_cast<int>(item.kind)];
    return;
  }
  *ns = "FHIR";
  *name = std::string(FhirTypeName(item));
}

std::string_view FhirTypeName(const Item& item) {
  if (item.kind != ItemKind::kNode || item.type == nullptr) {
    return {};
  }
  return item.type->name;
}

std::string ToDisplayString(const Item& item) {
  Item scratch;
  const Item* v = SystemView(item, &scratch);
  if (v == nullptr) {
    return item.node != nullptr ? json::Write(*item.node) : std::string();
  }
  switch (v->kind) {
    case ItemKind::kBoolean:
      return v->boolean ? "true" : "false";
    case ItemKind::kString:
      return v->text;
    case ItemKind::kInteger:
    case ItemKind::kLong:
      return std::to_string(v->integer);
    case ItemKind::kDecimal:
      return v->decimal.ToString();
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime:
      return v->date.ToString();
    case ItemKind::kQuantity:
      return FormatQuantity(Quantity{v->decimal, v->text});
    case ItemKind::kTypeInfo:
      return std::string(v->type_namespace) + "." + v->text;
    case ItemKind::kNode:
      break;
  }
  return {};
}

}  // namespace carechart::fhirpath
