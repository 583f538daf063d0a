// Math functions (spec 5.7) and the aggregates sum/min/max/avg.
#include <cmath>

#include "fhirpath/functions.h"
#include "fhirpath/model.h"
#include "fhirpath/quantity.h"

namespace carechart::fhirpath {
namespace {

bool IsInt(const Item& v) { return v.kind == ItemKind::kInteger || v.kind == ItemKind::kLong; }
Decimal AsDecimal(const Item& v) {
  return IsInt(v) ? Decimal::FromInt(v.integer) : v.decimal;  // decimals and quantities
}

// The numeric input (Integer, Decimal or, where allowed, Quantity); nullptr when empty.
Status NumberInput(const Node& call, const Collection& input, Item* scratch, const Item** v,
                   bool allow_quantity = false) {
  RETURN_IF_ERROR(InputSingleton(call, input, scratch, v));
  if (*v == nullptr) {
    return Status::Ok();
  }
  const ItemKind k = (*v)->kind;
  if (IsInt(**v) || k == ItemKind::kDecimal || (allow_quantity && k == ItemKind::kQuantity)) {
    return Status::Ok();
  }
  return EvalError(call.name + "() expects a number", call.position);
}

void PushDouble(double d, Collection* out) {
  if (auto dec = Decimal::FromDouble(d)) {
    out->push_back(Item::FromDecimal(*dec));
  }
}

FHIRPATH_FUNCTION(Abs) {
  Item scratch;
  const Item* v;
  RETURN_IF_ERROR(NumberInput(call, input, &scratch, &v, true));
  if (v == nullptr) {
    return Status::Ok();
  }
  Item r = *v;
  if (IsInt(r)) {
    r.integer = std::llabs(r.integer);
  } else if (r.decimal.units < 0) {
    r.decimal.units = -r.decimal.units;
  }
  out->push_back(std::move(r));
  return Status::Ok();
}

// ceiling, floor, truncate: Integer results (quantities keep their unit).
FHIRPATH_FUNCTION(Rounding) {
  Item scratch;
  const Item* v;
  RETURN_IF_ERROR(NumberInput(call, input, &scratch, &v, true));
  if (v == nullptr) {
    return Status::Ok();
  }
  if (IsInt(*v)) {
    out->push_back(Item::Integer(v->integer));
    return Status::Ok();
  }
  Decimal r = call.name == "ceiling" ? Ceiling(v->decimal)
              : call.name == "floor" ? Floor(v->decimal)
                                     : Truncate(v->decimal);
  if (v->kind == ItemKind::kQuantity) {
    out->push_back(Item::FromQuantity(r, v->text));
  } else if (auto i = r.ToInt64()) {
    out->push_back(Item::Integer(*i));
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(RoundFn) {
  Item scratch;
  const Item* v;
  RETURN_IF_ERROR(NumberInput(call, input, &scratch, &v, true));
  int64_t digits = 0;
  bool present = false;
  if (!call.args.empty()) {
    RETURN_IF_ERROR(ArgInteger(ev, env, call, 0, &digits, &present));
  }
  if (v == nullptr) {
    return Status::Ok();
  }
  if (digits < 0) {
    return EvalError("round() precision must be >= 0", call.position);
  }
  const Decimal r = Round(AsDecimal(*v), static_cast<int>(digits));
  out->push_back(v->kind == ItemKind::kQuantity ? Item::FromQuantity(r, v->text)
                                                : Item::FromDecimal(r));
  return Status::Ok();
}

// exp, ln, sqrt, log(base), power(exponent): computed in double precision.
FHIRPATH_FUNCTION(Transcendental) {
  Item scratch;
  const Item* v;
  RETURN_IF_ERROR(NumberInput(call, input, &scratch, &v));
  Item arg_scratch;
  const Item* arg = nullptr;
  if (!call.args.empty()) {
    RETURN_IF_ERROR(ArgSingleton(ev, env, call, 0, &arg_scratch, &arg));
    if (arg == nullptr) {
      return Status::Ok();
    }
    if (!IsInt(*arg) && arg->kind != ItemKind::kDecimal) {
      return EvalError(call.name + "() expects a number argument", call.position);
    }
  }
  if (v == nullptr) {
    return Status::Ok();
  }
  const double x = AsDecimal(*v).ToDouble();
  const std::string_view fn = call.name;
  if (fn == "power" && IsInt(*v) && IsInt(*arg) && arg->integer >= 0) {
    int64_t r = 1;
    for (int64_t i = 0; i < arg->integer; ++i) {
      if (__builtin_mul_overflow(r, v->integer, &r)) {
        return Status::Ok();
      }
    }
    out->push_back(Item::Integer(r));
    return Status::Ok();
  }
  double r;
  if (fn == "exp") {
    r = std::exp(x);
  } else if (fn == "ln") {
    r = std::log(x);
  } else if (fn == "sqrt") {
    r = std::sqrt(x);
  } else if (fn == "log") {
    r = std::log(x) / std::log(AsDecimal(*arg).ToDouble());
  } else {
    r = std::pow(x, AsDecimal(*arg).ToDouble());
  }
  if (std::isfinite(r)) {
    PushDouble(r, out);
  }
  return Status::Ok();
}

// sum / min / max / avg over numbers (or comparable values for min/max).
FHIRPATH_FUNCTION(AggregateNumbers) {
  if (input.empty()) {
    return Status::Ok();
  }
  const std::string_view fn = call.name;
  Item best;
  Decimal total{0, 0};
  bool all_int = true;
  std::optional<Quantity> quantity;
  for (size_t i = 0; i < input.size(); ++i) {
    Item scratch;
    const Item* v = SystemView(input[i], &scratch);
    if (v == nullptr) {
      return Status::Ok();  // a null element: no answer
    }
    if (fn == "min" || fn == "max") {
      if (i == 0) {
        best = *v;
        continue;
      }
      std::optional<int> c;
      RETURN_IF_ERROR(CompareItems(*v, best, &c, call.position));
      if (c && ((fn == "min" && *c < 0) || (fn == "max" && *c > 0))) {
        best = *v;
      }
      continue;
    }
    if (v->kind == ItemKind::kQuantity) {
      const Quantity q{v->decimal, v->text};
      if (i == 0) {
        quantity = q;
      } else if (!quantity || !(quantity = AddQuantities(*quantity, q, false))) {
        return Status::Ok();
      }
      continue;
    }
    if (!IsInt(*v) && v->kind != ItemKind::kDecimal) {
      return EvalError(call.name + "() expects numbers", call.position);
    }
    all_int = all_int && IsInt(*v);
    const auto s = Add(total, AsDecimal(*v));
    if (!s) {
      return Status::Ok();
    }
    total = *s;
  }
  if (quantity) {
    if (fn == "avg") {
      const auto a = Divide(quantity->value, Decimal::FromInt(static_cast<int64_t>(input.size())));
      if (!a) {
        return Status::Ok();
      }
      quantity->value = *a;
    }
    out->push_back(Item::FromQuantity(quantity->value, quantity->unit));
    return Status::Ok();
  }
  if (fn == "min" || fn == "max") {
    out->push_back(std::move(best));
  } else if (fn == "sum") {
    out->push_back(all_int ? Item::Integer(*total.ToInt64()) : Item::FromDecimal(total));
  } else if (auto avg = Divide(total, Decimal::FromInt(static_cast<int64_t>(input.size())))) {
    out->push_back(Item::FromDecimal(*avg));
  }
  return Status::Ok();
}

constexpr FunctionDef kFunctions[] = {
    {"abs", 0, 0, Abs},
    {"ceiling", 0, 0, Rounding},
    {"floor", 0, 0, Rounding},
    {"truncate", 0, 0, Rounding},
    {"round", 0, 1, RoundFn},
    {"exp", 0, 0, Transcendental},
    {"ln", 0, 0, Transcendental},
    {"sqrt", 0, 0, Transcendental},
    {"log", 1, 1, Transcendental},
    {"power", 1, 1, Transcendental},
    {"sum", 0, 0, AggregateNumbers},
    {"min", 0, 0, AggregateNumbers},
    {"max", 0, 0, AggregateNumbers},
    {"avg", 0, 0, AggregateNumbers},
};

}  // namespace

std::span<const FunctionDef> MathFunctions() { return kFunctions; }

}  // namespace carechart::fhirpath
