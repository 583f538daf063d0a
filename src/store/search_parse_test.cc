// ParseSearch over the generated R4 definitions, and the uniqueness of index parameter keys.
#include <gtest/gtest.h>

#include <map>

#include "fhir/definitions.h"
#include "store/index_keys.h"
#include "store/search_query.h"

namespace carechart::store {
namespace {

using fhir::SearchParamType;
using Params = std::vector<std::pair<std::string, std::string>>;

SearchQuery ParseOk(std::string_view type, const Params& params) {
  auto q = ParseSearch(type, params);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  return q.ok() ? *q : SearchQuery{};
}

Status ParseError(std::string_view type, const Params& params) {
  auto q = ParseSearch(type, params);
  EXPECT_FALSE(q.ok());
  return q.ok() ? Status::Ok() : q.status();
}

TEST(ParseSearch, TypesModifiersAndOrAnd) {
  SearchQuery q = ParseOk("Patient", {{"name", "Smith,Jones"},
                                      {"name:exact", "Smith"},
                                      {"gender:not", "male"},
                                      {"identifier", "urn:mrn|12\\,3"},
                                      {"birthdate", "ge1980-05"},
                                      {"_id", "a,b"},
                                      {"general-practitioner:Practitioner", "p1"},
                                      {"birthdate:missing", "true"}});
  ASSERT_EQ(q.clauses.size(), 8u);
  EXPECT_EQ(q.type, "Patient");
  EXPECT_EQ(q.clauses[0].type, SearchParamType::kString);
  ASSERT_EQ(q.clauses[0].values.size(), 2u);
  EXPECT_EQ(q.clauses[0].values[1].raw, "Jones");
  EXPECT_EQ(q.clauses[0].values[1].normalized, "jones");
  EXPECT_EQ(q.clauses[1].modifier, "exact");
  EXPECT_EQ(q.clauses[2].modifier, "not");
  const SearchValue& ident = q.clauses[3].values.at(0);
  EXPECT_TRUE(ident.has_system);
  EXPECT_EQ(ident.system, "urn:mrn");
  EXPECT_EQ(ident.code, "12,3");  // escaped comma is not an OR
  const SearchValue& birth = q.clauses[4].values.at(0);
  EXPECT_EQ(birth.prefix, Prefix::kGe);
  EXPECT_EQ(birth.low, 325'987'200'000'000);  // 1980-05-01T00:00:00Z
  EXPECT_EQ(birth.high, 328'665'599'999'999);
  EXPECT_EQ(q.clauses[5].values.size(), 2u);
  EXPECT_EQ(q.clauses[6].type, SearchParamType::kReference);
  EXPECT_EQ(q.clauses[6].values.at(0).ref_id, "p1");
  EXPECT_EQ(q.clauses[7].modifier, "missing");
}

TEST(ParseSearch, ReferenceForms) {
  SearchQuery q = ParseOk("Observation", {{"subject", "Patient/123"},
                                          {"subject", "123"},
                                          {"subject", "http://x.org/fhir/Patient/9/_history/2"},
                                          {"subject", "urn:uuid:abc"}});
  EXPECT_EQ(q.clauses[0].values[0].ref_type, "Patient");
  EXPECT_EQ(q.clauses[0].values[0].ref_id, "123");
  EXPECT_EQ(q.clauses[1].values[0].ref_type, "");
  EXPECT_EQ(q.clauses[1].values[0].ref_id, "123");
  EXPECT_EQ(q.clauses[2].values[0].ref_type, "Patient");
  EXPECT_EQ(q.clauses[2].values[0].ref_id, "9");
  EXPECT_EQ(q.clauses[2].values[0].raw, "http://x.org/fhir/Patient/9/_history/2");
  EXPECT_EQ(q.clauses[3].values[0].ref_id, "urn:uuid:abc");
  EXPECT_EQ(ParseError("Observation", {{"subject", "Nonsense/1"}}).code(), StatusCode::kInvalid);
}

TEST(ParseSearch, NumbersAndQuantities) {
  SearchQuery q = ParseOk("Observation", {{"value-quantity", "le5.40|http://unitsofmeasure.org|mg"},
                                          {"value-quantity", "100"}});
  const SearchValue& v = q.clauses[0].values[0];
  EXPECT_EQ(v.prefix, Prefix::kLe);
  EXPECT_DOUBLE_EQ(v.number, 5.4);
  EXPECT_DOUBLE_EQ(v.number_low, 5.395);
  EXPECT_EQ(v.system, "http://unitsofmeasure.org");
  EXPECT_EQ(v.code, "mg");
  EXPECT_DOUBLE_EQ(q.clauses[1].values[0].number_low, 99.5);
  EXPECT_DOUBLE_EQ(q.clauses[1].values[0].number_high, 100.5);
}

TEST(ParseSearch, ResultParameters) {
  SearchQuery q = ParseOk("Observation", {{"_count", "5000"},
                                          {"_sort", "-date,_id,code"},
                                          {"_total", "none"},
                                          {"_format", "json"},
                                          {"_pretty", "true"},
                                          {"_summary", "true"},
                                          {"_elements", "id"},
                                          {"_include", "Observation:subject"}});
  EXPECT_EQ(q.count, 1000);
  ASSERT_EQ(q.sort.size(), 3u);
  EXPECT_TRUE(q.sort[0].descending);
  EXPECT_EQ(q.sort[0].param, "date");
  EXPECT_EQ(q.sort[0].type, SearchParamType::kDate);
  EXPECT_EQ(q.sort[2].type, SearchParamType::kToken);
  EXPECT_FALSE(q.want_total);
  EXPECT_TRUE(q.clauses.empty());
  EXPECT_EQ(q.includes, (std::vector<std::string>{"Observation:subject"}));
  EXPECT_EQ(ParseOk("Patient", {}).count, 20);
  SearchQuery sys = ParseOk("", {{"_type", "Patient,Observation"}, {"_id", "x"}});
  EXPECT_EQ(sys.types.size(), 2u);
}

TEST(ParseSearch, ErrorsNameTheParameterAndValue) {
  struct Case {
    std::string type, name, value, expect;
  };
  std::vector<Case> cases = {
      {"Patient", "foo", "1", "foo"},
      {"Patient", "birthdate", "1980-13", "1980-13"},
      {"Patient", "birthdate", "xx1980", "xx"},
      {"Observation", "value-quantity", "abc", "abc"},
      {"Patient", "name:below", "x", ":below"},
      {"Patient", "_count", "-1", "_count"},
      {"Patient", "_count", "ten", "ten"},
      {"Patient", "_sort", "nonexistent", "nonexistent"},
      {"Patient", "_total", "all", "all"},
      {"Patient", "general-practitioner.name", "x", "general-practitioner.name"},
      {"Observation", "code-value-quantity", "x$5", "code-value-quantity"},
      {"", "gender", "male", "gender"},
      {"Patient", "gender:missing", "maybe", "maybe"},
      {"Patient", "name", "", "name"},
      {"Patient", "_type", "Patient", "_type"},
  };
  for (const Case& c : cases) {
    Status s = ParseError(c.type, {{c.name, c.value}});
    EXPECT_EQ(s.code(), StatusCode::kInvalid) << c.name;
    EXPECT_NE(s.message().find(c.expect), std::string::npos)
        << c.name << "=" << c.value << ": " << s.message();
  }
  EXPECT_EQ(ParseError("NotAType", {}).code(), StatusCode::kInvalid);
}

TEST(ParseSearch, LenientSkipsAndReports) {
  std::vector<std::string> ignored;
  auto q =
      ParseSearch("Patient", {{"foo", "1"}, {"name", "x"}, {"birthdate", "bad"}}, true, &ignored);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->clauses.size(), 1u);
  EXPECT_EQ(ignored, (std::vector<std::string>{"foo", "birthdate"}));
}

TEST(IndexKeys, ParamKeysAreUniqueWithinEveryResourceType) {
  int checked = 0;
  for (std::string_view type : fhir::ResourceTypes()) {
    std::map<int64_t, std::string_view> seen;
    for (const fhir::SearchParamDef& def : fhir::SearchParams(type)) {
      auto [it, inserted] = seen.emplace(ParamKey(type, def.code), def.code);
      EXPECT_TRUE(inserted || it->second == def.code)
          << type << ": " << def.code << " collides with " << it->second;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000);
  EXPECT_EQ(SystemKey(""), 0);
  EXPECT_NE(SystemKey("http://loinc.org"), SystemKey("http://snomed.info/sct"));
}

}  // namespace
}  // namespace carechart::store
