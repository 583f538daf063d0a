#include "fhir/json.h"

#include <gtest/gtest.h>

#include <string>

namespace carechart::json {
namespace {

TEST(JsonTest, RoundTripKeepsOrderAndDecimals) {
  std::string text =
      R"({"resourceType":"Observation","valueQuantity":{"value":1.50,"unit":"mg"},"b":[1e3,-0.0,true,null],"a":"\u00e9\n"})";
  auto v = Parse(text);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->members()[0].first, "resourceType");
  EXPECT_EQ(v->find("valueQuantity")->find("value")->text(), "1.50");
  EXPECT_EQ(
      Write(*v),
      R"({"resourceType":"Observation","valueQuantity":{"value":1.50,"unit":"mg"},"b":[1e3,-0.0,true,null],"a":"é\n"})");
}

TEST(JsonTest, RejectsMalformedWithPath) {
  auto v = Parse(R"({"a":{"b":[1,2,}]}})");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInvalid);
  EXPECT_EQ(v.status().location(), "a.b[2]");
}

TEST(JsonTest, FormatPathJoinsMembersAndItems) {
  const std::string entry = "entry";
  const std::string code = "code";
  std::vector<PathStep> steps = {{&entry, 0}, {nullptr, 3}, {&code, 0}};
  EXPECT_EQ(FormatPath("", steps), "entry[3].code");
  EXPECT_EQ(FormatPath("Bundle", steps), "Bundle.entry[3].code");
  EXPECT_EQ(FormatPath("Bundle", {}), "Bundle");
  EXPECT_EQ(FormatPath("", {{nullptr, 0}, {nullptr, 1}}), "[0][1]");
}

TEST(JsonTest, RejectsDuplicateKeys) {
  auto v = Parse(R"({"name":[{"given":["a"],"given":["b"]}]})");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().location(), "name[0].given");
  EXPECT_NE(v.status().message().find("duplicate"), std::string::npos);
}

// The location of a parse error is written out only when there is an error (D100): it must
// still name the member and item where parsing stopped, at any depth.
TEST(JsonTest, ErrorLocationsNameMembersAndItems) {
  struct Case {
    const char* text;
    const char* location;
  };
  for (const Case& c : {
           Case{R"({"a":{"b":[1,2,01]}})", "a.b[2]"},
           Case{R"({"x":[{"y":1},{"z":"ok","z":2}]})", "x[1].z"},
           Case{R"({"p":[[1],[2,[3,-]]]})", "p[1][1][1]"},
           Case{R"({"first":1,"second":{"deep":{"deeper":1.}}})", "second.deep.deeper"},
           Case{R"({"a":1,"a":2})", "a"},
           Case{R"({"a":nul})", "a"},
       }) {
    auto v = Parse(c.text);
    ASSERT_FALSE(v.ok()) << c.text;
    EXPECT_EQ(v.status().location(), c.location) << c.text << ": " << v.status().message();
  }
  auto top = Parse(R"([1,2)");
  ASSERT_FALSE(top.ok());
  EXPECT_FALSE(top.status().location().empty());
}

TEST(JsonTest, RejectsNestingBomb) {
  std::string bomb = std::string(100000, '[') + std::string(100000, ']');
  auto v = Parse("{\"a\":" + bomb + "}");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("nesting"), std::string::npos);
}

TEST(JsonTest, RejectsInvalidUtf8) {
  std::string bad = "{\"a\":\"\xC3\x28\"}";
  EXPECT_FALSE(Parse(bad).ok());
}

TEST(JsonTest, RejectsTrailingGarbageAndScalars) {
  EXPECT_FALSE(Parse("{} x").ok());
  EXPECT_FALSE(Parse("42").ok());
  EXPECT_FALSE(Parse("").ok());
  EXPECT_FALSE(Parse("\xEF\xBB\xBF{}").ok());
}

TEST(JsonTest, RejectsBadNumbers) {
  EXPECT_FALSE(Parse(R"({"a":01})").ok());
  EXPECT_FALSE(Parse(R"({"a":1.})").ok());
  EXPECT_TRUE(Parse(R"({"a":-1.5E+10})").ok());
}

TEST(JsonTest, EditsKeepPosition) {
  auto v = Parse(R"({"resourceType":"Patient","active":true})");
  ASSERT_TRUE(v.ok());
  v->set_at("id", Value::String("x"), 1);
  v->set("active", Value::Bool(false));
  EXPECT_EQ(Write(*v), R"({"resourceType":"Patient","id":"x","active":false})");
  EXPECT_TRUE(v->erase("id"));
  EXPECT_FALSE(v->erase("id"));
  EXPECT_EQ(Write(*v, {.pretty = true}),
            "{\n  \"resourceType\": \"Patient\",\n  \"active\": false\n}");
}

}  // namespace
}  // namespace carechart::json
