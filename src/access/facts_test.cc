// FactsOfStored (the access check's partial parse) gives the same facts as FactsOf on the whole
// tree: on the R4 specification's examples, on synthetic patients and on hand-made edge cases.
#include "access/facts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fhir/definitions.h"
#include "fhir/json.h"
#include "synth/generator.h"

namespace carechart::access {
namespace {

std::string Describe(const ResourceFacts& f) {
  std::string out = f.type + "/" + f.id + " facility=" + f.facility_id + " patient=" + f.patient_id;
  out += " categories=";
  for (const auto& c : f.categories) {
    out += c + ",";
  }
  out += " sensitivity=";
  for (const auto& s : f.sensitivity) {
    out += s + ",";
  }
  return out;
}

// Compares both paths on `body`; returns false (with a test failure) when they differ.
bool SameFacts(const std::string& body, const PolicyConfig& config) {
  auto full = json::Parse(body);
  if (!full.ok()) {
    return true;  // not a resource this test is about
  }
  std::string type(full->string_at("resourceType"));
  ResourceFacts expected = FactsOf(*full, config);
  auto got = FactsOfStored(type, body, config);
  EXPECT_TRUE(got.ok()) << got.status().message();
  if (!got.ok()) {
    return false;
  }
  EXPECT_EQ(Describe(*got), Describe(expected)) << body.substr(0, 300);
  // With the patient the store keeps beside the body (the same PatientCompartmentOf at write
  // time), the compartment's elements are skipped and the facts are the same.
  auto with_stored = FactsOfStored(type, body, config, true, &expected.patient_id);
  EXPECT_TRUE(with_stored.ok());
  if (with_stored.ok()) {
    EXPECT_EQ(Describe(*with_stored), Describe(expected)) << body.substr(0, 300);
  }
  return Describe(*got) == Describe(expected);
}

TEST(FactsOfStored, CompartmentMembersComeFromTheExpressions) {
  const auto& obs = CompartmentMembers("Observation");
  ASSERT_TRUE(obs.has_value());
  EXPECT_NE(std::find(obs->begin(), obs->end(), "subject"), obs->end());
  EXPECT_NE(std::find(obs->begin(), obs->end(), "performer"), obs->end());
  const auto& patient = CompartmentMembers("Patient");
  ASSERT_TRUE(patient.has_value());
  EXPECT_TRUE(patient->empty());  // a Patient's compartment is its id
  // Every type in the patient compartment is decided from named paths (no whole-body fallback).
  std::vector<std::string> fallbacks;
  for (std::string_view type : fhir::ResourceTypes()) {
    if (!CompartmentMembers(type)) {
      fallbacks.emplace_back(type);
    }
  }
  EXPECT_TRUE(fallbacks.empty()) << "whole-body fallback for " << fallbacks.size()
                                 << " types, e.g. " << fallbacks.front();
}

TEST(FactsOfStored, EdgeCasesMatchTheWholeParse) {
  const PolicyConfig& config = DefaultPolicyConfig();
  // meta last, a facility tag, sensitivity by label and by code, choice-typed and primitive
  // extension members, escaped keys and values, nested objects skipped.
  EXPECT_TRUE(SameFacts(
      R"({"resourceType":"Observation","id":"o1","status":"final","text":{"status":"generated",)"
      R"("div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">\"x\" {}</div>"},)"
      R"("category":[{"coding":[{"code":"vital-signs"}]}],)"
      R"("code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"F32.1"}]},)"
      R"("subject":{"reference":"Patient/p\u0031"},"performer":[{"reference":"Practitioner/d"}],)"
      R"("valueString":"a","_valueString":{"extension":[]},)"
      R"("meta":{"tag":[{"system":"https://carechart.dev/fhir/CodeSystem/facility","code":"f1"}],)"
      R"("security":[{"code":"HIV"}]}})",
      config));
  EXPECT_TRUE(SameFacts(
      R"({"resourceType":"Encounter","id":"e","subject":{"reference":"Patient/p2"}})", config));
  EXPECT_TRUE(SameFacts(R"({"resourceType":"Patient","id":"p3","name":[{"family":"X"}]})", config));
  EXPECT_TRUE(SameFacts(
      R"({"resourceType":"Basic","id":"g","code":{"coding":[{"code":"emergency-access"}]},)"
      R"("subject":{"reference":"Patient/p4"}})",
      config));
  EXPECT_TRUE(SameFacts(R"({"resourceType":"Organization","id":"org"})", config));
  // Without the coded elements: labels still count, codes do not; every other fact is the same.
  const std::string coded =
      R"({"resourceType":"Condition","id":"c","meta":{"security":[{"code":"HIV"}]},)"
      R"("code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"F32.1"}]},)"
      R"("subject":{"reference":"Patient/p5"}})";
  auto with_codes = FactsOfStored("Condition", coded, config);
  auto labels_only = FactsOfStored("Condition", coded, config, /*code_sensitivity=*/false);
  ASSERT_TRUE(with_codes.ok() && labels_only.ok());
  EXPECT_EQ(with_codes->sensitivity, (std::set<std::string, std::less<>>{"HIV", "PSY"}));
  EXPECT_EQ(labels_only->sensitivity, (std::set<std::string, std::less<>>{"HIV"}));
  EXPECT_EQ(labels_only->patient_id, "p5");
  EXPECT_FALSE(FactsOfStored("Observation", "[1,2]", config).ok());
  EXPECT_FALSE(FactsOfStored("Observation", "{\"id\":", config).ok());
}

TEST(FactsOfStored, SyntheticPatientsMatchTheWholeParse) {
  struct Sink : synth::ResourceSink {
    void Add(synth::RType, std::string_view, std::string_view json) override {
      bodies.emplace_back(json);
    }
    std::vector<std::string> bodies;
  } sink;
  synth::Options options;
  options.patients = 3;
  auto gen = synth::Generator::Create(options);
  ASSERT_TRUE(gen.ok());
  gen->WriteAll(sink);
  ASSERT_GT(sink.bodies.size(), 500u);
  int differ = 0;
  for (const std::string& body : sink.bodies) {
    differ += SameFacts(body, DefaultPolicyConfig()) ? 0 : 1;
    if (differ > 5) {
      break;
    }
  }
  EXPECT_EQ(differ, 0);
}

TEST(FactsOfStored, SpecExamplesMatchTheWholeParse) {
  std::filesystem::path dir =
      std::filesystem::path(CARECHART_SHARED_DATA) / "fhir-examples" / "r4-spec-examples";
  if (!std::filesystem::is_directory(dir)) {
    GTEST_SKIP() << "no R4 examples at " << dir << " (shared test data not present)";
  }
  int compared = 0;
  int differ = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(file.path());
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = json::Parse(ss.str(), {.max_depth = 1000});
    if (!parsed.ok()) {
      continue;
    }
    std::vector<std::string> bodies{ss.str()};
    if (const json::Value* entries = parsed->find("entry"); entries && entries->is_array()) {
      for (const json::Value& e : entries->items()) {
        if (const json::Value* r = e.find("resource")) {
          bodies.push_back(json::Write(*r));
        }
      }
    }
    for (const std::string& body : bodies) {
      ++compared;
      differ += SameFacts(body, DefaultPolicyConfig()) ? 0 : 1;
    }
  }
  EXPECT_GT(compared, 500);
  EXPECT_EQ(differ, 0) << "of " << compared;
}

}  // namespace
}  // namespace carechart::access
