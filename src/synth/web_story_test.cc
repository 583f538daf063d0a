// The web stories' resources and the terminology set are valid R4 with unique ids, dated from
// the day they are made for (src/synth/web_story.cc, terminology.ndjson).
#include "synth/web_story.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "fhir/json.h"
#include "fhir/validator.h"

namespace carechart::synth {
namespace {

void ExpectValid(const std::string& type, const std::string& id, std::string_view text) {
  auto parsed = json::Parse(text);
  ASSERT_TRUE(parsed.ok()) << type << "/" << id << ": " << parsed.status().ToString();
  EXPECT_EQ(parsed->string_at("resourceType"), type);
  EXPECT_EQ(parsed->string_at("id"), id);
  for (const auto& issue : fhir::Validate(*parsed)) {
    if (issue.severity == fhir::IssueSeverity::kError ||
        issue.severity == fhir::IssueSeverity::kFatal) {
      ADD_FAILURE() << type << "/" << id << " " << issue.location << ": " << issue.message;
    }
  }
}

TEST(WebStory, ResourcesAreValidWithUniqueIds) {
  const Day today = DayFromCivil(2026, 11, 23);  // a Monday
  auto resources = WebStoryResources(today, -8 * 60);
  std::set<std::string> keys;
  std::map<std::string, int> per_type;
  for (const WebResource& r : resources) {
    EXPECT_TRUE(keys.insert(r.type + "/" + r.id).second) << "duplicate " << r.id;
    ++per_type[r.type];
    ExpectValid(r.type, r.id, r.json);
    EXPECT_FALSE(r.facility.empty()) << r.id;
  }
  EXPECT_EQ(per_type["Schedule"], 2);
  EXPECT_EQ(per_type["Appointment"], 7);    // six today, María's next at endocrinology
  EXPECT_EQ(per_type["Slot"], 2 * 10 * 6);  // two weeks of weekdays after today, 6 a morning
  EXPECT_EQ(per_type["Task"], 2);
  EXPECT_EQ(per_type["Communication"], 2);
  // Today's clinic is dated today, in the region's time zone.
  int on_today = 0;
  for (const WebResource& r : resources) {
    if (r.type == "Appointment" && r.json.find("\"start\":\"2026-11-23T") != std::string::npos &&
        r.json.find("-08:00\"") != std::string::npos) {
      ++on_today;
    }
  }
  EXPECT_EQ(on_today, 6);
}

TEST(WebStory, TheScheduleMovesWithTheDay) {
  auto a = WebStoryResources(DayFromCivil(2026, 11, 23));
  auto b = WebStoryResources(DayFromCivil(2026, 11, 24));
  ASSERT_FALSE(a.empty());
  std::set<std::string> ids_a, ids_b;
  for (const auto& r : a) ids_a.insert(r.id);
  for (const auto& r : b) ids_b.insert(r.id);
  EXPECT_NE(ids_a, ids_b);
  EXPECT_TRUE(ids_b.count("appt-20261124-3"));
}

TEST(WebStory, TerminologyIsValidAndCoversTheDemoCodes) {
  std::string_view text = TerminologyNdjson();
  std::set<std::string> ids;
  size_t concepts = 0;
  std::string all(text);
  while (!text.empty()) {
    std::string_view line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), line.size() + 1));
    if (line.empty()) {
      continue;
    }
    auto v = json::Parse(line);
    ASSERT_TRUE(v.ok());
    std::string type(v->string_at("resourceType")), id(v->string_at("id"));
    EXPECT_TRUE(ids.insert(type + "/" + id).second) << id;
    ExpectValid(type, id, line);
    if (const json::Value* c = v->find("concept"); c && c->is_array()) {
      concepts += c->items().size();
    }
  }
  EXPECT_GE(concepts, 350u);
  // The story's codes: diabetes (ICD-10-CM, SNOMED CT), HbA1c, the penicillin allergy, the
  // amoxicillin-clavulanate the emergency department ordered, metformin.
  for (const char* code :
       {"\"E11.9\"", "\"44054006\"", "\"4548-4\"", "\"764146007\"", "\"562508\"", "\"860975\""}) {
    EXPECT_NE(all.find(code), std::string::npos) << code;
  }
}

}  // namespace
}  // namespace carechart::synth
