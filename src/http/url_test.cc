#include "http/url.h"

#include "http/message.h"

#include <gtest/gtest.h>

namespace carechart::http {
namespace {

TEST(UrlTest, DecodesQueryInOrder) {
  auto q = ParseQuery("name=Sm%C3%ADth&birthdate=ge1970&&_count=2&flag&a+b=c+d");
  ASSERT_TRUE(q.has_value());
  ASSERT_EQ(q->size(), 5u);
  EXPECT_EQ((*q)[0].second, "Smíth");
  EXPECT_EQ((*q)[1].second, "ge1970");
  EXPECT_EQ((*q)[3].first, "flag");
  EXPECT_EQ((*q)[3].second, "");
  EXPECT_EQ((*q)[4].first, "a b");
  EXPECT_EQ((*q)[4].second, "c d");
}

TEST(UrlTest, RejectsBadEscapesAndInvalidUtf8) {
  EXPECT_FALSE(ParseQuery("a=%G1").has_value());
  EXPECT_FALSE(ParseQuery("a=%4").has_value());
  EXPECT_FALSE(ParseQuery("a=%").has_value());
  EXPECT_FALSE(ParseQuery("a=%C3%28").has_value());
  EXPECT_FALSE(ParseQuery("a=%00").has_value());
}

TEST(UrlTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("héllo ✓ 😀"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
}

TEST(UrlTest, EncodesForLinks) {
  EXPECT_EQ(PercentEncode("a b&c=é"), "a%20b%26c%3D%C3%A9");
  EXPECT_EQ(PercentEncode("http://loinc.org|1-8"), "http://loinc.org|1-8");
}

TEST(UrlTest, SplitsPathsIgnoringEmptySegments) {
  EXPECT_EQ(SplitPath("/fhir/Patient/1"), (std::vector<std::string>{"fhir", "Patient", "1"}));
  EXPECT_EQ(SplitPath("//a///b/"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(SplitPath("/").empty());
  EXPECT_TRUE(SplitPath("").empty());
}

TEST(MediaTypeTest, NormalisesAndRecognisesFhirJson) {
  EXPECT_EQ(MediaType(" Application/FHIR+JSON ; charset=UTF-8"), "application/fhir+json");
  EXPECT_TRUE(IsFhirJsonMediaType("application/json"));
  EXPECT_TRUE(IsFhirJsonMediaType("json"));
  EXPECT_FALSE(IsFhirJsonMediaType("application/fhir+xml"));
  EXPECT_FALSE(IsFhirJsonMediaType("text/plain; charset=utf-8"));
}

}  // namespace
}  // namespace carechart::http
