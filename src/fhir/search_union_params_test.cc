// The union parameters' table (search_union_params.h) against the R4 definitions: a parameter is
// answered from its parts only if its values are exactly theirs.
#include "fhir/search_union_params.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fhir/definitions.h"
#include "fhir/json.h"
#include "fhir/search_index.h"

namespace carechart::fhir {
namespace {

// The top-level alternatives of a FHIRPath union ("a | (b as X) | c" → {a, (b as X), c}).
std::set<std::string> Alternatives(std::string_view expression) {
  std::set<std::string> out;
  int depth = 0;
  size_t start = 0;
  auto add = [&](size_t end) {
    std::string_view part = expression.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    out.emplace(part);
  };
  for (size_t i = 0; i < expression.size(); ++i) {
    const char c = expression[i];
    depth += c == '(' ? 1 : (c == ')' ? -1 : 0);
    if (c == '|' && depth == 0) {
      add(i);
      start = i + 1;
    }
  }
  add(expression.size());
  return out;
}

TEST(UnionParams, EachIsExactlyTheUnionOfItsPartsByDefinition) {
  ASSERT_FALSE(UnionParams().empty());
  for (const UnionParam& u : UnionParams()) {
    SCOPED_TRACE(std::string(u.type) + "." + std::string(u.param));
    const SearchParamDef* whole = FindSearchParam(u.type, u.param);
    ASSERT_NE(whole, nullptr);
    std::set<std::string> from_parts;
    for (std::string_view part : u.parts) {
      const SearchParamDef* p = FindSearchParam(u.type, part);
      ASSERT_NE(p, nullptr) << part;
      EXPECT_EQ(p->type, whole->type) << part;
      const std::set<std::string> alts = Alternatives(p->expression);
      from_parts.insert(alts.begin(), alts.end());
      // A composite's tuples are the union only when each part has the same components.
      ASSERT_EQ(p->components.size(), whole->components.size()) << part;
      for (size_t i = 0; i < whole->components.size(); ++i) {
        EXPECT_EQ(p->components[i].expression, whole->components[i].expression) << part;
        EXPECT_EQ(p->components[i].type, whole->components[i].type) << part;
      }
    }
    EXPECT_EQ(Alternatives(whole->expression), from_parts);
    EXPECT_EQ(UnionParamParts(u.type, u.param).size(), 2u);
  }
  EXPECT_TRUE(UnionParamParts("Observation", "code").empty());
  EXPECT_TRUE(UnionParamParts("Patient", "combo-code").empty());
}

TEST(UnionParams, TheExtractorWritesThePartsAndNotTheUnion) {
  // A blood pressure: the code on the Observation, the two values in components.
  auto obs = json::Parse(R"({"resourceType":"Observation","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
    "component":[
      {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
       "valueQuantity":{"value":120,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
      {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},
       "valueQuantity":{"value":80,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]})");
  ASSERT_TRUE(obs.ok());
  const IndexEntries e = ExtractIndex(*obs);
  auto count = [](const auto& entries, std::string_view param) {
    size_t n = 0;
    for (const auto& x : entries) {
      n += x.param == param ? 1 : 0;
    }
    return n;
  };
  EXPECT_EQ(count(e.tokens, "code"), 1u);
  EXPECT_EQ(count(e.tokens, "component-code"), 2u);
  EXPECT_EQ(count(e.quantities, "component-value-quantity"), 2u);
  EXPECT_EQ(count(e.composites, "component-code-value-quantity"), 2u);
  for (const UnionParam& u : UnionParams()) {
    EXPECT_EQ(
        count(e.tokens, u.param) + count(e.quantities, u.param) + count(e.composites, u.param), 0u)
        << u.param;
  }
}

}  // namespace
}  // namespace carechart::fhir
