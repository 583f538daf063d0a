// lowBoundary/highBoundary/precision (decimals, quantities, dates), comparable, and the date
// component functions yearOf ... timezoneOffsetOf, dateOf, timeOf.
#include "fhirpath/functions.h"
#include "fhirpath/quantity.h"

namespace carechart::fhirpath {
namespace {

std::optional<Decimal> DecimalBoundary(const Decimal& d, int digits, bool high) {
  const Decimal half{5, d.scale + 1};  // half a unit of the last written digit
  const auto edge = high ? Add(d, half) : Subtract(d, half);
  if (!edge) {
    return std::nullopt;
  }
  if (digits > edge->scale) {
    return Rescale(*edge, digits);
  }
  return high ? Ceiling(*edge, digits) : Floor(*edge, digits);
}

Status Boundary(Evaluator& ev, const Env& env, const Node& call, const Collection& input, bool high,
                Collection* out) {
  Item scratch;
  const Item* v;
  RETURN_IF_ERROR(InputSingleton(call, input, &scratch, &v));
  int64_t digits = 0;
  bool has_digits = false;
  if (!call.args.empty()) {
    RETURN_IF_ERROR(ArgInteger(ev, env, call, 0, &digits, &has_digits));
  }
  if (v == nullptr) {
    return Status::Ok();
  }
  switch (v->kind) {
    case ItemKind::kInteger:
    case ItemKind::kLong:
    case ItemKind::kDecimal:
    case ItemKind::kQuantity: {
      const int p = has_digits ? static_cast<int>(digits) : 8;
      if (p < 0 || p > 28) {
        return Status::Ok();
      }
      const Decimal d = v->kind == ItemKind::kInteger || v->kind == ItemKind::kLong
                            ? Decimal::FromInt(v->integer)
                            : v->decimal;
      const auto r = DecimalBoundary(d, p, high);
      if (!r) {
        return Status::Ok();
      }
      out->push_back(v->kind == ItemKind::kQuantity ? Item::FromQuantity(*r, v->text)
                                                    : Item::FromDecimal(*r));
      return Status::Ok();
    }
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime: {
      const auto r = DateBoundary(
          v->date, has_digits ? std::optional<int>(static_cast<int>(digits)) : std::nullopt, high);
      if (r) {
        out->push_back(Item::FromDate(*r));
      }
      return Status::Ok();
    }
    default:
      return EvalError(call.name + "() expects a number, quantity or date", call.position);
  }
}

FHIRPATH_FUNCTION(LowBoundary) { return Boundary(ev, env, call, input, false, out); }
FHIRPATH_FUNCTION(HighBoundary) { return Boundary(ev, env, call, input, true, out); }

FHIRPATH_FUNCTION(Precision) {
  Item scratch;
  const Item* v;
  RETURN_IF_ERROR(InputSingleton(call, input, &scratch, &v));
  if (v == nullptr) {
    return Status::Ok();
  }
  if (v->kind == ItemKind::kDecimal || v->kind == ItemKind::kQuantity) {
    out->push_back(Item::Integer(v->decimal.scale));
  } else if (v->kind == ItemKind::kInteger || v->kind == ItemKind::kLong) {
    out->push_back(Item::Integer(0));
  } else if (v->kind == ItemKind::kDate || v->kind == ItemKind::kDateTime ||
             v->kind == ItemKind::kTime) {
    out->push_back(Item::Integer(PrecisionDigits(v->date)));
  }
  return Status::Ok();
}

FHIRPATH_FUNCTION(Comparable) {
  Item scratch, arg_scratch;
  const Item *v, *arg;
  RETURN_IF_ERROR(InputSingleton(call, input, &scratch, &v));
  RETURN_IF_ERROR(ArgSingleton(ev, env, call, 0, &arg_scratch, &arg));
  if (v == nullptr || arg == nullptr) {
    return Status::Ok();
  }
  const auto as_quantity = [](const Item& i) -> std::optional<Quantity> {
    if (i.kind == ItemKind::kQuantity) {
      return Quantity{i.decimal, i.text};
    }
    if (i.kind == ItemKind::kInteger || i.kind == ItemKind::kLong) {
      return Quantity{Decimal::FromInt(i.integer), "1"};
    }
    if (i.kind == ItemKind::kDecimal) {
      return Quantity{i.decimal, "1"};
    }
    return std::nullopt;
  };
  const auto a = as_quantity(*v), b = as_quantity(*arg);
  if (!a || !b) {
    return EvalError("comparable() expects quantities", call.position);
  }
  const bool ok = CompareQuantities(*a, *b).has_value();
  out->push_back(Item::Boolean(ok));
  return Status::Ok();
}

// yearOf() ... millisecondOf(), timezoneOffsetOf(), dateOf(), timeOf().
FHIRPATH_FUNCTION(Component) {
  Item scratch;
  const Item* v;
  RETURN_IF_ERROR(InputSingleton(call, input, &scratch, &v));
  if (v == nullptr) {
    return Status::Ok();
  }
  DateTimeValue d;
  if (v->kind == ItemKind::kString) {
    const bool has_t = v->text.find('T') != std::string::npos;
    const auto parsed =
        DateTimeValue::ParseString(v->text, has_t ? DateKind::kDateTime : DateKind::kDate);
    if (!parsed) {
      return Status::Ok();
    }
    d = *parsed;
  } else if (v->kind == ItemKind::kDate || v->kind == ItemKind::kDateTime ||
             v->kind == ItemKind::kTime) {
    d = v->date;
  } else {
    return Status::Ok();
  }
  const std::string_view fn = call.name;
  const bool time = d.kind == DateKind::kTime;
  const auto field = [&](DatePrecision need, int value) {
    if (d.precision >= need) {
      out->push_back(Item::Integer(value));
    }
  };
  if (fn == "yearOf" && !time) {
    field(DatePrecision::kYear, d.year);
  } else if (fn == "monthOf" && !time) {
    field(DatePrecision::kMonth, d.month);
  } else if (fn == "dayOf" && !time) {
    field(DatePrecision::kDay, d.day);
  } else if (fn == "hourOf") {
    field(DatePrecision::kHour, d.hour);
  } else if (fn == "minuteOf") {
    field(DatePrecision::kMinute, d.minute);
  } else if (fn == "secondOf") {
    field(DatePrecision::kSecond, d.second);
  } else if (fn == "millisecondOf") {
    field(DatePrecision::kMillisecond, d.millis);
  } else if (fn == "timezoneOffsetOf" && d.has_tz) {
    out->push_back(
        Item::FromDecimal(*Divide(Decimal::FromInt(d.tz_minutes), Decimal::FromInt(60))));
  } else if (fn == "dateOf" && !time) {
    DateTimeValue r = d;
    r.kind = DateKind::kDate;
    r.precision = std::min(r.precision, DatePrecision::kDay);
    r.has_tz = false;
    out->push_back(Item::FromDate(r));
  } else if (fn == "timeOf" && d.kind == DateKind::kDateTime &&
             d.precision >= DatePrecision::kHour) {
    DateTimeValue r = d;
    r.kind = DateKind::kTime;
    r.has_tz = false;
    out->push_back(Item::FromDate(r));
  }
  return Status::Ok();
}

constexpr FunctionDef kFunctions[] = {
    {"lowBoundary", 0, 1, LowBoundary}, {"highBoundary", 0, 1, HighBoundary},
    {"precision", 0, 0, Precision},     {"comparable", 1, 1, Comparable},
    {"yearOf", 0, 0, Component},        {"monthOf", 0, 0, Component},
    {"dayOf", 0, 0, Component},         {"hourOf", 0, 0, Component},
    {"minuteOf", 0, 0, Component},      {"secondOf", 0, 0, Component},
    {"millisecondOf", 0, 0, Component}, {"timezoneOffsetOf", 0, 0, Component},
    {"dateOf", 0, 0, Component},        {"timeOf", 0, 0, Component},
};

}  // namespace

std::span<const FunctionDef> BoundaryFunctions() { return kFunctions; }

}  // namespace carechart::fhirpath
