#include "rest/reference_rewrite.h"

#include <gtest/gtest.h>

namespace carechart::rest {
namespace {

json::Value P(const char* text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : json::Value();
}

TEST(ReferenceRewriteTest, RecognisesConditionalReferences) {
  EXPECT_TRUE(IsConditionalReference("Organization?identifier=https://x|1"));
  EXPECT_TRUE(IsConditionalReference("Patient?name=a"));
  EXPECT_FALSE(IsConditionalReference("Patient/123"));
  EXPECT_FALSE(IsConditionalReference("?identifier=a"));
  EXPECT_FALSE(IsConditionalReference("Foo?identifier=a"));
  EXPECT_FALSE(IsConditionalReference("urn:uuid:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"));
}

TEST(ReferenceRewriteTest, RewritesFullUrlsAndConditionalReferencesAtAnyDepth) {
  json::Value r = P(R"({"resourceType":"Encounter",
    "subject":{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111","display":"P"},
    "participant":[{"individual":{"reference":"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9"}}],
    "extension":[{"url":"http://x","valueReference":{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111"}}],
    "contained":[{"resourceType":"Observation","subject":{"reference":"http://other/fhir/Patient/7"}}],
    "serviceProvider":{"reference":"Organization/keep"},
    "identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:uuid:11111111-1111-4111-8111-111111111111"}],
    "partOf":{"reference":"#contained"}})");
  ReferenceMap map;
  map.full_urls["urn:uuid:11111111-1111-4111-8111-111111111111"] = "Patient/new-1";
  map.full_urls["http://other/fhir/Patient/7"] = "Patient/7";
  map.conditional["Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9"] = "Practitioner/pr";
  ASSERT_TRUE(RewriteReferences(r, "Bundle.entry[0].resource", map).ok());
  EXPECT_EQ(r.find("subject")->string_at("reference"), "Patient/new-1");
  EXPECT_EQ(r.find("subject")->string_at("display"), "P");
  EXPECT_EQ(r.find("participant")->items()[0].find("individual")->string_at("reference"),
            "Practitioner/pr");
  EXPECT_EQ(r.find("extension")->items()[0].find("valueReference")->string_at("reference"),
            "Patient/new-1");
  EXPECT_EQ(r.find("contained")->items()[0].find("subject")->string_at("reference"), "Patient/7");
  EXPECT_EQ(r.find("serviceProvider")->string_at("reference"), "Organization/keep");
  EXPECT_EQ(r.find("partOf")->string_at("reference"), "#contained");
  // An identifier whose value happens to be a urn:uuid is data, not a reference.
  EXPECT_EQ(r.find("identifier")->items()[0].string_at("value"),
            "urn:uuid:11111111-1111-4111-8111-111111111111");
}

TEST(ReferenceRewriteTest, UnknownUuidIsAnErrorNamingThePath) {
  json::Value r = P(R"({"resourceType":"Observation","performer":[{"reference":"Patient/1"},
    {"reference":"urn:uuid:22222222-2222-4222-8222-222222222222"}]})");
  ReferenceMap map;
  map.unresolved_hint = " (hint)";
  Status s = RewriteReferences(r, "Bundle.entry[4].resource", map);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  EXPECT_EQ(s.location(), "Bundle.entry[4].resource.performer[1].reference");
  EXPECT_NE(s.message().find("urn:uuid:22222222-2222-4222-8222-222222222222"), std::string::npos);
  EXPECT_NE(s.message().find("(hint)"), std::string::npos);
}

TEST(ReferenceRewriteTest, UnresolvedConditionalReferenceIsAnError) {
  json::Value r =
      P(R"({"resourceType":"Observation","subject":{"reference":"Patient?identifier=a|b"}})");
  Status s = RewriteReferences(r, "Bundle.entry[0].resource", ReferenceMap{});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.location(), "Bundle.entry[0].resource.subject.reference");
}

TEST(ReferenceRewriteTest, CollectsDistinctConditionalReferences) {
  json::Value r = P(R"({"resourceType":"Claim",
    "provider":{"reference":"Organization?identifier=s|1"},
    "careTeam":[{"provider":{"reference":"Practitioner?identifier=n|2"}},
                {"provider":{"reference":"Practitioner?identifier=n|2"}}],
    "patient":{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111"}})");
  std::set<std::string> refs;
  CollectConditionalReferences(r, &refs);
  EXPECT_EQ(refs,
            (std::set<std::string>{"Organization?identifier=s|1", "Practitioner?identifier=n|2"}));
}

}  // namespace
}  // namespace carechart::rest
