// Exact decimal arithmetic on a scaled 128-bit integer (see values.h).
#include <charconv>
#include <cmath>
#include <cstdio>

#include "fhirpath/values.h"

namespace carechart::fhirpath {
namespace {

using i128 = __int128;

constexpr i128 Pow10(int n) {
  i128 r = 1;
  for (int i = 0; i < n; ++i) {
    r *= 10;
  }
  return r;
}

// Scales `units` up by 10^n; false on overflow.
bool ScaleUp(i128 units, int n, i128* out) {
  i128 r = units;
  for (int i = 0; i < n; ++i) {
    if (__builtin_mul_overflow(r, static_cast<i128>(10), &r)) {
      return false;
    }
  }
  *out = r;
  return true;
}

bool Align(const Decimal& a, const Decimal& b, i128* x, i128* y, int* scale) {
  *scale = std::max(a.scale, b.scale);
  return ScaleUp(a.units, *scale - a.scale, x) && ScaleUp(b.units, *scale - b.scale, y);
}

// Floor division for negative numerators.
i128 FloorDiv(i128 a, i128 b) {
  i128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

}  // namespace

std::optional<Decimal> Decimal::Parse(std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    negative = text[i] == '-';
    ++i;
  }
  Decimal d;
  bool digits = false;
  bool point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    digits = true;
    if (__builtin_mul_overflow(d.units, static_cast<i128>(10), &d.units)) {
      return std::nullopt;
    }
    d.units += c - '0';
    if (point) {
      ++d.scale;
    }
  }
  if (!digits || d.scale > kMaxScale || (point && text.back() == '.')) {
    return std::nullopt;
  }
  if (negative) {
    d.units = -d.units;
  }
  return d;
}

std::optional<Decimal> Decimal::FromDouble(double v) {
  if (!std::isfinite(v)) {
    return std::nullopt;
  }
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  std::string_view s(buf, res.ptr - buf);
  if (s.size() > 40) {
    std::snprintf(buf, sizeof buf, "%.20f", v);
    s = buf;
  }
  auto d = Parse(s);
  if (d) {
    // 15 fractional digits hide binary noise (0.30000000000000004 → 0.3).
    *d = Normalize(Round(*d, 15));
  }
  return d;
}

double Decimal::ToDouble() const { return static_cast<double>(units) / std::pow(10.0, scale); }

std::string Decimal::ToString() const {
  i128 u = units < 0 ? -units : units;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u != 0);
  while (static_cast<int>(digits.size()) <= scale) {
    digits.insert(digits.begin(), '0');
  }
  if (scale > 0) {
    digits.insert(digits.end() - scale, '.');
  }
  if (units < 0) {
    digits.insert(digits.begin(), '-');
  }
  return digits;
}

std::optional<int64_t> Decimal::ToInt64() const {
  const i128 v = units / Pow10(scale);
  if (v > INT64_MAX || v < INT64_MIN) {
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

bool Decimal::IsInteger() const { return units % Pow10(scale) == 0; }

int Compare(const Decimal& a, const Decimal& b) {
  i128 x, y;
  int scale;
  if (!Align(a, b, &x, &y, &scale)) {
    const double da = a.ToDouble(), db = b.ToDouble();
    return da < db ? -1 : (da > db ? 1 : 0);
  }
  return x < y ? -1 : (x > y ? 1 : 0);
}

std::optional<Decimal> Add(const Decimal& a, const Decimal& b) {
  i128 x, y, r;
  int scale;
  if (!Align(a, b, &x, &y, &scale) || __builtin_add_overflow(x, y, &r)) {
    return std::nullopt;
  }
  return Decimal{r, scale};
}

std::optional<Decimal> Subtract(const Decimal& a, const Decimal& b) {
  return Add(a, Decimal{-b.units, b.scale});
}

std::optional<Decimal> Multiply(const Decimal& a, const Decimal& b) {
  Decimal x = a, y = b;
  i128 r;
  while (__builtin_mul_overflow(x.units, y.units, &r)) {
    // Drop fractional digits of the more precise operand until it fits.
    Decimal& big = x.scale >= y.scale ? x : y;
    if (big.scale == 0) {
      return std::nullopt;
    }
    big.units /= 10;
    --big.scale;
  }
  Decimal out{r, x.scale + y.scale};
  while (out.scale > Decimal::kMaxScale) {
    out.units /= 10;
    --out.scale;
  }
  return out;
}

std::optional<Decimal> Divide(const Decimal& a, const Decimal& b) {
  if (b.units == 0) {
    return std::nullopt;
  }
  // a/b = (a.units * 10^(k + b.scale - a.scale)) / b.units / 10^k, k fractional digits.
  constexpr int kDigits = 16;
  int shift = kDigits + b.scale - a.scale;
  i128 num = a.units;
  i128 den = b.units;
  if (shift >= 0) {
    if (!ScaleUp(num, shift, &num)) {
      return Decimal::FromDouble(a.ToDouble() / b.ToDouble());
    }
  } else if (!ScaleUp(den, -shift, &den)) {
    return Decimal::FromDouble(a.ToDouble() / b.ToDouble());
  }
  i128 q = num / den;
  const i128 rem = num % den;
  // Round half away from zero on the last digit.
  if (rem != 0 && (rem < 0 ? -rem : rem) * 2 >= (den < 0 ? -den : den)) {
    q += ((num < 0) != (den < 0)) ? -1 : 1;
  }
  return Normalize(Decimal{q, kDigits});
}

Decimal Round(const Decimal& a, int digits) {
  if (digits >= a.scale) {
    return a;
  }
  const i128 p = Pow10(a.scale - digits);
  i128 q = a.units / p;
  const i128 rem = a.units % p;
  if ((rem < 0 ? -rem : rem) * 2 >= p) {
    q += a.units < 0 ? -1 : 1;
  }
  return Decimal{q, digits};
}

Decimal Floor(const Decimal& a, int digits) {
  if (digits >= a.scale) {
    return a;
  }
  return Decimal{FloorDiv(a.units, Pow10(a.scale - digits)), digits};
}

Decimal Ceiling(const Decimal& a, int digits) {
  if (digits >= a.scale) {
    return a;
  }
  return Decimal{-FloorDiv(-a.units, Pow10(a.scale - digits)), digits};
}

Decimal Truncate(const Decimal& a) { return Decimal{a.units / Pow10(a.scale), 0}; }

std::optional<Decimal> Rescale(const Decimal& a, int scale) {
  if (scale <= a.scale) {
    return Decimal{a.units / Pow10(a.scale - scale), scale};
  }
  i128 r;
  if (!ScaleUp(a.units, scale - a.scale, &r)) {
    return std::nullopt;
  }
  return Decimal{r, scale};
}

Decimal Normalize(const Decimal& a) {
  Decimal d = a;
  while (d.scale > 0 && d.units % 10 == 0) {
    d.units /= 10;
    --d.scale;
  }
  return d;
}

}  // namespace carechart::fhirpath
