// FHIR date/dateTime/instant parsing into ranges of instants (see datetime.h).
//
// A value covers every instant of its precision: "2020-02" is all of February 2020 (29 days), a
// value with seconds and a fraction of n digits covers 10^-n seconds. Dates without a zone are
// taken as UTC, as the search module does for its query values.
#include "fhir/datetime.h"

#include <cstdio>

namespace carechart::fhir {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yoe + era * 400 + (*m <= 2));
}

// Reads exactly `n` digits at `*pos`.
bool Digits(std::string_view s, size_t* pos, int n, int* out) {
  if (*pos + n > s.size()) {
    return false;
  }
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[*pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos < s.size() && s[*pos] == c) {
    ++*pos;
    return true;
  }
  return false;
}

// hh:mm[:ss[.fff]] at `*pos`; `require_seconds` for the FHIR time type.
bool ParseClock(std::string_view s, size_t* pos, bool require_seconds, DateTimeParts* p) {
  if (!Digits(s, pos, 2, &p->hour) || !Expect(s, pos, ':') || !Digits(s, pos, 2, &p->minute)) {
    return false;
  }
  if (p->hour > 23 || p->minute > 59) {
    return false;
  }
  p->precision = DateTimeParts::Precision::kMinute;
  if (!Expect(s, pos, ':')) {
    return !require_seconds;
  }
  if (!Digits(s, pos, 2, &p->second) || p->second > 60) {
    return false;
  }
  p->precision = DateTimeParts::Precision::kSecond;
  if (Expect(s, pos, '.')) {
    const size_t start = *pos;
    int scale = 100000;
    while (*pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9') {
      p->micros += (s[*pos] - '0') * scale;
      scale /= 10;
      ++*pos;
    }
    p->frac_digits = static_cast<int>(*pos - start);
    if (p->frac_digits == 0) {
      return false;
    }
  }
  return true;
}

bool ParseZone(std::string_view s, size_t* pos, DateTimeParts* p) {
  if (*pos == s.size()) {
    return true;
  }
  p->has_zone = true;
  if (Expect(s, pos, 'Z')) {
    return true;
  }
  const char sign = s[*pos];
  if (sign != '+' && sign != '-') {
    return false;
  }
  ++*pos;
  int h = 0;
  int m = 0;
  if (!Digits(s, pos, 2, &h) || !Expect(s, pos, ':') || !Digits(s, pos, 2, &m)) {
    return false;
  }
  if (h > 14 || m > 59 || (h == 14 && m != 0)) {
    return false;
  }
  p->zone_offset_minutes = (sign == '-' ? -1 : 1) * (h * 60 + m);
  return true;
}

}  // namespace

bool ParseDateTimeParts(std::string_view s, DateTimeParts* out) {
  DateTimeParts p;
  size_t pos = 0;
  if (!Digits(s, &pos, 4, &p.year) || p.year == 0) {
    return false;
  }
  if (Expect(s, &pos, '-')) {
    if (!Digits(s, &pos, 2, &p.month) || p.month < 1 || p.month > 12) {
      return false;
    }
    p.precision = DateTimeParts::Precision::kMonth;
    if (Expect(s, &pos, '-')) {
      if (!Digits(s, &pos, 2, &p.day) || p.day < 1 || p.day > DaysInMonth(p.year, p.month)) {
        return false;
      }
      p.precision = DateTimeParts::Precision::kDay;
      if (Expect(s, &pos, 'T')) {
        if (!ParseClock(s, &pos, false, &p) || !ParseZone(s, &pos, &p)) {
          return false;
        }
      }
    }
  }
  if (pos != s.size()) {
    return false;
  }
  *out = p;
  return true;
}

bool IsValidFhirTime(std::string_view text) {
  DateTimeParts p;
  size_t pos = 0;
  return ParseClock(text, &pos, true, &p) && p.second < 60 && pos == text.size();
}

bool ParseDateRange(std::string_view text, DateRange* out) {
  DateTimeParts p;
  if (!ParseDateTimeParts(text, &p)) {
    return false;
  }
  using P = DateTimeParts::Precision;
  const int64_t day0 = DaysFromCivil(p.year, p.month, p.day);
  int64_t low =
      day0 * kMicrosPerDay + (p.hour * 3600LL + p.minute * 60LL + p.second) * kMicrosPerSecond;
  int64_t span = 0;
  switch (p.precision) {
    case P::kYear:
      span = (IsLeapYear(p.year) ? 366 : 365) * kMicrosPerDay;
      break;
    case P::kMonth:
      span = DaysInMonth(p.year, p.month) * kMicrosPerDay;
      break;
    case P::kDay:
      span = kMicrosPerDay;
      break;
    case P::kMinute:
      span = 60 * kMicrosPerSecond;
      break;
    case P::kSecond: {
      low += p.micros;
      span = kMicrosPerSecond;
      for (int i = 0; i < p.frac_digits && span > 1; ++i) {
        span /= 10;
      }
      break;
    }
  }
  low -= p.zone_offset_minutes * 60LL * kMicrosPerSecond;
  out->low = low;
  out->high = low + span - 1;
  return true;
}

namespace {

struct Civil {
  int y, mo, d, h, mi, s, us, weekday;
};

Civil ToCivil(int64_t micros) {
  int64_t days = micros / kMicrosPerDay;
  int64_t rem = micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  Civil c{};
  CivilFromDays(days, &c.y, &c.mo, &c.d);
  const int64_t secs = rem / kMicrosPerSecond;
  c.h = static_cast<int>(secs / 3600);
  c.mi = static_cast<int>(secs / 60 % 60);
  c.s = static_cast<int>(secs % 60);
  c.us = static_cast<int>(rem % kMicrosPerSecond);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  return c;
}

}  // namespace

std::string FormatInstant(int64_t micros_since_epoch) {
  const Civil c = ToCivil(micros_since_epoch);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", c.y, c.mo, c.d, c.h, c.mi,
                c.s, c.us);
  return buf;
}

std::string FormatHttpDate(int64_t micros_since_epoch) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const Civil c = ToCivil(micros_since_epoch);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[c.weekday], c.d,
                kMonths[c.mo - 1], c.y, c.h, c.mi, c.s);
  return buf;
}

}  // namespace carechart::fhir
