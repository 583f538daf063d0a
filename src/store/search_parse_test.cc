// ParseSearch over the generated R4 definitions, and the uniqueness of index parameter keys.
#include <gtest/gtest.h>

#include <algorithm>
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
      {"Patient", "general-practitioner.nonexistent", "x", "nonexistent"},
      {"Observation", "subject:Frobnicator.name", "x", "Frobnicator"},
      {"Observation", "subject:Medication.name", "x", "Medication"},
      {"Observation", "code.name", "x", "code"},
      {"Patient", "_has:Observation:code:code", "x", "'code'"},
      {"Patient", "_has:Frob:patient:code", "x", "Frob"},
      {"Patient", "_has:Observation:patient", "x", "_has:Type:reference:parameter"},
      {"Patient", "_has:Observation:patient:nonexistent", "x", "nonexistent"},
      {"Organization", "_has:Observation:patient:code", "x", "cannot refer to Organization"},
      {"Observation", "subject:Patient.organization.partof.partof.partof.name", "x", "levels"},
      {"", "subject.name", "x", "system search"},
      {"Patient", "identifier:of-type", "a|b", "type-system|type-code|value"},
      {"Patient", "name:of-type", "a|b|c", ":of-type"},
      {"Observation", "value-quantity:in", "http://vs", ":in"},
      {"Observation", "_include", "Observation:code", "'code' is not a reference"},
      {"Observation", "_include", "Patient:organization", "searched type"},
      {"Observation", "_include", "Observation:subject:Medication", "cannot refer"},
      {"Observation", "_include", "subject", "Type:parameter"},
      {"Patient", "_revinclude", "*", "_revinclude=*"},
      {"Patient", "_page", "!!!", "_page"},
      {"", "gender", "male", "gender"},
      {"Observation", "code-value-quantity", "x$abc", "component 2 ('abc')"},
      {"Observation", "code-value-quantity", "x", "2 components separated by '$'"},
      {"Observation", "code-value-quantity", "a$1$2", "not 3"},
      {"Observation", "code-value-date", "a$2020-13", "2020-13"},
      {"Observation", "code-value-quantity:exact", "a$1", "only :missing"},
      {"Location", "near", "1|2|3|km", "near"},
      {"Patient", "_text", "x", "_text"},
      {"Patient", "_content", "x", "_content"},
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

TEST(ParseSearch, CompositeValuesParseEachComponentWithItsType) {
  SearchQuery q =
      ParseOk("Observation",
              {{"code-value-quantity",
                "http://loinc.org|8480-6$gt100,8462-4$le90|http://unitsofmeasure.org|mm[Hg]"},
               {"code-value-date", "x$ge2020-01"},
               {"code-value-string", "a\\$b$c\\,d"}});
  ASSERT_EQ(q.clauses.size(), 3u);
  const SearchClause& c = q.clauses[0];
  EXPECT_EQ(c.type, SearchParamType::kComposite);
  EXPECT_EQ(c.component_types,
            (std::vector<SearchParamType>{SearchParamType::kToken, SearchParamType::kQuantity}));
  ASSERT_EQ(c.values.size(), 2u);
  ASSERT_EQ(c.values[0].components.size(), 2u);
  EXPECT_EQ(c.values[0].components[0].system, "http://loinc.org");
  EXPECT_EQ(c.values[0].components[0].code, "8480-6");
  EXPECT_EQ(c.values[0].components[1].prefix, Prefix::kGt);
  EXPECT_EQ(c.values[0].components[1].number, 100);
  EXPECT_FALSE(c.values[1].components[0].has_system);
  EXPECT_EQ(c.values[1].components[1].prefix, Prefix::kLe);
  EXPECT_EQ(c.values[1].components[1].code, "mm[Hg]");
  EXPECT_EQ(q.clauses[1].values[0].components[1].prefix, Prefix::kGe);
  // Escaped '$' and ',' stay in their component.
  ASSERT_EQ(q.clauses[2].values.size(), 1u);
  EXPECT_EQ(q.clauses[2].values[0].components[0].code, "a$b");
  EXPECT_EQ(q.clauses[2].values[0].components[1].raw, "c,d");
  // :missing and system searches over types that share the composite.
  EXPECT_EQ(ParseOk("Observation", {{"component-code-value-quantity:missing", "true"}})
                .clauses[0]
                .modifier,
            "missing");
  EXPECT_EQ(ParseOk("", {{"_type", "Library,Measure"}, {"context-type-value", "focus$x|y"}})
                .clauses.size(),
            1u);
}

TEST(ParseSearch, LenientSkipsAndReports) {
  std::vector<std::string> ignored;
  auto q =
      ParseSearch("Patient", {{"foo", "1"}, {"name", "x"}, {"birthdate", "bad"}}, true, &ignored);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->clauses.size(), 1u);
  EXPECT_EQ(ignored, (std::vector<std::string>{"foo", "birthdate"}));
}

TEST(ParseSearch, ChainsAndHas) {
  SearchQuery q = ParseOk("Observation", {{"subject:Patient.name", "Smi"}});
  ASSERT_EQ(q.clauses.size(), 1u);
  const SearchClause& c = q.clauses[0];
  EXPECT_EQ(c.link, ClauseLink::kChain);
  EXPECT_EQ(c.param, "subject");
  ASSERT_EQ(c.linked.size(), 1u);
  EXPECT_EQ(c.linked[0].target_type, "Patient");
  EXPECT_EQ(c.linked[0].param, "name");
  EXPECT_EQ(c.linked[0].type, SearchParamType::kString);
  EXPECT_EQ(c.linked[0].values.at(0).normalized, "smi");

  // Without a type: every target of subject defining "name" (Group, Location, Patient ...).
  q = ParseOk("Observation", {{"subject.name", "x"}});
  std::vector<std::string> targets;
  for (const SearchClause& alt : q.clauses.at(0).linked) {
    targets.push_back(alt.target_type);
  }
  EXPECT_NE(std::find(targets.begin(), targets.end(), "Patient"), targets.end());
  EXPECT_EQ(std::find(targets.begin(), targets.end(), "Device"), targets.end());
  // Unambiguous: only Patient has birthdate among subject's targets.
  q = ParseOk("Observation", {{"subject.birthdate", "ge1980"}});
  ASSERT_EQ(q.clauses.at(0).linked.size(), 1u);
  EXPECT_EQ(q.clauses[0].linked[0].values.at(0).prefix, Prefix::kGe);

  // Several levels, and a modifier at the end.
  q = ParseOk("Observation",
              {{"subject:Patient.general-practitioner:Practitioner.name:exact", "Who"}});
  const SearchClause& l2 = q.clauses.at(0).linked.at(0);
  EXPECT_EQ(l2.link, ClauseLink::kChain);
  EXPECT_EQ(l2.param, "general-practitioner");
  EXPECT_EQ(l2.linked.at(0).target_type, "Practitioner");
  EXPECT_EQ(l2.linked.at(0).modifier, "exact");

  // _has, nested, with a chain and a modifier inside.
  q = ParseOk("Patient", {{"_has:Observation:patient:code", "1234-5"},
                          {"_has:Observation:patient:_has:Provenance:target:agent", "x"},
                          {"_has:Encounter:subject:service-provider.name", "Acme"},
                          {"_has:Observation:patient:code:not", "1"}});
  ASSERT_EQ(q.clauses.size(), 4u);
  EXPECT_EQ(q.clauses[0].link, ClauseLink::kHas);
  EXPECT_EQ(q.clauses[0].param, "patient");
  EXPECT_EQ(q.clauses[0].linked.at(0).target_type, "Observation");
  EXPECT_EQ(q.clauses[0].linked[0].param, "code");
  EXPECT_EQ(q.clauses[1].linked.at(0).link, ClauseLink::kHas);
  EXPECT_EQ(q.clauses[1].linked[0].linked.at(0).target_type, "Provenance");
  EXPECT_EQ(q.clauses[2].linked.at(0).link, ClauseLink::kChain);
  EXPECT_EQ(q.clauses[3].linked.at(0).modifier, "not");
}

TEST(ParseSearch, ModifiersIncludesSystemAndPages) {
  SearchQuery q = ParseOk("Observation", {{"subject:identifier", "urn:mrn|12"},
                                          {"_include", "Observation:subject:Patient"},
                                          {"_include:iterate", "Patient:general-practitioner"},
                                          {"_revinclude", "Provenance:target"},
                                          {"_include", "*"},
                                          {"_total", "estimate"}});
  ASSERT_EQ(q.clauses.size(), 1u);
  EXPECT_EQ(q.clauses[0].modifier, "identifier");
  EXPECT_EQ(q.clauses[0].values.at(0).system, "urn:mrn");
  EXPECT_EQ(q.clauses[0].values.at(0).code, "12");
  ASSERT_EQ(q.include_specs.size(), 4u);
  EXPECT_EQ(q.include_specs[0].target_types, (std::vector<std::string>{"Patient"}));
  EXPECT_TRUE(q.include_specs[1].iterate);
  EXPECT_TRUE(q.include_specs[2].reverse);
  EXPECT_EQ(q.include_specs[3].param, "*");
  EXPECT_EQ(q.includes.size(), 3u);
  EXPECT_EQ(q.revincludes.size(), 1u);
  EXPECT_TRUE(q.want_total && q.estimate_total);

  q = ParseOk("Patient",
              {{"identifier:of-type", "http://terminology.hl7.org/CodeSystem/v2-0203|MR|12\\|3"}});
  EXPECT_EQ(q.clauses.at(0).values.at(0).code, "MR|12|3");
  q = ParseOk("ValueSet", {{"url:above", "http://x.org/fhir/ValueSet/a/b"}});
  EXPECT_EQ(q.clauses.at(0).modifier, "above");

  // System search: parameters common to every type of _type (wherever _type appears).
  q = ParseOk("", {{"_tag", "urn:t|x"}, {"_type", "Patient,Observation"}});
  EXPECT_EQ(q.types.size(), 2u);
  EXPECT_EQ(q.clauses.at(0).type, SearchParamType::kToken);
  ParseOk("", {{"_profile", "http://x"}, {"_security", "R"}, {"_source", "urn:x"}});
  Status s = ParseError("", {{"_type", "Patient,Observation"}, {"gender", "male"}});
  EXPECT_NE(s.message().find("not for Observation"), std::string::npos) << s.message();
  ParseOk("", {{"_type", "Observation,Condition"}, {"patient", "Patient/1"}});

  // _page tokens round-trip and belong to their _sort.
  std::vector<SortKey> sort = {{"date", true, SearchParamType::kDate}};
  PageCursor cur{42, {"i123"}};
  std::string token = EncodePageToken(sort, cur);
  q = ParseOk("Observation", {{"_sort", "-date"}, {"_page", token}});
  ASSERT_TRUE(q.after.has_value());
  EXPECT_EQ(q.after->pk, 42);
  EXPECT_EQ(q.after->values, (std::vector<std::string>{"i123"}));
  EXPECT_EQ(ParseError("Observation", {{"_sort", "date"}, {"_page", token}}).location(), "_page");
  EXPECT_EQ(ParseError("Observation", {{"_page", token}}).code(), StatusCode::kInvalid);
  PageCursor text{7, {"s a|b\n,c"}};
  auto back = DecodePageToken({{"name", false, SearchParamType::kString}},
                              EncodePageToken({{"name", false, SearchParamType::kString}}, text));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->values, text.values);
  EXPECT_FALSE(back->total.has_value());  // none carried

  // The first page's Bundle.total rides along (D35): a count, or -1 for "not reported".
  for (int64_t total : {int64_t{0}, int64_t{1234}, int64_t{-1}}) {
    PageCursor counted{9, {"i1"}, total};
    auto t = DecodePageToken(sort, EncodePageToken(sort, counted));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->total, total);
    EXPECT_EQ(t->pk, 9);
  }
  // Without _total, counting is capped; _total=accurate and _summary=count are not.
  EXPECT_EQ(ParseOk("Observation", {}).total_limit, kDefaultTotalLimit);
  EXPECT_EQ(ParseOk("Observation", {{"_total", "accurate"}}).total_limit, 0);
  EXPECT_EQ(ParseOk("Observation", {{"_total", "estimate"}}).total_limit, kEstimateLimit);
  EXPECT_EQ(ParseOk("Observation", {{"_summary", "count"}}).total_limit, 0);
}

TEST(IndexKeys, ParamKeysAreUniqueAcrossTypesWithinAnIndexTable) {
  // A system search and compartment search match parameters by key alone (t.param IN (...)):
  // no two (type, parameter) pairs of the same parameter type may share a key.
  std::map<std::pair<int, int64_t>, std::string> seen;
  for (std::string_view type : fhir::ResourceTypes()) {
    for (const fhir::SearchParamDef& def : fhir::SearchParams(type)) {
      std::string name = std::string(type) + "." + std::string(def.code);
      auto [it, inserted] =
          seen.emplace(std::make_pair(static_cast<int>(def.type), ParamKey(type, def.code)), name);
      EXPECT_TRUE(inserted) << name << " collides with " << it->second;
      // the token rows of :identifier (under a reference's code) and :of-type
      std::string extra = def.type == SearchParamType::kReference ? std::string(def.code)
                          : def.code == "identifier"              ? "identifier:of-type"
                                                                  : "";
      if (!extra.empty()) {
        auto [it2, ok2] = seen.emplace(
            std::make_pair(static_cast<int>(SearchParamType::kToken), ParamKey(type, extra)),
            std::string(type) + "." + extra + " (token rows)");
        EXPECT_TRUE(ok2) << type << "." << extra << " collides with " << it2->second;
      }
    }
  }
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
