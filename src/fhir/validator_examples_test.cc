// Data-driven validator tests over the shared conformance material (CARECHART_SHARED_DATA):
// the 500 R4 specification examples must validate and round-trip; the reference validator's
// manifest cases must be accepted or rejected as the manifest says.
//
// Cases we cannot pass yet are listed in kKnownFailures with the reason. The test fails when a
// case outside the list fails, and also when a listed case passes, so the list stays true.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "fhir/json.h"
#include "fhir/validator.h"
#include "fhir/validator_internal.h"

namespace carechart::fhir {
namespace {

namespace fs = std::filesystem;

// Manifest cases (testName) that fail, and why. Keep in step with the validator.
const std::map<std::string, std::string> kKnownFailures = {};

// R4 specification examples that do not conform to the R4 StructureDefinitions themselves.
const std::map<std::string, std::string> kKnownBadExamples = {
    {"Questionnaire-qs1.json",
     "published example omits Questionnaire.item.linkId (min 1) on 49 nested items"},
};

std::string SharedData() {
  const char* env = std::getenv("CARECHART_SHARED_DATA");
  return env != nullptr ? env : CARECHART_SHARED_DATA;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Describe(const std::vector<ValidationIssue>& issues) {
  std::string out;
  for (const ValidationIssue& i : issues) {
    out += "  [" + i.code + "] " + i.location + ": " + i.message + "\n";
  }
  return out;
}

TEST(ValidatorExamples, ConstraintCoverage) {
  const validation::ConstraintCoverage c = validation::Coverage();
  std::printf("constraints: %d of %d error-severity constraints evaluated\n", c.evaluated,
              c.errors);
  for (const auto& [key, reason] : c.skipped) {
    std::printf("  skipped %s: %s\n", std::string(key).c_str(), std::string(reason).c_str());
  }
  EXPECT_EQ(c.evaluated + static_cast<int>(c.skipped.size()), c.errors);
  EXPECT_TRUE(c.skipped.empty());
  EXPECT_GT(c.evaluated, 200);
}

TEST(ValidatorExamples, SpecExamplesValidateAndRoundTrip) {
  const fs::path dir = fs::path(SharedData()) / "fhir-examples" / "r4-spec-examples";
  if (!fs::exists(dir)) {
    GTEST_SKIP() << "no shared data at " << dir << " (set CARECHART_SHARED_DATA)";
  }
  // The first Validate() compiles the constraints (once per process): not part of the timing.
  Validate(*json::Parse(R"({"resourceType":"Patient"})"));
  int total = 0;
  int passed = 0;
  int known = 0;
  double micros = 0;
  size_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") {
      continue;
    }
    ++total;
    const std::string text = ReadFile(entry.path());
    auto parsed = json::Parse(text);
    if (!parsed.ok()) {
      ADD_FAILURE() << entry.path().filename() << ": " << parsed.status().ToString();
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    const auto issues = Validate(*parsed);
    micros +=
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    bytes += text.size();
    auto reparsed = json::Parse(json::Write(*parsed));
    const bool round_trip = reparsed.ok() && *reparsed == *parsed;
    const std::string name = entry.path().filename().string();
    const bool known_bad = kKnownBadExamples.count(name) > 0;
    EXPECT_EQ(HasErrors(issues), known_bad)
        << name << (known_bad ? " is listed as known bad but validates" : "") << "\n"
        << Describe(issues);
    EXPECT_TRUE(round_trip) << name << " does not round-trip";
    passed += !HasErrors(issues) && round_trip ? 1 : 0;
    known += known_bad && HasErrors(issues) && round_trip ? 1 : 0;
  }
  std::printf("r4-spec-examples: %d/%d valid and round-tripped (+%d known-bad examples rejected)\n",
              passed, total, known);
  std::printf("validation speed: %.1f us per 5 KB (%.1f MB/s)\n", micros / (bytes / 5120.0),
              bytes / micros);
  EXPECT_EQ(total, 500);
}

// The constraint shortcuts (validator_invariants.cc) only skip evaluations whose result they
// prove: every example and manifest case, valid or not, gets exactly the same issues without them.
TEST(ValidatorExamples, ConstraintShortcutsChangeNoResult) {
  const fs::path base = fs::path(SharedData()) / "fhir-examples";
  if (!fs::exists(base)) {
    GTEST_SKIP() << "no shared data at " << base << " (set CARECHART_SHARED_DATA)";
  }
  int compared = 0;
  int with_issues = 0;
  for (const auto& entry : fs::recursive_directory_iterator(base)) {
    if (entry.path().extension() != ".json" ||
        entry.path().filename() == "validator-manifest.json") {
      continue;
    }
    auto parsed = json::Parse(ReadFile(entry.path()));
    if (!parsed.ok()) {
      continue;
    }
    validation::SetConstraintShortcuts(false);
    const std::string evaluated = Describe(Validate(*parsed));
    validation::SetConstraintShortcuts(true);
    const std::string shortcut = Describe(Validate(*parsed));
    EXPECT_EQ(shortcut, evaluated) << entry.path();
    ++compared;
    with_issues += evaluated.empty() ? 0 : 1;
  }
  std::printf("constraint shortcuts: %d files compared, %d with issues\n", compared, with_issues);
  EXPECT_GT(compared, 500);
  EXPECT_GT(with_issues, 10);  // the invalid manifest cases are among them
}

TEST(ValidatorExamples, ValidatorManifest) {
  const fs::path base = fs::path(SharedData()) / "fhir-examples";
  const fs::path manifest_path = base / "validator-manifest.json";
  if (!fs::exists(manifest_path)) {
    GTEST_SKIP() << "no validator manifest at " << manifest_path;
  }
  auto manifest = json::Parse(ReadFile(manifest_path));
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  std::map<std::string, std::pair<int, int>> per_folder;  // passed, total
  std::set<std::string> failures;
  for (const json::Value& c : manifest->items()) {
    const std::string file(c.string_at("file"));
    const std::string name(c.string_at("testName"));
    const std::string folder = file.substr(0, file.find('/'));
    const bool expect_valid = folder == "validator-valid";
    auto parsed = json::Parse(ReadFile(base / file));
    std::vector<ValidationIssue> issues;
    bool rejected = !parsed.ok();
    if (parsed.ok()) {
      issues = Validate(*parsed);
      rejected = HasErrors(issues);
    }
    const bool pass = rejected != expect_valid;
    if (std::getenv("CARECHART_VALIDATOR_VERBOSE") != nullptr) {
      std::printf("%s %s: %s\n%s", pass ? "PASS" : "FAIL", name.c_str(),
                  parsed.ok() ? "" : parsed.status().message().c_str(), Describe(issues).c_str());
    }
    auto& [passed, total] = per_folder[folder];
    ++total;
    passed += pass ? 1 : 0;
    if (!pass) {
      failures.insert(name);
      if (kKnownFailures.count(name) == 0) {
        ADD_FAILURE() << name << " (" << file << ") expected "
                      << (expect_valid ? "valid" : "invalid") << "\n"
                      << Describe(issues);
      }
    }
  }
  for (const auto& [name, reason] : kKnownFailures) {
    EXPECT_TRUE(failures.count(name))
        << "known failure " << name << " now passes: remove it from kKnownFailures";
  }
  for (const auto& [folder, counts] : per_folder) {
    std::printf("%s: %d/%d as expected\n", folder.c_str(), counts.first, counts.second);
  }
}

}  // namespace
}  // namespace carechart::fhir
