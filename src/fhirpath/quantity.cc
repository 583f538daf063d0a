// Minimal UCUM arithmetic for FHIRPath quantities (see quantity.h).
#include "fhirpath/quantity.h"

#include <array>
#include <charconv>
#include <cstring>

namespace carechart::fhirpath {
namespace {

// Base dimensions: length, mass, time, temperature, amount, luminous intensity, current.
using Dims = std::array<int8_t, 7>;

struct Canonical {
  Decimal factor;  // multiply a value in this unit by factor to get base units
  Dims dims{};
};

struct Atom {
  const char* code;
  const char* factor;  // decimal text
  Dims dims;
  bool metric;  // accepts prefixes
};

constexpr Atom kAtoms[] = {
    {"m", "1", {1, 0, 0, 0, 0, 0, 0}, true},
    {"g", "1", {0, 1, 0, 0, 0, 0, 0}, true},
    {"s", "1", {0, 0, 1, 0, 0, 0, 0}, true},
    {"K", "1", {0, 0, 0, 1, 0, 0, 0}, true},
    {"mol", "1", {0, 0, 0, 0, 1, 0, 0}, true},
    {"cd", "1", {0, 0, 0, 0, 0, 1, 0}, true},
    {"A", "1", {0, 0, 0, 0, 0, 0, 1}, true},
    {"L", "0.001", {3, 0, 0, 0, 0, 0, 0}, true},
    {"l", "0.001", {3, 0, 0, 0, 0, 0, 0}, true},
    {"Hz", "1", {0, 0, -1, 0, 0, 0, 0}, true},
    {"N", "1000", {1, 1, -2, 0, 0, 0, 0}, true},
    {"Pa", "1000", {-1, 1, -2, 0, 0, 0, 0}, true},
    {"J", "1000", {2, 1, -2, 0, 0, 0, 0}, true},
    {"W", "1000", {2, 1, -3, 0, 0, 0, 0}, true},
    {"min", "60", {0, 0, 1, 0, 0, 0, 0}, false},
    {"h", "3600", {0, 0, 1, 0, 0, 0, 0}, false},
    {"d", "86400", {0, 0, 1, 0, 0, 0, 0}, false},
    {"wk", "604800", {0, 0, 1, 0, 0, 0, 0}, false},
    {"mo", "2629800", {0, 0, 1, 0, 0, 0, 0}, false},
    {"a", "31557600", {0, 0, 1, 0, 0, 0, 0}, false},
    {"[in_i]", "0.0254", {1, 0, 0, 0, 0, 0, 0}, false},
    {"[ft_i]", "0.3048", {1, 0, 0, 0, 0, 0, 0}, false},
    {"[mi_i]", "1609.344", {1, 0, 0, 0, 0, 0, 0}, false},
    {"[lb_av]", "453.59237", {0, 1, 0, 0, 0, 0, 0}, false},
    {"[oz_av]", "28.349523125", {0, 1, 0, 0, 0, 0, 0}, false},
    {"[degF]", "0.5555555555555556", {0, 0, 0, 1, 0, 0, 0}, false},
    {"Cel", "1", {0, 0, 0, 1, 0, 0, 0}, false},
    {"mm[Hg]", "133322.387415", {-1, 1, -2, 0, 0, 0, 0}, false},
    {"%", "0.01", {0, 0, 0, 0, 0, 0, 0}, false},
    {"[iU]", "1", {0, 0, 0, 0, 0, 0, 0}, true},
    {"U", "1", {0, 0, 0, 0, 1, 0, 0}, true},
    {"eq", "1", {0, 0, 0, 0, 1, 0, 0}, true},
};

struct Prefix {
  const char* code;
  int exponent;
};
constexpr Prefix kPrefixes[] = {{"da", 1}, {"Y", 24}, {"Z", 21}, {"E", 18},  {"P", 15}, {"T", 12},
                                {"G", 9},  {"M", 6},  {"k", 3},  {"h", 2},   {"d", -1}, {"c", -2},
                                {"m", -3}, {"u", -6}, {"n", -9}, {"p", -12}, {"f", -15}};

Decimal Pow10(int e) {
  if (e >= 0) {
    Decimal d{1, 0};
    for (int i = 0; i < e; ++i) {
      d.units *= 10;
    }
    return d;
  }
  Decimal d{1, -e};
  return d;
}

const Atom* FindAtom(std::string_view code) {
  for (const Atom& a : kAtoms) {
    if (code == a.code) {
      return &a;
    }
  }
  return nullptr;
}

bool Mul(Canonical* c, const Decimal& f) {
  auto r = Multiply(c->factor, f);
  if (!r) {
    return false;
  }
  c->factor = *r;
  return true;
}

// One component such as "cm2", "[lb_av]", "10", "s-1" (annotations "{x}" count as 1).
bool ParseComponent(std::string_view text, Canonical* c) {
  if (text.empty()) {
    return false;
  }
  if (text.front() == '{' && text.back() == '}') {
    return true;
  }
  if (const auto n = Decimal::Parse(text); n && text.find('.') == std::string_view::npos) {
    return Mul(c, *n);
  }
  // Trailing exponent.
  size_t end = text.size();
  while (end > 0 && text[end - 1] >= '0' && text[end - 1] <= '9') {
    --end;
  }
  if (end > 0 && end < text.size() && (text[end - 1] == '-' || text[end - 1] == '+')) {
    --end;
  }
  int exponent = 1;
  std::string_view body = text;
  if (end > 0 && end < text.size() && text.back() != ']') {
    // Bounded: the exponent is applied by repeated multiplication, and real UCUM units stay far
    // below 16 ("m3", "s-2"); a longer or larger one is not a unit we know (found by fuzzing).
    std::string_view digits = text.substr(end);
    if (digits.front() == '+') {
      digits.remove_prefix(1);
    }
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), exponent);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || std::abs(exponent) > 16) {
      return false;
    }
    body = text.substr(0, end);
  }
  Canonical one;
  const Atom* atom = FindAtom(body);
  if (atom != nullptr) {
    one.factor = *Decimal::Parse(atom->factor);
  } else {
    for (const Prefix& p : kPrefixes) {
      const size_t n = std::strlen(p.code);
      if (body.size() > n && body.substr(0, n) == p.code) {
        atom = FindAtom(body.substr(n));
        if (atom != nullptr && atom->metric) {
          one.factor = *Multiply(Pow10(p.exponent), *Decimal::Parse(atom->factor));
          break;
        }
        atom = nullptr;
      }
    }
  }
  if (atom == nullptr) {
    return false;
  }
  one.dims = atom->dims;
  for (int i = 0; i < std::abs(exponent); ++i) {
    for (size_t k = 0; k < c->dims.size(); ++k) {
      c->dims[k] = static_cast<int8_t>(c->dims[k] + (exponent > 0 ? one.dims[k] : -one.dims[k]));
    }
    if (exponent > 0) {
      if (!Mul(c, one.factor)) {
        return false;
      }
    } else {
      auto r = Divide(c->factor, one.factor);
      if (!r) {
        return false;
      }
      c->factor = *r;
    }
  }
  return true;
}

std::optional<Canonical> ParseUnit(std::string_view unit) {
  if (const auto cal = CalendarKeyword(unit)) {
    static constexpr std::pair<std::string_view, std::string_view> kUcum[] = {
        {"year", "a"}, {"month", "mo"},   {"week", "wk"},  {"day", "d"},
        {"hour", "h"}, {"minute", "min"}, {"second", "s"}, {"millisecond", "ms"}};
    for (const auto& [word, code] : kUcum) {
      if (word == *cal) {
        return ParseUnit(code);
      }
    }
  }
  Canonical c{Decimal{1, 0}, {}};
  if (unit.empty() || unit == "1") {
    return c;
  }
  size_t start = 0;
  bool divide = false;
  if (unit[0] == '/') {
    divide = true;
    start = 1;
  }
  while (start <= unit.size()) {
    size_t i = start;
    int depth = 0;
    while (i < unit.size() && (depth > 0 || (unit[i] != '.' && unit[i] != '/'))) {
      if (unit[i] == '[' || unit[i] == '{') {
        ++depth;
      }
      if (unit[i] == ']' || unit[i] == '}') {
        --depth;
      }
      ++i;
    }
    Canonical part{Decimal{1, 0}, {}};
    if (!ParseComponent(unit.substr(start, i - start), &part)) {
      return std::nullopt;
    }
    if (divide) {
      auto r = Divide(c.factor, part.factor);
      if (!r) {
        return std::nullopt;
      }
      c.factor = *r;
    } else if (!Mul(&c, part.factor)) {
      return std::nullopt;
    }
    for (size_t k = 0; k < c.dims.size(); ++k) {
      c.dims[k] = static_cast<int8_t>(c.dims[k] + (divide ? -part.dims[k] : part.dims[k]));
    }
    if (i >= unit.size()) {
      break;
    }
    divide = unit[i] == '/';
    start = i + 1;
  }
  return c;
}

// Calendar year/month relate only to each other (in months).
std::optional<int> MonthsPer(std::string_view unit) {
  if (unit == "year") {
    return 12;
  }
  if (unit == "month") {
    return 1;
  }
  return std::nullopt;
}

// Both values in a common unit; false when not comparable.
bool CommonValues(const Quantity& a, const Quantity& b, Decimal* x, Decimal* y) {
  if (a.unit == b.unit) {
    *x = a.value;
    *y = b.value;
    return true;
  }
  const auto ma = MonthsPer(a.unit), mb = MonthsPer(b.unit);
  if (ma || mb) {
    if (!ma || !mb) {
      return false;
    }
    *x = *Multiply(a.value, Decimal::FromInt(*ma));
    *y = *Multiply(b.value, Decimal::FromInt(*mb));
    return true;
  }
  const auto ca = ParseUnit(a.unit), cb = ParseUnit(b.unit);
  if (!ca || !cb || ca->dims != cb->dims) {
    return false;
  }
  const auto xa = Multiply(a.value, ca->factor), yb = Multiply(b.value, cb->factor);
  if (!xa || !yb) {
    return false;
  }
  *x = *xa;
  *y = *yb;
  return true;
}

// Year and month in either form: their length is not definite, so FHIRPath never mixes the
// calendar keyword with the UCUM unit in arithmetic or equality.
bool IsYearOrMonth(std::string_view unit) {
  return unit == "year" || unit == "month" || unit == "a" || unit == "mo";
}

// A calendar keyword mixed with a UCUM unit where either is a year or a month.
bool MixesIndefinite(const Quantity& a, const Quantity& b) {
  const bool ca = IsCalendarUnit(a.unit), cb = IsCalendarUnit(b.unit);
  return ca != cb && (IsYearOrMonth(a.unit) || IsYearOrMonth(b.unit));
}

}  // namespace

std::optional<std::string_view> CalendarKeyword(std::string_view w) {
  static constexpr std::string_view kWords[] = {"year", "month",  "week",   "day",
                                                "hour", "minute", "second", "millisecond"};
  for (std::string_view k : kWords) {
    if (w == k || (w.size() == k.size() + 1 && w.back() == 's' && w.substr(0, k.size()) == k)) {
      return k;
    }
  }
  return std::nullopt;
}

bool IsCalendarUnit(std::string_view unit) { return CalendarKeyword(unit).has_value(); }

std::optional<DatePrecision> DateArithmeticUnit(std::string_view unit, int* days_multiplier) {
  *days_multiplier = 1;
  const std::string_view u = CalendarKeyword(unit).value_or(unit);
  if (u == "year") {
    return DatePrecision::kYear;
  }
  if (u == "month") {
    return DatePrecision::kMonth;
  }
  if (u == "week" || u == "wk") {
    *days_multiplier = 7;
    return DatePrecision::kDay;
  }
  if (u == "day" || u == "d") {
    return DatePrecision::kDay;
  }
  if (u == "hour" || u == "h") {
    return DatePrecision::kHour;
  }
  if (u == "minute" || u == "min") {
    return DatePrecision::kMinute;
  }
  if (u == "second" || u == "s") {
    return DatePrecision::kSecond;
  }
  if (u == "millisecond" || u == "ms") {
    return DatePrecision::kMillisecond;
  }
  return std::nullopt;
}

bool IsKnownUnit(std::string_view unit) { return ParseUnit(unit).has_value(); }

std::optional<int> CompareQuantities(const Quantity& a, const Quantity& b) {
  Decimal x, y;
  if (!CommonValues(a, b, &x, &y)) {
    return std::nullopt;
  }
  return Compare(x, y);
}

bool QuantitiesEquivalent(const Quantity& a, const Quantity& b) {
  // For ~, 1 year ~ 1 'a' and 1 month ~ 1 'mo' (spec 6.1.2 on calendar durations).
  const auto as_calendar = [](const Quantity& q) {
    return Quantity{q.value, q.unit == "a" ? "year" : q.unit == "mo" ? "month" : q.unit};
  };
  Decimal x, y;
  if (!CommonValues(as_calendar(a), as_calendar(b), &x, &y)) {
    return false;
  }
  const int digits = std::min(x.scale, y.scale);
  return Compare(Round(x, digits), Round(y, digits)) == 0;
}

std::optional<Quantity> ConvertQuantity(const Quantity& q, std::string_view unit) {
  const std::string target(CalendarKeyword(unit).value_or(unit));
  if (q.unit == target) {
    return q;
  }
  const auto mq = MonthsPer(q.unit), mt = MonthsPer(target);
  if (mq && mt) {
    auto v = Divide(*Multiply(q.value, Decimal::FromInt(*mq)), Decimal::FromInt(*mt));
    if (!v) {
      return std::nullopt;
    }
    return Quantity{*v, target};
  }
  const bool cal_q = IsCalendarUnit(q.unit), cal_t = IsCalendarUnit(target);
  if (mt || (cal_t && IsYearOrMonth(q.unit)) || (cal_q && q.unit == "month")) {
    return std::nullopt;  // no definite length to convert through
  }
  if (q.unit == "year" && cal_t) {
    // A calendar year converts to definite calendar units as 365 days.
    const auto days = Multiply(q.value, Decimal::FromInt(365));
    return days ? ConvertQuantity(Quantity{*days, "day"}, target) : std::nullopt;
  }
  const auto cq = ParseUnit(q.unit), ct = ParseUnit(target);
  if (!cq || !ct || cq->dims != ct->dims) {
    return std::nullopt;
  }
  const auto base = Multiply(q.value, cq->factor);
  if (!base) {
    return std::nullopt;
  }
  auto v = Divide(*base, ct->factor);
  if (!v) {
    return std::nullopt;
  }
  return Quantity{*v, target};
}

std::optional<Quantity> AddQuantities(const Quantity& a, const Quantity& b, bool subtract) {
  if (MixesIndefinite(a, b)) {
    return std::nullopt;
  }
  // The sum is expressed in the smaller of the two units (7 days + 12 hours = 180 hours).
  std::string unit = a.unit;
  if (a.unit != b.unit) {
    const auto ca = ParseUnit(a.unit), cb = ParseUnit(b.unit);
    if (!ca || !cb) {
      return std::nullopt;
    }
    if (Compare(cb->factor, ca->factor) < 0) {
      unit = b.unit;
    }
  }
  const auto ra = ConvertQuantity(a, unit), rb = ConvertQuantity(b, unit);
  if (!ra || !rb) {
    return std::nullopt;
  }
  auto v = subtract ? Subtract(ra->value, rb->value) : Add(ra->value, rb->value);
  if (!v) {
    return std::nullopt;
  }
  return Quantity{*v, unit};
}

std::optional<Quantity> MultiplyQuantities(const Quantity& a, const Quantity& b, bool divide) {
  if (IsCalendarUnit(a.unit) || IsCalendarUnit(b.unit)) {
    return std::nullopt;
  }
  const auto ca = ParseUnit(a.unit), cb = ParseUnit(b.unit);
  if (!ca || !cb) {
    return std::nullopt;
  }
  const auto x = Multiply(a.value, ca->factor), y = Multiply(b.value, cb->factor);
  if (!x || !y) {
    return std::nullopt;
  }
  const auto v = divide ? Divide(*x, *y) : Multiply(*x, *y);
  if (!v) {
    return std::nullopt;
  }
  // The result is expressed in base units; build its UCUM text from the dimensions.
  static constexpr const char* kBase[] = {"m", "g", "s", "K", "mol", "cd", "A"};
  std::string unit;
  for (size_t k = 0; k < 7; ++k) {
    const int e = divide ? ca->dims[k] - cb->dims[k] : ca->dims[k] + cb->dims[k];
    if (e == 0) {
      continue;
    }
    if (!unit.empty()) {
      unit += '.';
    }
    unit += kBase[k];
    if (e != 1) {
      unit += std::to_string(e);
    }
  }
  return Quantity{*v, unit.empty() ? "1" : unit};
}

std::string FormatQuantity(const Quantity& q) {
  std::string out = q.value.ToString();
  if (IsCalendarUnit(q.unit)) {
    out += ' ';
    out += q.unit;
    if (Compare(q.value, Decimal{1, 0}) != 0) {
      out += 's';
    }
    return out;
  }
  out += " '";
  out += q.unit;
  out += '\'';
  return out;
}

}  // namespace carechart::fhirpath
