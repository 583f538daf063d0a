// ApplySummary / ApplyElements over R4 specification examples (CARECHART_SHARED_DATA).
#include "fhir/summary.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace carechart::fhir {
namespace {

namespace fs = std::filesystem;
using Names = std::vector<std::string>;

std::optional<json::Value> LoadExample(const std::string& name) {
  const char* env = std::getenv("CARECHART_SHARED_DATA");
  const fs::path p = fs::path(env != nullptr ? env : CARECHART_SHARED_DATA) / "fhir-examples" /
                     "r4-spec-examples" / name;
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = json::Parse(ss.str());
  if (!parsed.ok()) {
    return std::nullopt;
  }
  return std::move(parsed).value();
}

#define LOAD_OR_SKIP(var, name)                                                               \
  auto var##_opt = LoadExample(name);                                                         \
  if (!var##_opt) GTEST_SKIP() << "example " << name << " absent: set CARECHART_SHARED_DATA"; \
  json::Value& var = *var##_opt

Names Keys(const json::Value& v) {
  Names out;
  for (const auto& [k, _] : v.members()) {
    out.push_back(k);
  }
  return out;
}

int SubsettedTags(const json::Value& resource) {
  const json::Value* meta = resource.find("meta");
  const json::Value* tags = meta != nullptr ? meta->find("tag") : nullptr;
  int n = 0;
  for (const json::Value& t : tags != nullptr ? tags->items() : std::vector<json::Value>{}) {
    n += t.string_at("code") == "SUBSETTED" &&
         t.string_at("system") == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
  }
  return n;
}

TEST(Summary, PatientExample) {
  LOAD_OR_SKIP(p, "Patient-example.json");
  const json::Value name_before = *p.find("name");
  ApplySummary(p);
  // text and contact (not isSummary) go; meta is added right after id; _birthDate follows
  // birthDate.
  EXPECT_EQ(Keys(p), (Names{"resourceType", "id", "meta", "identifier", "active", "name", "telecom",
                            "gender", "birthDate", "_birthDate", "deceasedBoolean", "address",
                            "managingOrganization"}));
  EXPECT_EQ(*p.find("name"), name_before);  // datatypes are kept whole
  EXPECT_EQ(SubsettedTags(p), 1);
  ApplySummary(p);
  EXPECT_EQ(SubsettedTags(p), 1);  // the tag is added once
}

TEST(Summary, ObservationExample) {
  LOAD_OR_SKIP(o, "Observation-example.json");
  ApplySummary(o);
  // category is not isSummary in R4; value[x] and effective[x] are.
  EXPECT_EQ(Keys(o), (Names{"resourceType", "id", "meta", "status", "code", "subject", "encounter",
                            "effectiveDateTime", "valueQuantity"}));
  EXPECT_EQ(SubsettedTags(o), 1);
}

TEST(Summary, BackboneElementsAreFiltered) {
  LOAD_OR_SKIP(o, "Observation-blood-pressure.json");
  ApplySummary(o);
  EXPECT_EQ(Keys(o), (Names{"resourceType", "id", "meta", "identifier", "basedOn", "status", "code",
                            "subject", "effectiveDateTime", "performer", "component"}));
  for (const json::Value& c : o.find("component")->items()) {
    EXPECT_EQ(Keys(c), (Names{"code", "valueQuantity"}));  // interpretation is not summary
  }
  // The existing meta keeps its profile and gains the tag.
  EXPECT_EQ(Keys(*o.find("meta")), (Names{"profile", "tag"}));
  EXPECT_EQ(SubsettedTags(o), 1);
}

TEST(Summary, UnknownResourceTypeIsLeftAlone) {
  auto v = json::Parse(R"({"resourceType":"NotAType","id":"x","foo":1})");
  ASSERT_TRUE(v.ok());
  json::Value r = std::move(v).value();
  ApplySummary(r);
  EXPECT_EQ(Keys(r), (Names{"resourceType", "id", "foo"}));
}

TEST(Elements, PatientExample) {
  LOAD_OR_SKIP(p, "Patient-example.json");
  ApplyElements(p, {"birthDate", " gender", "name.family"});
  EXPECT_EQ(Keys(p),
            (Names{"resourceType", "id", "meta", "name", "gender", "birthDate", "_birthDate"}));
  EXPECT_EQ(SubsettedTags(p), 1);
}

TEST(Elements, ObservationKeepsMandatoryAndChoice) {
  for (const std::string listed : {"value", "value[x]"}) {
    LOAD_OR_SKIP(o, "Observation-example.json");
    ApplyElements(o, {listed});
    // status and code are mandatory (min 1) and always kept.
    EXPECT_EQ(Keys(o), (Names{"resourceType", "id", "meta", "status", "code", "valueQuantity"}))
        << listed;
  }
  LOAD_OR_SKIP(o, "Observation-example.json");
  ApplyElements(o, {"subject", "effective"});
  EXPECT_EQ(Keys(o), (Names{"resourceType", "id", "meta", "status", "code", "subject",
                            "effectiveDateTime"}));
  EXPECT_EQ(SubsettedTags(o), 1);
}

}  // namespace
}  // namespace carechart::fhir
