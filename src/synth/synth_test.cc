#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fhir/json.h"
#include "fhir/validator.h"
#include "synth/dates.h"
#include "synth/generator.h"
#include "synth/json_writer.h"
#include "synth/sinks.h"

namespace carechart::synth {
namespace {

struct Collected : ResourceSink {
  void Add(RType type, std::string_view id, std::string_view json) override {
    items.push_back({std::string(TypeName(type)), std::string(id), std::string(json)});
  }
  struct Item {
    std::string type, id, json;
  };
  std::vector<Item> items;
};

std::string Generate(int64_t patients, uint64_t seed) {
  Options o;
  o.patients = patients;
  o.seed = seed;
  auto g = Generator::Create(o);
  EXPECT_TRUE(g.ok());
  NdjsonStringSink sink;
  g->WriteAll(sink);
  return sink.text;
}

void CollectReferences(const json::Value& v, std::vector<std::string>* out) {
  if (v.is_object()) {
    for (const auto& [k, m] : v.members()) {
      if (k == "reference" && m.is_string()) {
        out->push_back(m.text());
      } else {
        CollectReferences(m, out);
      }
    }
  } else if (v.is_array()) {
    for (const auto& item : v.items()) {
      CollectReferences(item, out);
    }
  }
}

TEST(SynthTest, JsonWriterEscapesAndFormats) {
  JsonWriter w;
  w.Obj().Str("s", "a\"b\\c\nd\x01é").Dec("d", 6.95, 1).Dec("n", -0.5, 2).Int("i", -3);
  w.Date("day", DayFromCivil(2024, 2, 29)).DateTime("t", At(DayFromCivil(1999, 12, 31), 23, 59));
  w.Arr("a").Str("x").Int(1).End().End();
  EXPECT_EQ(w.text(), R"({"s":"a\"b\\c\nd\u0001é","d":7.0,"n":-0.50,"i":-3,"day":"2024-02-29",)"
                      R"("t":"1999-12-31T23:59:00Z","a":["x",1]})");
  auto parsed = json::Parse(w.text());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->string_at("s"), "a\"b\\c\nd\x01é");
  EXPECT_EQ(ParseDate("2026-02-30"), std::nullopt);
  EXPECT_EQ(AgeOn(DayFromCivil(1962, 4, 17), DayFromCivil(2026, 4, 16)), 63);
}

TEST(SynthTest, SameSeedSameBytesOtherSeedOtherBytes) {
  std::string a = Generate(30, 7), b = Generate(30, 7), c = Generate(30, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // A patient does not depend on how many are generated.
  std::string small = Generate(10, 7);
  EXPECT_EQ(a.substr(0, small.size()), small);
}

TEST(SynthTest, EveryResourceIsValidAndEveryReferenceResolves) {
  Options o;
  o.patients = 50;
  o.seed = 42;
  auto g = Generator::Create(o);
  ASSERT_TRUE(g.ok());
  Collected c;
  g->WriteAll(c);
  std::set<std::string> keys;
  std::map<std::string, int> per_type;
  for (const auto& item : c.items) {
    EXPECT_TRUE(keys.insert(item.type + "/" + item.id).second) << "duplicate " << item.id;
    ++per_type[item.type];
  }
  int errors = 0;
  for (const auto& item : c.items) {
    auto parsed = json::Parse(item.json);
    ASSERT_TRUE(parsed.ok()) << item.json;
    EXPECT_EQ(parsed->string_at("id"), item.id);
    for (const auto& issue : fhir::Validate(*parsed)) {
      if (issue.severity == fhir::IssueSeverity::kError ||
          issue.severity == fhir::IssueSeverity::kFatal) {
        if (++errors <= 20) {
          ADD_FAILURE() << item.type << "/" << item.id << " " << issue.location << ": "
                        << issue.message;
        }
      }
    }
    std::vector<std::string> refs;
    CollectReferences(*parsed, &refs);
    for (const auto& r : refs) {
      EXPECT_TRUE(keys.count(r)) << item.type << "/" << item.id << " refers to missing " << r;
    }
  }
  EXPECT_EQ(errors, 0);
  std::printf("[ synth    ] 50 patients: %zu resources in %zu types\n", c.items.size(),
              per_type.size());
  for (const char* t : {"Organization",
                        "Location",
                        "Practitioner",
                        "PractitionerRole",
                        "Patient",
                        "Encounter",
                        "Condition",
                        "Observation",
                        "DiagnosticReport",
                        "MedicationRequest",
                        "MedicationDispense",
                        "Immunization",
                        "AllergyIntolerance",
                        "Procedure",
                        "ImagingStudy",
                        "CarePlan",
                        "CareTeam",
                        "Coverage",
                        "Claim",
                        "ExplanationOfBenefit",
                        "ServiceRequest"}) {
    EXPECT_GT(per_type[t], 0) << t;
  }
}

TEST(SynthTest, StoryPatientTimeline) {
  Options o;
  o.patients = 1;
  auto g = Generator::Create(o);
  ASSERT_TRUE(g.ok());
  Collected c;
  g->WriteAll(c);
  struct Visit {
    std::string start, org;
  };
  std::vector<Visit> visits;
  std::vector<std::pair<std::string, std::string>> a1c;  // date, value
  std::string allergy_recorded, amox_ordered, amox_requester;
  std::vector<std::string> meds;
  bool patient = false;
  for (const auto& item : c.items) {
    auto v = json::Parse(item.json);
    ASSERT_TRUE(v.ok());
    if (item.type == "Patient") {
      patient = item.id == "demo-maria-lopez";
    } else if (item.type == "Encounter") {
      const json::Value* sp = v->find("serviceProvider");
      const json::Value* period = v->find("period");
      visits.push_back(
          {std::string(period->string_at("start")), std::string(sp->string_at("reference"))});
    } else if (item.type == "Observation" &&
               item.json.find("\"code\":\"4548-4\"") != std::string::npos) {
      a1c.push_back({std::string(v->string_at("effectiveDateTime")),
                     v->find("valueQuantity")->find("value")->text()});
    } else if (item.type == "AllergyIntolerance" &&
               item.json.find("\"code\":\"764146007\"") != std::string::npos) {
      allergy_recorded = v->string_at("recordedDate");
    } else if (item.type == "MedicationRequest") {
      std::string code(
          v->find("medicationCodeableConcept")->find("coding")->items()[0].string_at("code"));
      meds.push_back(code);
      if (code == "562508") {
        amox_ordered = v->string_at("authoredOn");
        amox_requester = v->find("requester")->string_at("reference");
      }
    }
  }
  ASSERT_TRUE(patient);
  // Chronological visits across primary care, endocrinology, podiatry, the ED and the hospital.
  std::stable_sort(visits.begin(), visits.end(),
                   [](const Visit& a, const Visit& b) { return a.start < b.start; });
  std::vector<std::string> first_at;
  for (size_t i = 0; i < visits.size(); ++i) {
    bool seen = false;
    for (const auto& f : first_at) {
      seen |= f == visits[i].org;
    }
    if (!seen) {
      first_at.push_back(visits[i].org);
    }
  }
  std::vector<std::string> expected = {
      "Organization/riverside-primary-care", "Organization/lakeside-endocrinology",
      "Organization/northgate-podiatry", "Organization/mercy-emergency",
      "Organization/mercy-hospital"};
  EXPECT_EQ(first_at, expected);
  ASSERT_GE(a1c.size(), 10u);
  EXPECT_EQ(a1c.front().second, "7.8");
  EXPECT_EQ(a1c.back().second, "8.4");
  for (size_t i = 1; i < a1c.size(); ++i) {
    EXPECT_LT(a1c[i - 1].first, a1c[i].first);
  }
  // Metformin, then insulin, then the amoxicillin-clavulanate order despite the allergy.
  ASSERT_GE(meds.size(), 4u);
  auto pos = [&](const std::string& code) {
    for (size_t i = 0; i < meds.size(); ++i) {
      if (meds[i] == code) {
        return static_cast<int>(i);
      }
    }
    return -1;
  };
  EXPECT_GE(pos("860975"), 0);
  EXPECT_GT(pos("847232"), pos("860975"));
  EXPECT_GT(pos("562508"), pos("847232"));
  ASSERT_FALSE(allergy_recorded.empty());
  EXPECT_LT(allergy_recorded, amox_ordered.substr(0, 10));
  EXPECT_EQ(amox_requester.rfind("Practitioner/prac-ed-", 0), 0u) << amox_requester;
}

TEST(SynthTest, DistributionsFor1000PatientsAndSpeed) {
  Options o;
  o.patients = 1000;
  o.seed = 2026;
  auto g = Generator::Create(o);
  ASSERT_TRUE(g.ok());
  struct Stats : ResourceSink {
    void Add(RType type, std::string_view id, std::string_view json) override {
      ++resources;
      bytes += json.size();
      if (type == RType::kPatient) {
        ++patients;
        auto p = json.find("\"birthDate\":\"");
        int year = std::stoi(std::string(json.substr(p + 13, 4)));
        ages.push_back(2026 - year);
        current = std::string(id);
      }
      if (type == RType::kCondition && json.find("\"44054006\"") != std::string::npos &&
          current != last_diabetic) {
        ++diabetic;
        last_diabetic = current;
      }
      if (type == RType::kCondition && json.find("\"59621000\"") != std::string::npos &&
          current != last_htn) {
        ++hypertensive;
        last_htn = current;
      }
    }
    int64_t resources = 0, bytes = 0, patients = 0, diabetic = 0, hypertensive = 0;
    std::vector<int> ages;
    std::string current, last_diabetic, last_htn;
  } s;
  auto start = std::chrono::steady_clock::now();
  g->WriteAll(s);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(s.patients, 1000);
  int adults = 0, old = 0;
  for (int a : s.ages) {
    EXPECT_GE(a, 0);
    EXPECT_LE(a, 97);
    adults += a >= 18;
    old += a >= 65;
  }
  EXPECT_GT(adults, 700);
  EXPECT_LT(adults, 850);
  EXPECT_GT(old, 120);
  EXPECT_LT(old, 250);
  // Diagnosed (recorded) prevalence: diabetes about 10%, hypertension about 30% of adults.
  EXPECT_GT(s.diabetic, 60);
  EXPECT_LT(s.diabetic, 150);
  EXPECT_GT(s.hypertensive, adults * 0.2);
  EXPECT_LT(s.hypertensive, adults * 0.42);
  std::printf(
      "[ synth    ] 1000 patients: %lld resources (%.0f per patient, %.1f MB) in %.2f s: %.0f "
      "resources/s; diabetes %lld, hypertension %lld of %d adults\n",
      static_cast<long long>(s.resources), s.resources / 1000.0, s.bytes / 1e6, seconds,
      s.resources / seconds, static_cast<long long>(s.diabetic),
      static_cast<long long>(s.hypertensive), adults);
}

}  // namespace
}  // namespace carechart::synth
