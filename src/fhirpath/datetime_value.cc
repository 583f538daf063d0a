// FHIRPath Date/DateTime/Time: parsing, formatting, comparison with precision rules, calendar
// arithmetic and boundaries (see values.h).
#include <algorithm>
#include <cstdio>

#include "fhirpath/values.h"

namespace carechart::fhirpath {
namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(static_cast<int64_t>(yoe) + era * 400 + (*m <= 2));
}

int64_t ToMillis(const DateTimeValue& v) {
  const int64_t days = DaysFromCivil(v.year, v.month, v.day);
  return (((days * 24 + v.hour) * 60 + v.minute) * 60 + v.second) * 1000 + v.millis;
}

void FromMillis(int64_t ms, DateTimeValue* v) {
  int64_t days = ms / 86400000;
  int64_t rest = ms % 86400000;
  if (rest < 0) {
    rest += 86400000;
    --days;
  }
  CivilFromDays(days, &v->year, &v->month, &v->day);
  v->hour = static_cast<int>(rest / 3600000);
  v->minute = static_cast<int>(rest / 60000 % 60);
  v->second = static_cast<int>(rest / 1000 % 60);
  v->millis = static_cast<int>(rest % 1000);
}

// Reads exactly `n` digits at `*i`.
bool Digits(std::string_view s, size_t* i, int n, int* out) {
  if (*i + n > s.size()) {
    return false;
  }
  int v = 0;
  for (int k = 0; k < n; ++k) {
    const char c = s[*i + k];
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

bool ParseTime(std::string_view s, size_t* i, DateTimeValue* v) {
  if (!Digits(s, i, 2, &v->hour) || v->hour > 23) {
    return false;
  }
  v->precision = DatePrecision::kHour;
  if (*i < s.size() && s[*i] == ':') {
    ++*i;
    if (!Digits(s, i, 2, &v->minute) || v->minute > 59) {
      return false;
    }
    v->precision = DatePrecision::kMinute;
    if (*i < s.size() && s[*i] == ':') {
      ++*i;
      if (!Digits(s, i, 2, &v->second) || v->second > 60) {  // 60: leap second
        return false;
      }
      v->precision = DatePrecision::kSecond;
      if (*i + 1 < s.size() && s[*i] == '.' && s[*i + 1] >= '0' && s[*i + 1] <= '9') {
        ++*i;
        int digits = 0, ms = 0;
        while (*i < s.size() && s[*i] >= '0' && s[*i] <= '9') {
          if (digits < 3) {
            ms = ms * 10 + (s[*i] - '0');
          }
          ++digits;
          ++*i;
        }
        for (int k = digits; k < 3; ++k) {
          ms *= 10;
        }
        v->millis = ms;
        v->frac_digits = std::min(digits, 3);
        v->precision = DatePrecision::kMillisecond;
      }
    }
  }
  return true;
}

bool ParseZone(std::string_view s, size_t* i, DateTimeValue* v) {
  if (*i >= s.size()) {
    return true;
  }
  if (s[*i] == 'Z') {
    ++*i;
    v->has_tz = true;
    return true;
  }
  if (s[*i] != '+' && s[*i] != '-') {
    return false;
  }
  const int sign = s[*i] == '-' ? -1 : 1;
  ++*i;
  int h, m;
  if (!Digits(s, i, 2, &h) || *i >= s.size() || s[*i] != ':' || (++*i, !Digits(s, i, 2, &m)) ||
      h > 14 || m > 59 || (h == 14 && m != 0)) {
    return false;
  }
  v->has_tz = true;
  v->tz_minutes = sign * (h * 60 + m);
  return true;
}

bool ParseDate(std::string_view s, size_t* i, DateTimeValue* v) {
  if (!Digits(s, i, 4, &v->year)) {
    return false;
  }
  v->precision = DatePrecision::kYear;
  if (*i < s.size() && s[*i] == '-') {
    ++*i;
    if (!Digits(s, i, 2, &v->month) || v->month < 1 || v->month > 12) {
      return false;
    }
    v->precision = DatePrecision::kMonth;
    if (*i < s.size() && s[*i] == '-') {
      ++*i;
      if (!Digits(s, i, 2, &v->day) || v->day < 1 || v->day > DaysInMonth(v->year, v->month)) {
        return false;
      }
      v->precision = DatePrecision::kDay;
    }
  }
  return true;
}

// Date [T [time] [zone]]; `require_t` false lets a date alone be a DateTime.
std::optional<DateTimeValue> ParseDateOrDateTime(std::string_view s, bool literal) {
  DateTimeValue v;
  size_t i = 0;
  if (!ParseDate(s, &i, &v)) {
    return std::nullopt;
  }
  v.kind = DateKind::kDate;
  if (i < s.size() && s[i] == 'T') {
    ++i;
    v.kind = DateKind::kDateTime;
    if (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (v.precision != DatePrecision::kDay || !ParseTime(s, &i, &v)) {
        return std::nullopt;
      }
      if (!literal && v.precision == DatePrecision::kHour) {
        return std::nullopt;  // FHIR dateTime strings need minutes
      }
      if (!ParseZone(s, &i, &v)) {
        return std::nullopt;
      }
    }
  }
  if (i != s.size()) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::optional<DateTimeValue> DateTimeValue::ParseLiteral(std::string_view s) {
  if (!s.empty() && s[0] == 'T') {
    DateTimeValue v;
    v.kind = DateKind::kTime;
    size_t i = 1;
    if (!ParseTime(s, &i, &v) || i != s.size()) {
      return std::nullopt;
    }
    return v;
  }
  return ParseDateOrDateTime(s, /*literal=*/true);
}

std::optional<DateTimeValue> DateTimeValue::ParseString(std::string_view s, DateKind kind) {
  if (kind == DateKind::kTime) {
    DateTimeValue v;
    v.kind = DateKind::kTime;
    size_t i = !s.empty() && s[0] == 'T' ? 1 : 0;
    if (!ParseTime(s, &i, &v) || i != s.size()) {
      return std::nullopt;
    }
    return v;
  }
  auto v = ParseDateOrDateTime(s, /*literal=*/true);
  if (!v) {
    return std::nullopt;
  }
  if (kind == DateKind::kDate) {
    if (v->kind != DateKind::kDate) {
      // toDate() of a dateTime string keeps the date part.
      v->kind = DateKind::kDate;
      v->precision = std::min(v->precision, DatePrecision::kDay);
      v->hour = v->minute = v->second = v->millis = 0;
      v->has_tz = false;
      v->tz_minutes = 0;
    }
  } else {
    v->kind = DateKind::kDateTime;
  }
  return v;
}

std::string DateTimeValue::ToString() const {
  char buf[64];
  int n = 0;
  const auto put = [&](const char* fmt, int value) {
    n += std::snprintf(buf + n, sizeof buf - n, fmt, value);
  };
  const DatePrecision p = precision;
  if (kind != DateKind::kTime) {
    put("%04d", year);
    if (p >= DatePrecision::kMonth) {
      put("-%02d", month);
    }
    if (p >= DatePrecision::kDay) {
      put("-%02d", day);
    }
    if (kind == DateKind::kDate || p <= DatePrecision::kDay) {
      return std::string(buf, n);
    }
    buf[n++] = 'T';
  }
  put("%02d", hour);
  if (p >= DatePrecision::kMinute) {
    put(":%02d", minute);
  }
  if (p >= DatePrecision::kSecond) {
    put(":%02d", second);
  }
  if (p >= DatePrecision::kMillisecond) {
    const int digits = frac_digits > 0 ? frac_digits : 3;
    int frac = millis;
    for (int k = digits; k < 3; ++k) {
      frac /= 10;
    }
    n += std::snprintf(buf + n, sizeof buf - n, ".%0*d", digits, frac);
  }
  if (kind == DateKind::kDateTime && has_tz) {
    if (tz_minutes == 0) {
      buf[n++] = 'Z';
    } else {
      const int a = tz_minutes < 0 ? -tz_minutes : tz_minutes;
      n += std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", tz_minutes < 0 ? '-' : '+', a / 60,
                         a % 60);
    }
  }
  return std::string(buf, n);
}

namespace {

// Seconds and milliseconds compare as one precision.
int Level(DatePrecision p) { return std::min(static_cast<int>(p), 5); }

// Field values from year to second*1000+ms, `first` skipping the date for Time.
void Fields(const DateTimeValue& v, int64_t out[6]) {
  out[0] = v.year;
  out[1] = v.month;
  out[2] = v.day;
  out[3] = v.hour;
  out[4] = v.minute;
  out[5] = v.second * 1000 + v.millis;
}

// Moves a zoned value with at least hour precision to UTC.
DateTimeValue ToUtc(const DateTimeValue& v) {
  if (!v.has_tz || v.tz_minutes == 0 || v.precision < DatePrecision::kHour) {
    return v;
  }
  DateTimeValue u = v;
  FromMillis(ToMillis(v) - static_cast<int64_t>(v.tz_minutes) * 60000, &u);
  u.tz_minutes = 0;
  return u;
}

}  // namespace

std::optional<int> CompareDateTimes(const DateTimeValue& a, const DateTimeValue& b) {
  const bool time_a = a.kind == DateKind::kTime, time_b = b.kind == DateKind::kTime;
  if (time_a != time_b) {
    return std::nullopt;
  }
  DateTimeValue x = a, y = b;
  if (x.has_tz && y.has_tz) {
    x = ToUtc(x);
    y = ToUtc(y);
  }
  int64_t fx[6], fy[6];
  Fields(x, fx);
  Fields(y, fy);
  const int first = time_a ? 3 : 0;
  const int lx = Level(x.precision) + (time_a ? 0 : 0), ly = Level(y.precision);
  const int common = std::min(lx, ly);
  for (int i = first; i <= common; ++i) {
    if (fx[i] != fy[i]) {
      return fx[i] < fy[i] ? -1 : 1;
    }
  }
  if (lx != ly) {
    return std::nullopt;
  }
  return 0;
}

bool DateTimesEquivalent(const DateTimeValue& a, const DateTimeValue& b) {
  if (Level(a.precision) != Level(b.precision)) {
    return false;
  }
  const auto c = CompareDateTimes(a, b);
  return c && *c == 0;
}

std::optional<DateTimeValue> AddCalendar(const DateTimeValue& value, int64_t amount,
                                         DatePrecision unit) {
  DateTimeValue v = value;
  // Express the amount at no finer than the value's precision.
  static constexpr int64_t kPerCoarser[] = {1, 12, 0, 24, 60, 60, 1000};
  const DatePrecision floor =
      v.kind == DateKind::kTime ? DatePrecision::kHour : DatePrecision::kYear;
  while (unit > v.precision && unit > floor) {
    if (unit == DatePrecision::kDay) {
      amount /= (v.precision == DatePrecision::kMonth ? 30 : 365);
      unit = v.precision;
      break;
    }
    amount /= kPerCoarser[static_cast<int>(unit)];
    unit = static_cast<DatePrecision>(static_cast<int>(unit) - 1);
  }
  if (unit == DatePrecision::kYear || unit == DatePrecision::kMonth) {
    if (v.kind == DateKind::kTime) {
      return std::nullopt;
    }
    int64_t months =
        v.year * 12LL + (v.month - 1) + (unit == DatePrecision::kYear ? amount * 12 : amount);
    v.year = static_cast<int>(months / 12);
    v.month = static_cast<int>(months % 12) + 1;
    v.day = std::min(v.day, DaysInMonth(v.year, v.month));
  } else {
    static constexpr int64_t kMs[] = {0, 0, 86400000, 3600000, 60000, 1000, 1};
    const int64_t delta = amount * kMs[static_cast<int>(unit)];
    if (v.kind == DateKind::kTime) {
      int64_t ms = ((v.hour * 60LL + v.minute) * 60 + v.second) * 1000 + v.millis + delta;
      ms %= 86400000;
      if (ms < 0) {
        ms += 86400000;
      }
      v.hour = static_cast<int>(ms / 3600000);
      v.minute = static_cast<int>(ms / 60000 % 60);
      v.second = static_cast<int>(ms / 1000 % 60);
      v.millis = static_cast<int>(ms % 1000);
      return v;
    }
    FromMillis(ToMillis(v) + delta, &v);
  }
  if (v.year < 1 || v.year > 9999) {
    return std::nullopt;
  }
  return v;
}

int PrecisionDigits(const DateTimeValue& v) {
  static constexpr int kDate[] = {4, 6, 8, 10, 12, 14, 17};
  static constexpr int kTime[] = {0, 0, 0, 2, 4, 6, 9};
  return (v.kind == DateKind::kTime ? kTime : kDate)[static_cast<int>(v.precision)];
}

std::optional<DateTimeValue> DateBoundary(const DateTimeValue& value, std::optional<int> digits,
                                          bool high) {
  DatePrecision target;
  const int d = digits.value_or(value.kind == DateKind::kDate   ? 8
                                : value.kind == DateKind::kTime ? 9
                                                                : 17);
  if (value.kind == DateKind::kTime) {
    switch (d) {
      case 2:
        target = DatePrecision::kHour;
        break;
      case 4:
        target = DatePrecision::kMinute;
        break;
      case 6:
        target = DatePrecision::kSecond;
        break;
      case 9:
        target = DatePrecision::kMillisecond;
        break;
      default:
        return std::nullopt;
    }
  } else {
    switch (d) {
      case 4:
        target = DatePrecision::kYear;
        break;
      case 6:
        target = DatePrecision::kMonth;
        break;
      case 8:
        target = DatePrecision::kDay;
        break;
      case 10:
        target = DatePrecision::kHour;
        break;
      case 12:
        target = DatePrecision::kMinute;
        break;
      case 14:
        target = DatePrecision::kSecond;
        break;
      case 17:
        target = DatePrecision::kMillisecond;
        break;
      default:
        return std::nullopt;
    }
    if (value.kind == DateKind::kDate && target > DatePrecision::kDay) {
      return std::nullopt;
    }
  }
  DateTimeValue v = value;
  const DatePrecision p = value.precision;
  if (p < DatePrecision::kMonth) {
    v.month = high ? 12 : 1;
  }
  if (p < DatePrecision::kDay) {
    v.day = high ? DaysInMonth(v.year, v.month) : 1;
  }
  if (p < DatePrecision::kHour) {
    v.hour = high ? 23 : 0;
  }
  if (p < DatePrecision::kMinute) {
    v.minute = high ? 59 : 0;
  }
  if (p < DatePrecision::kSecond) {
    v.second = high ? 59 : 0;
  }
  if (p < DatePrecision::kMillisecond) {
    v.millis = high ? 999 : 0;
  }
  v.precision = target;
  if (target == DatePrecision::kMillisecond) {
    v.frac_digits = 3;
  }
  if (v.kind == DateKind::kDateTime && target >= DatePrecision::kHour && !v.has_tz) {
    v.has_tz = true;
    v.tz_minutes = high ? -12 * 60 : 14 * 60;
  }
  return v;
}

}  // namespace carechart::fhirpath
