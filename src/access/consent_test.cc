// Consent resources to restrictions (consent.h), and break-the-glass grant resources.
#include "access/consent.h"

#include <gtest/gtest.h>

#include "access/break_glass.h"
#include "fhir/datetime.h"

namespace carechart::access {
namespace {

json::Value Parse(std::string_view text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? std::move(v).value() : json::Value::Object();
}

constexpr int64_t kNow = 1'800'000'000'000'000;  // 2027-01-15

TEST(Consent, DenyWithoutLabelsRestrictsTheWholeRecord) {
  auto r = RestrictionsFrom({Parse(R"({"resourceType": "Consent", "id": "c1", "status": "active",
      "provision": {"type": "deny"}})")},
                            kNow);
  EXPECT_TRUE(r.whole_record);
  EXPECT_TRUE(r.categories.empty());
  EXPECT_EQ(r.consent_ids, std::vector<std::string>{"c1"});
}

TEST(Consent, NestedDenyWithLabelsRestrictsCategories) {
  auto r = RestrictionsFrom({Parse(R"({"resourceType": "Consent", "id": "c2", "status": "active",
      "provision": {"type": "permit", "provision": [
        {"type": "deny", "securityLabel": [{"code": "PSY"}, {"code": "SUD"}]},
        {"type": "deny", "securityLabel": [{"code": "HIV"}],
         "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "ETREAT"}]}]}})")},
                            kNow);
  EXPECT_FALSE(r.whole_record);
  EXPECT_EQ(r.categories, (std::set<std::string, std::less<>>{"ETH", "HIV", "PSY"}));
  EXPECT_EQ(r.categories_binding_in_emergency, (std::set<std::string, std::less<>>{"HIV"}));
}

TEST(Consent, InactiveAndExpiredConsentsRestrictNothing) {
  auto r = RestrictionsFrom(
      {Parse(R"({"resourceType": "Consent", "status": "inactive", "provision": {"type": "deny"}})"),
       Parse(R"({"resourceType": "Consent", "status": "active",
         "provision": {"type": "deny", "period": {"end": "2020-01-01"}}})"),
       Parse(R"({"resourceType": "Consent", "status": "active",
         "provision": {"type": "deny", "period": {"start": "2099-01-01"}}})")},
      kNow);
  EXPECT_FALSE(r.whole_record);
  EXPECT_TRUE(r.consent_ids.empty());
}

TEST(BreakGlass, GrantRoundTripsAndReviewMarksIt) {
  auth::Principal dr;
  dr.role = auth::Role::kPhysician;
  dr.user_id = "er-doc";
  dr.practitioner_id = "pr-9";
  json::Value g = NewGrantResource(dr, "p1", "unconscious in ER", kNow, kNow + 3600'000'000LL);
  g.set("id", json::Value::String("g1"));
  auto parsed = ParseGrant(g);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->patient_id, "p1");
  EXPECT_EQ(parsed->user, "er-doc");
  EXPECT_EQ(parsed->reason, "unconscious in ER");
  EXPECT_EQ(parsed->end_us - parsed->start_us, 3600'000'000LL);
  EXPECT_FALSE(parsed->reviewed);
  auth::Principal po;
  po.role = auth::Role::kPrivacyOfficer;
  po.user_id = "privacy";
  MarkReviewed(g, po, "justified", kNow + 10);
  parsed = ParseGrant(g);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(parsed->reviewed);
  EXPECT_NE(json::Write(g).find("\"reviewed\""), std::string::npos);
  EXPECT_EQ(json::Write(g).find("\"pending\""), std::string::npos);
}

}  // namespace
}  // namespace carechart::access
