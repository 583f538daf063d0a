// Conversion functions toX()/convertsToX() (spec 5.5) and the string → value parsers they use.
#include <cctype>

#include "fhirpath/functions.h"
#include "fhirpath/model.h"
#include "fhirpath/quantity.h"

namespace carechart::fhirpath {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool IsIntegerText(std::string_view s) {
  size_t i = !s.empty() && (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (i >= s.size()) {
    return false;
  }
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
  }
  return true;
}

std::optional<Item> ToBoolean(const Item& v) {
  switch (v.kind) {
    case ItemKind::kBoolean:
      return v;
    case ItemKind::kInteger:
    case ItemKind::kLong:
      if (v.integer == 0 || v.integer == 1) {
        return Item::Boolean(v.integer == 1);
      }
      return std::nullopt;
    case ItemKind::kDecimal:
      if (Compare(v.decimal, Decimal{0, 0}) == 0) {
        return Item::Boolean(false);
      }
      if (Compare(v.decimal, Decimal{1, 0}) == 0) {
        return Item::Boolean(true);
      }
      return std::nullopt;
    case ItemKind::kString: {
      const std::string s = Lower(v.text);
      if (s == "true" || s == "t" || s == "yes" || s == "y" || s == "1" || s == "1.0") {
        return Item::Boolean(true);
      }
      if (s == "false" || s == "f" || s == "no" || s == "n" || s == "0" || s == "0.0") {
        return Item::Boolean(false);
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<Item> ToInteger(const Item& v, ItemKind kind) {
  Item r;
  switch (v.kind) {
    case ItemKind::kInteger:
    case ItemKind::kLong:
      r = Item::Integer(v.integer);
      break;
    case ItemKind::kBoolean:
      r = Item::Integer(v.boolean ? 1 : 0);
      break;
    case ItemKind::kString: {
      if (!IsIntegerText(v.text)) {
        return std::nullopt;
      }
      const auto d = Decimal::Parse(v.text);
      const auto i = d ? d->ToInt64() : std::nullopt;
      if (!i) {
        return std::nullopt;
      }
      r = Item::Integer(*i);
      break;
    }
    default:
      return std::nullopt;
  }
  r.kind = kind;
  return r;
}

std::optional<Item> ToDecimal(const Item& v) {
  switch (v.kind) {
    case ItemKind::kDecimal:
      return v;
    case ItemKind::kInteger:
    case ItemKind::kLong:
      return Item::FromDecimal(Decimal::FromInt(v.integer));
    case ItemKind::kBoolean:
      return Item::FromDecimal(Decimal{v.boolean ? 10 : 0, 1});
    case ItemKind::kString: {
      const auto d = Decimal::Parse(v.text);
      if (!d || v.text.back() == '.' || v.text.front() == '.') {
        return std::nullopt;
      }
      return Item::FromDecimal(*d);
    }
    default:
      return std::nullopt;
  }
}

std::optional<Item> ToTemporal(const Item& v, DateKind kind) {
  if (v.kind == ItemKind::kString) {
    const auto d = DateTimeValue::ParseString(v.text, kind);
    if (!d) {
      return std::nullopt;
    }
    return Item::FromDate(*d);
  }
  if (v.kind == ItemKind::kTime) {
    if (kind == DateKind::kTime) {
      return v;
    }
    return std::nullopt;
  }
  if (v.kind != ItemKind::kDate && v.kind != ItemKind::kDateTime) {
    return std::nullopt;
  }
  if (kind == DateKind::kTime) {
    return std::nullopt;
  }
  DateTimeValue d = v.date;
  d.kind = kind;
  if (kind == DateKind::kDate) {
    d.precision = std::min(d.precision, DatePrecision::kDay);
    d.has_tz = false;
  }
  return Item::FromDate(d);
}

// "4 'mg'", "1 day", "1.5"; a unit that is neither quoted UCUM nor a calendar word fails.
std::optional<Quantity> ParseQuantityText(std::string_view s) {
  const size_t space = s.find(' ');
  const std::string_view number = s.substr(0, space);
  const auto d = Decimal::Parse(number);
  if (!d || number.back() == '.') {
    return std::nullopt;
  }
  if (space == std::string_view::npos) {
    return Quantity{*d, "1"};
  }
  std::string_view unit = s.substr(space + 1);
  while (!unit.empty() && unit.front() == ' ') {
    unit.remove_prefix(1);
  }
  if (unit.size() >= 2 && unit.front() == '\'' && unit.back() == '\'') {
    return Quantity{*d, std::string(unit.substr(1, unit.size() - 2))};
  }
  if (const auto cal = CalendarKeyword(unit)) {
    return Quantity{*d, std::string(*cal)};
  }
  return std::nullopt;
}

std::optional<Item> ToQuantity(const Item& v, const std::string* unit) {
  std::optional<Quantity> q;
  switch (v.kind) {
    case ItemKind::kQuantity:
      q = Quantity{v.decimal, v.text};
      break;
    case ItemKind::kInteger:
    case ItemKind::kLong:
      q = Quantity{Decimal::FromInt(v.integer), "1"};
      break;
    case ItemKind::kDecimal:
      q = Quantity{v.decimal, "1"};
      break;
    case ItemKind::kBoolean:
      q = Quantity{Decimal{v.boolean ? 10 : 0, 1}, "1"};
      break;
    case ItemKind::kString:
      q = ParseQuantityText(v.text);
      break;
    default:
      break;
  }
  if (q && unit != nullptr) {
    q = ConvertQuantity(*q, *unit);
  }
  if (!q) {
    return std::nullopt;
  }
  return Item::FromQuantity(q->value, q->unit);
}

enum class Target {
  kBoolean,
  kInteger,
  kLong,
  kDecimal,
  kString,
  kDate,
  kDateTime,
  kTime,
  kQuantity
};

Status Convert(Evaluator& ev, const Env& env, const Node& call, const Collection& input,
               Target target, bool test_only, Collection* out) {
  Item scratch;
  const Item* v = nullptr;
  RETURN_IF_ERROR(InputSingleton(call, input, &scratch, &v));
  if (v == nullptr || v->kind == ItemKind::kNode) {
    return Status::Ok();
  }
  std::optional<Item> r;
  switch (target) {
    case Target::kBoolean:
      r = ToBoolean(*v);
      break;
    case Target::kInteger:
      r = ToInteger(*v, ItemKind::kInteger);
      break;
    case Target::kLong:
      r = ToInteger(*v, ItemKind::kLong);
      break;
    case Target::kDecimal:
      r = ToDecimal(*v);
      break;
    case Target::kString:
      r = Item::String(ToDisplayString(*v));
      break;
    case Target::kDate:
      r = ToTemporal(*v, DateKind::kDate);
      break;
    case Target::kDateTime:
      r = ToTemporal(*v, DateKind::kDateTime);
      break;
    case Target::kTime:
      r = ToTemporal(*v, DateKind::kTime);
      break;
    case Target::kQuantity: {
      std::string unit;
      bool has_unit = false;
      if (!call.args.empty()) {
        RETURN_IF_ERROR(ArgString(ev, env, call, 0, &unit, &has_unit));
      }
      r = ToQuantity(*v, has_unit ? &unit : nullptr);
      break;
    }
  }
  if (test_only) {
    out->push_back(Item::Boolean(r.has_value()));
  } else if (r) {
    out->push_back(std::move(*r));
  }
  return Status::Ok();
}

#define CONVERSION(Name, target)                                      \
  FHIRPATH_FUNCTION(To##Name) {                                       \
    return Convert(ev, env, call, input, Target::target, false, out); \
  }                                                                   \
  FHIRPATH_FUNCTION(ConvertsTo##Name) {                               \
    return Convert(ev, env, call, input, Target::target, true, out);  \
  }
CONVERSION(Boolean, kBoolean)
CONVERSION(Integer, kInteger)
CONVERSION(Long, kLong)
CONVERSION(Decimal, kDecimal)
CONVERSION(String, kString)
CONVERSION(Date, kDate)
CONVERSION(DateTime, kDateTime)
CONVERSION(Time, kTime)
CONVERSION(Quantity, kQuantity)
#undef CONVERSION

constexpr FunctionDef kFunctions[] = {
    {"toBoolean", 0, 0, ToBoolean},   {"convertsToBoolean", 0, 0, ConvertsToBoolean},
    {"toInteger", 0, 0, ToInteger},   {"convertsToInteger", 0, 0, ConvertsToInteger},
    {"toLong", 0, 0, ToLong},         {"convertsToLong", 0, 0, ConvertsToLong},
    {"toDecimal", 0, 0, ToDecimal},   {"convertsToDecimal", 0, 0, ConvertsToDecimal},
    {"toString", 0, 0, ToString},     {"convertsToString", 0, 0, ConvertsToString},
    {"toDate", 0, 0, ToDate},         {"convertsToDate", 0, 0, ConvertsToDate},
    {"toDateTime", 0, 0, ToDateTime}, {"convertsToDateTime", 0, 0, ConvertsToDateTime},
    {"toTime", 0, 0, ToTime},         {"convertsToTime", 0, 0, ConvertsToTime},
    {"toQuantity", 0, 1, ToQuantity}, {"convertsToQuantity", 0, 1, ConvertsToQuantity},
};

}  // namespace

std::span<const FunctionDef> ConversionFunctions() { return kFunctions; }

}  // namespace carechart::fhirpath
