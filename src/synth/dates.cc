#include "synth/dates.h"

namespace carechart::synth {

// Howard Hinnant's days_from_civil / civil_from_days.
Day DayFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

void CivilFromDay(Day day, int* y, unsigned* m, unsigned* d) {
  int z = day + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int>(yoe) + era * 400 + (*m <= 2);
}

int AgeOn(Day birth, Day day) {
  int by, y;
  unsigned bm, bd, m, d;
  CivilFromDay(birth, &by, &bm, &bd);
  CivilFromDay(day, &y, &m, &d);
  int age = y - by;
  if (m < bm || (m == bm && d < bd)) --age;
  return age;
}

Day AddYears(Day day, int years) {
  int y;
  unsigned m, d;
  CivilFromDay(day, &y, &m, &d);
  if (m == 2 && d == 29) d = 28;
  return DayFromCivil(y + years, m, d);
}

unsigned MonthOf(Day day) {
  int y;
  unsigned m, d;
  CivilFromDay(day, &y, &m, &d);
  return m;
}

namespace {
inline void Two(unsigned v, char* out) {
  out[0] = static_cast<char>('0' + v / 10);
  out[1] = static_cast<char>('0' + v % 10);
}
}  // namespace

int FormatDate(Day day, char* out) {
  int y;
  unsigned m, d;
  CivilFromDay(day, &y, &m, &d);
  unsigned uy = static_cast<unsigned>(y);
  Two(uy / 100, out);
  Two(uy % 100, out + 2);
  out[4] = '-';
  Two(m, out + 5);
  out[7] = '-';
  Two(d, out + 8);
  return 10;
}

int FormatInstant(Instant t, char* out) {
  Day day =
      static_cast<Day>(t >= 0 ? t / kSecondsPerDay : (t - kSecondsPerDay + 1) / kSecondsPerDay);
  int64_t secs = t - static_cast<int64_t>(day) * kSecondsPerDay;
  FormatDate(day, out);
  out[10] = 'T';
  Two(static_cast<unsigned>(secs / 3600), out + 11);
  out[13] = ':';
  Two(static_cast<unsigned>(secs / 60 % 60), out + 14);
  out[16] = ':';
  Two(static_cast<unsigned>(secs % 60), out + 17);
  out[19] = 'Z';
  return 20;
}

std::optional<Day> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](size_t from, size_t len, int* v) {
    *v = 0;
    for (size_t i = from; i < from + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      *v = *v * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, m, d;
  if (!num(0, 4, &y) || !num(5, 2, &m) || !num(8, 2, &d)) return std::nullopt;
  if (y < 1900 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  Day day = DayFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  int yy;
  unsigned mm, dd;
  CivilFromDay(day, &yy, &mm, &dd);
  if (static_cast<int>(dd) != d) return std::nullopt;  // e.g. 2026-02-30
  return day;
}

}  // namespace carechart::synth
