// Binary operators: boolean logic (three-valued), equality/equivalence, comparison, membership,
// union, string concatenation and arithmetic on numbers, quantities and dates.
#include "fhirpath/evaluator.h"
#include "fhirpath/model.h"
#include "fhirpath/quantity.h"

namespace carechart::fhirpath {
namespace {

bool IsNumber(ItemKind k) {
  return k == ItemKind::kInteger || k == ItemKind::kLong || k == ItemKind::kDecimal;
}
Decimal AsDecimal(const Item& v) {
  return v.kind == ItemKind::kDecimal ? v.decimal : Decimal::FromInt(v.integer);
}

void PushBool(std::optional<bool> b, Collection* out) {
  if (b) {
    out->push_back(Item::Boolean(*b));
  }
}

Status Logic(std::string_view op, const Collection& l, const Collection& r, int pos,
             Collection* out) {
  std::optional<bool> a, b;
  RETURN_IF_ERROR(SingletonBoolean(l, &a, pos));
  RETURN_IF_ERROR(SingletonBoolean(r, &b, pos));
  std::optional<bool> v;
  if (op == "and") {
    if (a == false || b == false) {
      v = false;
    } else if (a && b) {
      v = true;
    }
  } else if (op == "or") {
    if (a == true || b == true) {
      v = true;
    } else if (a && b) {
      v = false;
    }
  } else if (op == "xor") {
    if (a && b) {
      v = *a != *b;
    }
  } else {  // implies
    if (a == false || b == true) {
      v = true;
    } else if (a == true && b == false) {
      v = false;
    }
  }
  PushBool(v, out);
  return Status::Ok();
}

std::optional<Item> DateArithmetic(const Item& date, const Item& q, bool subtract) {
  int multiplier = 1;
  const auto unit = DateArithmeticUnit(q.text, &multiplier);
  if (!unit) {
    return std::nullopt;
  }
  const auto amount = Truncate(q.decimal).ToInt64();
  if (!amount) {
    return std::nullopt;
  }
  const int64_t n = (subtract ? -*amount : *amount) * multiplier;
  const auto d = AddCalendar(date.date, n, *unit);
  if (!d) {
    return std::nullopt;
  }
  return Item::FromDate(*d);
}

Status Integer(std::string_view op, int64_t a, int64_t b, Collection* out) {
  int64_t r = 0;
  bool overflow = false;
  if (op == "+") {
    overflow = __builtin_add_overflow(a, b, &r);
  } else if (op == "-") {
    overflow = __builtin_sub_overflow(a, b, &r);
  } else if (op == "*") {
    overflow = __builtin_mul_overflow(a, b, &r);
  } else if (op == "div" || op == "mod") {
    if (b == 0) {
      return Status::Ok();
    }
    r = op == "div" ? a / b : a % b;
  }
  if (!overflow) {
    out->push_back(Item::Integer(r));
  }
  return Status::Ok();
}

Status DecimalOp(std::string_view op, const Decimal& a, const Decimal& b, Collection* out) {
  std::optional<Decimal> r;
  if (op == "+") {
    r = Add(a, b);
  } else if (op == "-") {
    r = Subtract(a, b);
  } else if (op == "*") {
    r = Multiply(a, b);
  } else if (op == "/") {
    r = Divide(a, b);
  } else if (op == "div") {
    if (b.units == 0) {
      return Status::Ok();
    }
    const auto q = Divide(a, b);
    if (q) {
      out->push_back(Item::Integer(Truncate(*q).ToInt64().value_or(0)));
    }
    return Status::Ok();
  } else if (op == "mod") {
    if (b.units == 0) {
      return Status::Ok();
    }
    const auto q = Divide(a, b);
    if (!q) {
      return Status::Ok();
    }
    const auto t = Multiply(Truncate(*q), b);
    if (t) {
      r = Subtract(a, *t);
    }
  }
  if (r) {
    out->push_back(Item::FromDecimal(*r));
  }
  return Status::Ok();
}

Status Arithmetic(std::string_view op, const Collection& l, const Collection& r, int pos,
                  Collection* out) {
  if (op == "&") {
    Item sa, sb;
    const Item *a, *b;
    RETURN_IF_ERROR(Singleton(l, &sa, &a, pos));
    RETURN_IF_ERROR(Singleton(r, &sb, &b, pos));
    std::string s = a != nullptr ? ToDisplayString(*a) : "";
    if (b != nullptr) {
      s += ToDisplayString(*b);
    }
    out->push_back(Item::String(std::move(s)));
    return Status::Ok();
  }
  Item sa, sb;
  const Item *a, *b;
  RETURN_IF_ERROR(Singleton(l, &sa, &a, pos));
  RETURN_IF_ERROR(Singleton(r, &sb, &b, pos));
  if (a == nullptr || b == nullptr) {
    return Status::Ok();
  }
  const ItemKind ka = a->kind, kb = b->kind;
  const bool int_a = ka == ItemKind::kInteger || ka == ItemKind::kLong;
  const bool int_b = kb == ItemKind::kInteger || kb == ItemKind::kLong;
  if (int_a && int_b && op != "/") {
    return Integer(op, a->integer, b->integer, out);
  }
  if (IsNumber(ka) && IsNumber(kb)) {
    return DecimalOp(op, AsDecimal(*a), AsDecimal(*b), out);
  }
  if (ka == ItemKind::kString && kb == ItemKind::kString && op == "+") {
    out->push_back(Item::String(a->text + b->text));
    return Status::Ok();
  }
  const bool temporal = ka == ItemKind::kDate || ka == ItemKind::kDateTime || ka == ItemKind::kTime;
  const bool temporal_b =
      kb == ItemKind::kDate || kb == ItemKind::kDateTime || kb == ItemKind::kTime;
  if (temporal_b && ka == ItemKind::kQuantity && op == "+") {
    std::swap(a, b);
  }
  if ((temporal || temporal_b) &&
      (a->kind == ItemKind::kQuantity || b->kind == ItemKind::kQuantity) &&
      (op == "+" || op == "-")) {
    if (b->kind != ItemKind::kQuantity) {
      return EvalError("cannot subtract a date", pos);
    }
    auto d = DateArithmetic(*a, *b, op == "-");
    if (!d) {
      return EvalError("cannot add " + ToDisplayString(*b) + " to a date", pos);
    }
    out->push_back(std::move(*d));
    return Status::Ok();
  }
  const bool qa = ka == ItemKind::kQuantity || IsNumber(ka);
  const bool qb = kb == ItemKind::kQuantity || IsNumber(kb);
  if (qa && qb) {
    const Quantity x{IsNumber(ka) ? AsDecimal(*a) : a->decimal, IsNumber(ka) ? "1" : a->text};
    const Quantity y{IsNumber(kb) ? AsDecimal(*b) : b->decimal, IsNumber(kb) ? "1" : b->text};
    std::optional<Quantity> q;
    if (!IsKnownUnit(x.unit) || !IsKnownUnit(y.unit)) {
      return Status::Ok();
    }
    if (op == "+" || op == "-") {
      q = AddQuantities(x, y, op == "-");
    } else if (op == "*" || op == "/") {
      if (y.unit == "1" || x.unit == "1") {
        // Scaling keeps the unit of the quantity operand.
        const auto v = op == "*" ? Multiply(x.value, y.value) : Divide(x.value, y.value);
        if (v && !(op == "/" && x.unit == "1" && y.unit != "1")) {
          q = Quantity{*v, y.unit == "1" ? x.unit : y.unit};
        } else if (v) {
          q = MultiplyQuantities(x, y, true);
        }
      } else {
        q = MultiplyQuantities(x, y, op == "/");
      }
    }
    if (q) {
      out->push_back(Item::FromQuantity(q->value, q->unit));
    }
    return Status::Ok();
  }
  return EvalError("operator " + std::string(op) + " cannot combine these types", pos);
}

Status Comparison(std::string_view op, const Collection& l, const Collection& r, int pos,
                  Collection* out) {
  if (l.empty() || r.empty()) {
    return Status::Ok();
  }
  if (l.size() > 1 || r.size() > 1) {
    return EvalError("comparison needs single items", pos);
  }
  std::optional<int> c;
  RETURN_IF_ERROR(CompareItems(l[0], r[0], &c, pos));
  if (!c) {
    return Status::Ok();
  }
  bool v = false;
  if (op == "<") {
    v = *c < 0;
  } else if (op == ">") {
    v = *c > 0;
  } else if (op == "<=") {
    v = *c <= 0;
  } else {
    v = *c >= 0;
  }
  out->push_back(Item::Boolean(v));
  return Status::Ok();
}

Status Membership(bool in, const Collection& l, const Collection& r, int pos, Collection* out) {
  const Collection& item = in ? l : r;
  const Collection& list = in ? r : l;
  if (item.empty()) {
    return Status::Ok();
  }
  if (item.size() > 1) {
    return EvalError("membership needs a single item", pos);
  }
  out->push_back(Item::Boolean(ContainsItem(list, item[0])));
  return Status::Ok();
}

}  // namespace

void UnionInto(const Collection& add, Collection* out, size_t start) {
  for (const Item& item : add) {
    bool found = false;
    for (size_t i = start; i < out->size() && !found; ++i) {
      found = ItemsEqual((*out)[i], item).value_or(false);
    }
    if (!found) {
      out->push_back(item);
    }
  }
}

Status EvalBinary(Evaluator& ev, const Node& node, const Env& env, const Collection& input,
                  Collection* out) {
  Collection l, r;
  RETURN_IF_ERROR(ev.Eval(*node.args[0], env, input, &l));
  const std::string_view op = node.name;
  const int pos = node.position;
  if (op == "and" || op == "or" || op == "implies") {
    // Short circuit when the left operand decides (false and x, true or x, false implies x):
    // the right operand is not evaluated (the spec allows it; constraints such as
    // `hasValue() or (children().count() > id.count())` rely on it for speed).
    std::optional<bool> a;
    RETURN_IF_ERROR(SingletonBoolean(l, &a, pos));
    if (a.has_value() && *a == (op == "or")) {
      out->push_back(Item::Boolean(op != "and"));
      return Status::Ok();
    }
    if (a == false && op == "implies") {
      out->push_back(Item::Boolean(true));
      return Status::Ok();
    }
  }
  RETURN_IF_ERROR(ev.Eval(*node.args[1], env, input, &r));
  if (op == "and" || op == "or" || op == "xor" || op == "implies") {
    return Logic(op, l, r, pos, out);
  }
  if (op == "=" || op == "!=") {
    auto eq = CollectionsEqual(l, r);
    if (eq && op == "!=") {
      eq = !*eq;
    }
    PushBool(eq, out);
    return Status::Ok();
  }
  if (op == "~" || op == "!~") {
    const bool eq = CollectionsEquivalent(l, r);
    out->push_back(Item::Boolean(op == "~" ? eq : !eq));
    return Status::Ok();
  }
  if (op == "|") {
    const size_t start = out->size();
    UnionInto(l, out, start);
    UnionInto(r, out, start);
    return Status::Ok();
  }
  if (op == "in" || op == "contains") {
    return Membership(op == "in", l, r, pos, out);
  }
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    return Comparison(op, l, r, pos, out);
  }
  return Arithmetic(op, l, r, pos, out);
}

}  // namespace carechart::fhirpath
