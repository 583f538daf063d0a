// Equality, equivalence, ordering and singleton rules shared by operators and functions.
#include <cctype>

#include "fhirpath/evaluator.h"
#include "fhirpath/model.h"
#include "fhirpath/quantity.h"

namespace carechart::fhirpath {
namespace {

bool IsNumber(ItemKind k) {
  return k == ItemKind::kInteger || k == ItemKind::kLong || k == ItemKind::kDecimal;
}
bool IsTemporal(ItemKind k) {
  return k == ItemKind::kDate || k == ItemKind::kDateTime || k == ItemKind::kTime;
}

Decimal AsDecimal(const Item& v) {
  return v.kind == ItemKind::kDecimal ? v.decimal : Decimal::FromInt(v.integer);
}

Quantity AsQuantity(const Item& v) {
  if (v.kind == ItemKind::kQuantity) {
    return Quantity{v.decimal, v.text};
  }
  return Quantity{AsDecimal(v), "1"};
}

// A string compared with a date: parse the string as the date's kind (JSON has no date type).
bool StringAsTemporal(const Item& s, const Item& t, Item* out) {
  const DateKind kind = t.kind == ItemKind::kDate       ? DateKind::kDate
                        : t.kind == ItemKind::kDateTime ? DateKind::kDateTime
                                                        : DateKind::kTime;
  const auto d = DateTimeValue::ParseString(s.text, kind);
  if (!d) {
    return false;
  }
  *out = Item::FromDate(*d);
  return true;
}

// Both operands as System values, a string promoted to the other side's date kind.
bool Prepare(const Item& a, const Item& b, Item* sa, Item* sb, const Item** x, const Item** y) {
  *x = SystemView(a, sa);
  *y = SystemView(b, sb);
  if (*x == nullptr || *y == nullptr) {
    return false;
  }
  if ((*x)->kind == ItemKind::kString && IsTemporal((*y)->kind)) {
    Item t;
    if (StringAsTemporal(**x, **y, &t)) {
      *sa = std::move(t);
      *x = sa;
    }
  } else if ((*y)->kind == ItemKind::kString && IsTemporal((*x)->kind)) {
    Item t;
    if (StringAsTemporal(**y, **x, &t)) {
      *sb = std::move(t);
      *y = sb;
    }
  }
  return true;
}

// Equivalence ignores case and treats every whitespace character as a space (no trimming, no
// collapsing of runs).
std::string NormalizeForEquivalence(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const bool space = c == '\t' || c == '\r' || c == '\n';
    out.push_back(space ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

// Deep JSON equality: member order does not matter, numbers compare by value.
bool JsonEqual(const json::Value* a, const json::Value* b) {
  const bool null_a = a == nullptr || a->is_null(), null_b = b == nullptr || b->is_null();
  if (null_a || null_b) {
    return null_a == null_b;
  }
  if (a->kind() != b->kind()) {
    return false;
  }
  switch (a->kind()) {
    case json::Kind::kNumber: {
      const auto x = Decimal::Parse(a->text()), y = Decimal::Parse(b->text());
      return x && y ? Compare(*x, *y) == 0 : a->text() == b->text();
    }
    case json::Kind::kArray:
      if (a->items().size() != b->items().size()) {
        return false;
      }
      for (size_t i = 0; i < a->items().size(); ++i) {
        if (!JsonEqual(&a->items()[i], &b->items()[i])) {
          return false;
        }
      }
      return true;
    case json::Kind::kObject:
      if (a->members().size() != b->members().size()) {
        return false;
      }
      for (const auto& [key, value] : a->members()) {
        if (!JsonEqual(&value, b->find(key))) {
          return false;
        }
      }
      return true;
    default:
      return *a == *b;
  }
}

bool NodesEqual(const Item& a, const Item& b) {
  if (a.node == b.node && a.primitive_extension == b.primitive_extension) {
    return true;
  }
  return JsonEqual(a.node, b.node) && JsonEqual(a.primitive_extension, b.primitive_extension);
}

}  // namespace

std::optional<bool> ItemsEqual(const Item& a, const Item& b) {
  Item sa, sb;
  const Item *x, *y;
  if (!Prepare(a, b, &sa, &sb, &x, &y)) {
    if (a.kind == ItemKind::kNode && b.kind == ItemKind::kNode) {
      return NodesEqual(a, b);
    }
    return false;
  }
  if (IsNumber(x->kind) && IsNumber(y->kind)) {
    if (x->kind != ItemKind::kDecimal && y->kind != ItemKind::kDecimal) {
      return x->integer == y->integer;
    }
    return Compare(AsDecimal(*x), AsDecimal(*y)) == 0;
  }
  if (x->kind == ItemKind::kQuantity || y->kind == ItemKind::kQuantity) {
    if (!(x->kind == ItemKind::kQuantity || IsNumber(x->kind)) ||
        !(y->kind == ItemKind::kQuantity || IsNumber(y->kind))) {
      return false;
    }
    const auto c = CompareQuantities(AsQuantity(*x), AsQuantity(*y));
    if (!c) {
      return std::nullopt;
    }
    return *c == 0;
  }
  if (IsTemporal(x->kind) && IsTemporal(y->kind)) {
    if ((x->kind == ItemKind::kTime) != (y->kind == ItemKind::kTime)) {
      return false;
    }
    const auto c = CompareDateTimes(x->date, y->date);
    if (!c) {
      return std::nullopt;
    }
    return *c == 0;
  }
  if (x->kind != y->kind) {
    return false;
  }
  switch (x->kind) {
    case ItemKind::kBoolean:
      return x->boolean == y->boolean;
    case ItemKind::kString:
      return x->text == y->text;
    case ItemKind::kTypeInfo:
      return x->text == y->text && x->type_namespace == y->type_namespace;
    default:
      return false;
  }
}

bool ItemsEquivalent(const Item& a, const Item& b) {
  Item sa, sb;
  const Item *x, *y;
  if (!Prepare(a, b, &sa, &sb, &x, &y)) {
    if (a.kind == ItemKind::kNode && b.kind == ItemKind::kNode) {
      return NodesEqual(a, b);
    }
    return false;
  }
  if (IsNumber(x->kind) && IsNumber(y->kind)) {
    const Decimal dx = AsDecimal(*x), dy = AsDecimal(*y);
    const int digits = std::min(dx.scale, dy.scale);
    return Compare(Round(dx, digits), Round(dy, digits)) == 0;
  }
  if (x->kind == ItemKind::kQuantity && y->kind == ItemKind::kQuantity) {
    return QuantitiesEquivalent(AsQuantity(*x), AsQuantity(*y));
  }
  if (IsTemporal(x->kind) && IsTemporal(y->kind)) {
    return DateTimesEquivalent(x->date, y->date);
  }
  if (x->kind == ItemKind::kString && y->kind == ItemKind::kString) {
    return NormalizeForEquivalence(x->text) == NormalizeForEquivalence(y->text);
  }
  const auto eq = ItemsEqual(*x, *y);
  return eq.value_or(false);
}

std::optional<bool> CollectionsEqual(const Collection& a, const Collection& b) {
  if (a.empty() || b.empty()) {
    return std::nullopt;
  }
  if (a.size() != b.size()) {
    return false;
  }
  bool unknown = false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto eq = ItemsEqual(a[i], b[i]);
    if (!eq) {
      unknown = true;
    } else if (!*eq) {
      return false;
    }
  }
  if (unknown) {
    return std::nullopt;
  }
  return true;
}

bool CollectionsEquivalent(const Collection& a, const Collection& b) {
  if (a.size() != b.size()) {
    return false;
  }
  std::vector<bool> used(b.size());
  for (const Item& x : a) {
    bool found = false;
    for (size_t j = 0; j < b.size() && !found; ++j) {
      if (!used[j] && ItemsEquivalent(x, b[j])) {
        used[j] = true;
        found = true;
      }
    }
    if (!found) {
      return false;
    }
  }
  return true;
}

bool ContainsItem(const Collection& c, const Item& item) {
  for (const Item& x : c) {
    if (ItemsEqual(x, item).value_or(false)) {
      return true;
    }
  }
  return false;
}

Status Singleton(const Collection& c, Item* scratch, const Item** out, int position) {
  *out = nullptr;
  if (c.empty()) {
    return Status::Ok();
  }
  if (c.size() > 1) {
    return EvalError("expected a single item, got " + std::to_string(c.size()), position);
  }
  *out = SystemView(c[0], scratch);
  if (*out == nullptr) {
    const json::Value* n = c[0].node;
    const bool valueless = n == nullptr || n->is_null();
    *out = valueless ? nullptr : &c[0];  // a primitive with only an extension acts as empty
  }
  return Status::Ok();
}

Status SingletonBoolean(const Collection& c, std::optional<bool>* out, int position) {
  out->reset();
  if (c.empty()) {
    return Status::Ok();
  }
  if (c.size() > 1) {
    return EvalError("expected a single Boolean, got " + std::to_string(c.size()) + " items",
                     position);
  }
  Item scratch;
  const Item* v = SystemView(c[0], &scratch);
  *out = v != nullptr && v->kind == ItemKind::kBoolean ? v->boolean : true;
  return Status::Ok();
}

Status CompareItems(const Item& a, const Item& b, std::optional<int>* out, int position) {
  out->reset();
  Item sa, sb;
  const Item *x, *y;
  if (!Prepare(a, b, &sa, &sb, &x, &y)) {
    return EvalError("cannot compare objects", position);
  }
  if (IsNumber(x->kind) && IsNumber(y->kind)) {
    if (x->kind != ItemKind::kDecimal && y->kind != ItemKind::kDecimal) {
      *out = x->integer < y->integer ? -1 : (x->integer > y->integer ? 1 : 0);
    } else {
      *out = Compare(AsDecimal(*x), AsDecimal(*y));
    }
    return Status::Ok();
  }
  if (x->kind == ItemKind::kString && y->kind == ItemKind::kString) {
    const int c = x->text.compare(y->text);
    *out = c < 0 ? -1 : (c > 0 ? 1 : 0);
    return Status::Ok();
  }
  if (IsTemporal(x->kind) && IsTemporal(y->kind) &&
      (x->kind == ItemKind::kTime) == (y->kind == ItemKind::kTime)) {
    const auto c = CompareDateTimes(x->date, y->date);
    if (c) {
      *out = *c;
    }
    return Status::Ok();
  }
  if ((x->kind == ItemKind::kQuantity || IsNumber(x->kind)) &&
      (y->kind == ItemKind::kQuantity || IsNumber(y->kind))) {
    const auto c = CompareQuantities(AsQuantity(*x), AsQuantity(*y));
    if (c) {
      *out = *c;
    }
    return Status::Ok();
  }
  return EvalError("cannot compare these types", position);
}

}  // namespace carechart::fhirpath
