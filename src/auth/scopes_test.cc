#include "auth/scopes.h"

#include <gtest/gtest.h>

namespace carechart::auth {
namespace {

Principal WithScopes(std::string scopes, Role role = Role::kPhysician) {
  Principal p;
  p.role = role;
  p.scopes = SplitScopes(scopes);
  return p;
}

TEST(Scopes, ParsesV2AndV1) {
  std::string err;
  auto s = ParseResourceScope("patient/Observation.rs", &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->context, ScopeContext::kPatient);
  EXPECT_EQ(s->type, "Observation");
  EXPECT_EQ(s->permissions, "rs");
  EXPECT_EQ(ParseResourceScope("user/*.read", nullptr)->permissions, "rs");
  EXPECT_EQ(ParseResourceScope("user/*.write", nullptr)->permissions, "cud");
  EXPECT_EQ(ParseResourceScope("system/*.*", nullptr)->permissions, "cruds");
  EXPECT_EQ(ParseResourceScope("system/*.cruds", nullptr)->permissions, "cruds");
}

TEST(Scopes, RejectsMalformed) {
  std::string err;
  EXPECT_FALSE(ParseResourceScope("patient/Observation.sr", &err));  // out of order
  EXPECT_NE(err.find("order"), std::string::npos);
  EXPECT_FALSE(ParseResourceScope("patient/Observation.rr", nullptr));
  EXPECT_FALSE(ParseResourceScope("patient/Observation.x", nullptr));
  EXPECT_FALSE(ParseResourceScope("patient/Observation", nullptr));
  EXPECT_FALSE(ParseResourceScope("group/Observation.r", nullptr));
  EXPECT_FALSE(ParseResourceScope("patient/observation.r", nullptr));
  EXPECT_FALSE(ParseResourceScope("patient/Observation.rs?code=1234", nullptr));
  EXPECT_FALSE(ParseResourceScope("patient/Observation.rs?category=", nullptr));
}

TEST(Scopes, GranularCategory) {
  auto s = ParseResourceScope(
      "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/"
      "observation-category|laboratory",
      nullptr);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->has_category);
  EXPECT_EQ(s->category_code, "laboratory");
  EXPECT_EQ(ScopeText(*s),
            "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/"
            "observation-category|laboratory");
  Principal p = WithScopes("patient/Observation.rs?category=laboratory");
  auto lab = json::Parse(
      R"({"resourceType":"Observation","category":[{"coding":[{"system":"x","code":"laboratory"}]}]})");
  auto vital = json::Parse(
      R"({"resourceType":"Observation","category":[{"coding":[{"code":"vital-signs"}]}]})");
  EXPECT_TRUE(ScopesAllow(p, "Observation", 's'));  // type level: results filtered one by one
  EXPECT_TRUE(NeedsResourceCheck(p, "Observation", 's'));
  EXPECT_TRUE(ScopesAllow(p, "Observation", 'r', &*lab));
  EXPECT_FALSE(ScopesAllow(p, "Observation", 'r', &*vital));
  EXPECT_FALSE(ScopesAllow(p, "Condition", 'r'));
}

TEST(Scopes, AllowChecksTypeAndLetter) {
  Principal p = WithScopes("user/Observation.rs user/Patient.cruds openid");
  EXPECT_TRUE(ScopesAllow(p, "Observation", 'r'));
  EXPECT_TRUE(ScopesAllow(p, "Observation", 's'));
  EXPECT_FALSE(ScopesAllow(p, "Observation", 'c'));
  EXPECT_TRUE(ScopesAllow(p, "Patient", 'd'));
  EXPECT_FALSE(ScopesAllow(p, "Encounter", 'r'));
  EXPECT_FALSE(NeedsResourceCheck(p, "Observation", 'r'));
  EXPECT_EQ(MissingScopeText(p, "Encounter", 'r'), "user/Encounter.r");
  Principal sys = WithScopes("", Role::kSystem);
  EXPECT_TRUE(ScopesAllow(sys, "Encounter", 'd'));
  Principal none = WithScopes("");
  EXPECT_FALSE(ScopesAllow(none, "Patient", 'r'));
}

TEST(Scopes, PatientOnly) {
  Principal p = WithScopes("patient/*.rs");
  EXPECT_TRUE(OnlyPatientScopes(p, "Observation", 'r'));
  p = WithScopes("patient/*.rs user/Observation.r");
  EXPECT_FALSE(OnlyPatientScopes(p, "Observation", 'r'));
  EXPECT_TRUE(OnlyPatientScopes(p, "Condition", 'r'));
}

TEST(Scopes, IntersectNarrows) {
  auto g =
      IntersectScopes(SplitScopes("user/*.cruds patient/Observation.read openid launch bogus/x.r"),
                      SplitScopes("user/*.rs patient/*.rs openid"));
  EXPECT_EQ(JoinScopes(g), "user/*.rs patient/Observation.rs openid");
  g = IntersectScopes(SplitScopes("system/*.rs"),
                      SplitScopes("system/Patient.cruds system/Observation.r"));
  EXPECT_EQ(JoinScopes(g), "system/Patient.rs system/Observation.r");
  g = IntersectScopes(SplitScopes("user/Observation.rs"),
                      SplitScopes("user/Observation.rs?category=laboratory"));
  EXPECT_EQ(JoinScopes(g), "user/Observation.rs?category=laboratory");
  g = IntersectScopes(SplitScopes("user/*.cruds"), SplitScopes("system/*.cruds"));
  EXPECT_TRUE(g.empty());
}

TEST(Scopes, GranularScopesOnly) {
  // A plain scope on the type (or on *) covers every category: no restriction.
  auto p = WithScopes("user/Observation.rs user/Observation.rs?category=laboratory");
  EXPECT_FALSE(GranularScopesOnly(p, "Observation", "rs"));
  // Only category scopes: they are the restriction (one per granted category).
  p = WithScopes(
      "user/Observation.rs?category=laboratory user/Observation.r?category=vital-signs "
      "user/Patient.rs");
  auto g = GranularScopesOnly(p, "Observation", "rs");
  ASSERT_TRUE(g);
  ASSERT_EQ(g->size(), 2u);
  EXPECT_EQ((*g)[0].category_code, "laboratory");
  EXPECT_EQ((*g)[1].category_code, "vital-signs");
  EXPECT_EQ(GranularScopesOnly(p, "Observation", "s")->size(), 1u);
  EXPECT_FALSE(GranularScopesOnly(p, "Patient", "rs"));
  // No scope at all on the type: an empty restriction (nothing visible).
  EXPECT_TRUE(GranularScopesOnly(p, "Condition", "rs")->empty());
  // "*" asks about every type at once: only a plain scope on * answers "unrestricted".
  EXPECT_TRUE(GranularScopesOnly(p, "*", "rs"));
  EXPECT_FALSE(GranularScopesOnly(WithScopes("system/*.rs", Role::kBackendService), "*", "rs"));
  EXPECT_FALSE(GranularScopesOnly(WithScopes("", Role::kSystem), "Observation", "rs"));
}

}  // namespace
}  // namespace carechart::auth
