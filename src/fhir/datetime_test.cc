#include "fhir/datetime.h"

#include <gtest/gtest.h>

namespace carechart::fhir {
namespace {

constexpr int64_t kSec = 1000000;

DateRange Range(std::string_view text) {
  DateRange r;
  EXPECT_TRUE(ParseDateRange(text, &r)) << text;
  return r;
}

TEST(DateTime, YearMonthDayPrecision) {
  EXPECT_EQ(FormatInstant(Range("2020").low), "2020-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatInstant(Range("2020").high), "2020-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatInstant(Range("2020-02").high), "2020-02-29T23:59:59.999999Z");
  EXPECT_EQ(FormatInstant(Range("2019-02").high), "2019-02-28T23:59:59.999999Z");
  EXPECT_EQ(FormatInstant(Range("1900-02").high), "1900-02-28T23:59:59.999999Z");
  EXPECT_EQ(FormatInstant(Range("2000-02-29").low), "2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(Range("1970-01-01").low, 0);
  EXPECT_EQ(Range("1970-01-01").high, 86400 * kSec - 1);
}

TEST(DateTime, TimesZonesAndFractions) {
  const DateRange r = Range("2020-03-04T10:00:00+01:00");
  EXPECT_EQ(FormatInstant(r.low), "2020-03-04T09:00:00.000000Z");
  EXPECT_EQ(r.high - r.low, kSec - 1);
  EXPECT_EQ(FormatInstant(Range("2020-03-04T10:00:00.5Z").low), "2020-03-04T10:00:00.500000Z");
  EXPECT_EQ(Range("2020-03-04T10:00:00.5Z").high - Range("2020-03-04T10:00:00.5Z").low,
            kSec / 10 - 1);
  EXPECT_EQ(FormatInstant(Range("2020-03-04T10:00:00.123456789Z").low),
            "2020-03-04T10:00:00.123456Z");
  EXPECT_EQ(FormatInstant(Range("2020-01-01T00:30:00-14:00").low), "2020-01-01T14:30:00.000000Z");
  EXPECT_EQ(FormatInstant(Range("2020-03-04T10:00").high), "2020-03-04T10:00:59.999999Z");
  EXPECT_EQ(FormatInstant(Range("2016-12-31T23:59:60Z").low), "2017-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatInstant(Range("1969-12-31T23:59:59Z").low), "1969-12-31T23:59:59.000000Z");
}

TEST(DateTime, RejectsInvalid) {
  DateRange r;
  for (const char* bad :
       {"", "20", "0000", "2020-13", "2020-02-30", "2019-02-29", "2020-1-01",
        "2020-01-01T25:00:00Z", "2020-01-01T10:00:00+15:00", "2020-01-01T10", "2020-01-01 10:00:00",
        "2020-01-01T10:00:00.Z", "2020-01-01Z", "2020-01-01T10:00:00ZZ", "not a date"}) {
    EXPECT_FALSE(ParseDateRange(bad, &r)) << bad;
  }
}

TEST(DateTime, Parts) {
  DateTimeParts p;
  ASSERT_TRUE(ParseDateTimeParts("2020-03-04T10:00:00.25-05:30", &p));
  EXPECT_EQ(p.precision, DateTimeParts::Precision::kSecond);
  EXPECT_EQ(p.frac_digits, 2);
  EXPECT_EQ(p.micros, 250000);
  EXPECT_TRUE(p.has_zone);
  EXPECT_EQ(p.zone_offset_minutes, -330);
  EXPECT_TRUE(IsValidFhirTime("23:59:59.999"));
  EXPECT_FALSE(IsValidFhirTime("24:00:00"));
  EXPECT_FALSE(IsValidFhirTime("10:00"));
}

TEST(DateTime, Formatting) {
  EXPECT_EQ(FormatInstant(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatInstant(-1), "1969-12-31T23:59:59.999999Z");
  const int64_t t = Range("2026-11-21T23:45:13.123456Z").low;
  EXPECT_EQ(FormatInstant(t), "2026-11-21T23:45:13.123456Z");
  EXPECT_EQ(FormatHttpDate(t), "Sat, 21 Nov 2026 23:45:13 GMT");
  EXPECT_EQ(FormatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(Range("1994-11-06T08:49:37Z").low), "Sun, 06 Nov 1994 08:49:37 GMT");
}

}  // namespace
}  // namespace carechart::fhir
