#include "fhir/search_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "fhir/datetime.h"
#include "fhir/definitions.h"

namespace carechart::fhir {
namespace {

json::Value ParseOrDie(std::string_view text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? std::move(v).value() : json::Value();
}

template <typename Entry>
std::vector<const Entry*> Of(const std::vector<Entry>& entries, std::string_view param) {
  std::vector<const Entry*> out;
  for (const Entry& e : entries) {
    if (e.param == param) {
      out.push_back(&e);
    }
  }
  return out;
}

TEST(SearchIndex, Normalize) {
  EXPECT_EQ(NormalizeForSearch("Smith"), "smith");
  EXPECT_EQ(NormalizeForSearch("Zoë Ñúñez"), "zoe nunez");
  EXPECT_EQ(NormalizeForSearch("ÅNGSTRÖM"), "angstrom");
  EXPECT_EQ(NormalizeForSearch(""), "");
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([] {
      for (int j = 0; j < 200; ++j) {
        EXPECT_EQ(NormalizeForSearch("Crème Brûlée"), "creme brulee");
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
}

TEST(SearchIndex, PatientStringsTokensDates) {
  const json::Value p = ParseOrDie(R"({"resourceType":"Patient","id":"p1",
    "identifier":[{"system":"urn:mrn","value":"123","type":{"text":"MRN"}}],
    "active":true,"gender":"female","birthDate":"1980-05",
    "name":[{"family":"Núñez","given":["Zoë","Ann"],"prefix":["Dr"]}],
    "telecom":[{"system":"phone","value":"555-1234"},{"system":"email","value":"z@x.org"}],
    "address":[{"line":["1 Main St"],"city":"Springfield","postalCode":"12345"}],
    "generalPractitioner":[{"reference":"Practitioner/pr1"}],
    "managingOrganization":{"reference":"http://other.org/fhir/Organization/o1"}})");
  const IndexEntries e = ExtractIndex(p);
  auto family = Of(e.strings, "family");
  ASSERT_EQ(family.size(), 1u);
  EXPECT_EQ(family[0]->normalized, "nunez");
  EXPECT_EQ(family[0]->exact, "Núñez");
  EXPECT_EQ(Of(e.strings, "given").size(), 2u);
  EXPECT_EQ(Of(e.strings, "name").size(), 4u);  // family, 2 given, prefix
  EXPECT_EQ(Of(e.strings, "address-city").size(), 1u);
  auto id = Of(e.tokens, "identifier");
  ASSERT_EQ(id.size(), 1u);
  EXPECT_EQ(id[0]->system, "urn:mrn");
  EXPECT_EQ(id[0]->code, "123");
  EXPECT_EQ(id[0]->text, "\x1fmrn");  // the :text index: normalized texts
  ASSERT_EQ(Of(e.tokens, "active").size(), 1u);
  EXPECT_EQ(Of(e.tokens, "active")[0]->code, "true");
  EXPECT_EQ(Of(e.tokens, "gender")[0]->code, "female");
  EXPECT_EQ(Of(e.tokens, "phone").size(), 1u);
  EXPECT_EQ(Of(e.tokens, "phone")[0]->code, "555-1234");
  EXPECT_EQ(Of(e.tokens, "email").size(), 1u);
  EXPECT_EQ(Of(e.tokens, "telecom").size(), 2u);
  EXPECT_EQ(Of(e.tokens, "_id")[0]->code, "p1");
  auto birth = Of(e.dates, "birthdate");
  ASSERT_EQ(birth.size(), 1u);
  EXPECT_EQ(FormatInstant(birth[0]->low), "1980-05-01T00:00:00.000000Z");
  EXPECT_EQ(FormatInstant(birth[0]->high), "1980-05-31T23:59:59.999999Z");
  auto gp = Of(e.references, "general-practitioner");
  ASSERT_EQ(gp.size(), 1u);
  EXPECT_EQ(gp[0]->target_type, "Practitioner");
  EXPECT_EQ(gp[0]->target_id, "pr1");
  auto org = Of(e.references, "organization");
  ASSERT_EQ(org.size(), 1u);
  EXPECT_EQ(org[0]->url, "http://other.org/fhir/Organization/o1");
  EXPECT_EQ(PatientCompartmentOf(p), "p1");
}

TEST(SearchIndex, ObservationChoiceTypesAndCompartment) {
  const json::Value o = ParseOrDie(R"({"resourceType":"Observation","id":"o1","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic"}],"text":"SBP"},
    "subject":{"reference":"Patient/p9/_history/2"},
    "effectivePeriod":{"start":"2020-01-01T10:00:00Z","end":"2020-01-01T11:00:00Z"},
    "valueQuantity":{"value":120.5,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}})");
  const IndexEntries e = ExtractIndex(o);
  auto code = Of(e.tokens, "code");
  ASSERT_EQ(code.size(), 1u);
  EXPECT_EQ(code[0]->system, "http://loinc.org");
  EXPECT_EQ(code[0]->text, "\x1fsbp\x1fsystolic");  // text, then each display
  auto value = Of(e.quantities, "value-quantity");
  ASSERT_EQ(value.size(), 1u);
  EXPECT_DOUBLE_EQ(value[0]->value, 120.5);
  EXPECT_EQ(value[0]->code, "mm[Hg]");
  auto date = Of(e.dates, "date");
  ASSERT_EQ(date.size(), 1u);
  EXPECT_EQ(FormatInstant(date[0]->high), "2020-01-01T11:00:00.999999Z");
  auto patient = Of(e.references, "patient");  // subject.where(resolve() is Patient)
  ASSERT_EQ(patient.size(), 1u);
  EXPECT_EQ(patient[0]->target_id, "p9");
  EXPECT_EQ(Of(e.references, "subject").size(), 1u);
  EXPECT_TRUE(Of(e.tokens, "value-concept").empty());
  EXPECT_EQ(PatientCompartmentOf(o), "p9");
  const json::Value g = ParseOrDie(R"({"resourceType":"Observation","status":"final",
    "code":{"text":"x"},"subject":{"reference":"Group/g1"}})");
  EXPECT_TRUE(Of(ExtractIndex(g).references, "patient").empty());
  EXPECT_EQ(PatientCompartmentOf(g), "");
}

// A Period ending before it starts (against per-1) is the range from its end to its start:
// every date row has low <= high (decisions D111).
TEST(SearchIndex, ABackwardsPeriodIsTheRangeBetweenItsInstants) {
  const json::Value o = ParseOrDie(R"({"resourceType":"Observation","status":"final",
    "code":{"text":"x"},"effectivePeriod":{"start":"2020-03-05","end":"2020-03-01"}})");
  const IndexEntries e = ExtractIndex(o);
  auto date = Of(e.dates, "date");
  ASSERT_EQ(date.size(), 1u);
  EXPECT_EQ(FormatInstant(date[0]->low), "2020-03-01T00:00:00.000000Z");
  EXPECT_EQ(FormatInstant(date[0]->high), "2020-03-05T23:59:59.999999Z");
}

TEST(SearchIndex, MoneyUriAndNumbers) {
  const json::Value r = ParseOrDie(R"({"resourceType":"RiskAssessment","status":"final",
    "subject":{"reference":"Patient/p"},"prediction":[{"probabilityDecimal":0.25}]})");
  auto prob = Of(ExtractIndex(r).numbers, "probability");
  ASSERT_EQ(prob.size(), 1u);
  EXPECT_DOUBLE_EQ(prob[0]->value, 0.25);
  const json::Value vs = ParseOrDie(R"({"resourceType":"ValueSet","status":"active",
    "url":"http://x.org/vs","version":"1"})");
  auto url = Of(ExtractIndex(vs).uris, "url");
  ASSERT_EQ(url.size(), 1u);
  EXPECT_EQ(url[0]->uri, "http://x.org/vs");
}

TEST(SearchIndex, CompositeTuplesStayWithinOneElement) {
  // A blood pressure panel: the systolic code and the diastolic value must not pair up.
  const json::Value o = ParseOrDie(R"({"resourceType":"Observation","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
    "component":[
      {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
       "valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
      {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},
       "valueQuantity":{"value":80,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]})");
  const IndexEntries e = ExtractIndex(o);
  auto component = Of(e.composites, "component-code-value-quantity");
  ASSERT_EQ(component.size(), 2u);
  for (const CompositeEntry* c : component) {
    ASSERT_EQ(c->parts.size(), 2u);
    EXPECT_EQ(c->parts[0].system, "http://loinc.org");
    EXPECT_DOUBLE_EQ(c->parts[1].low, c->parts[0].text == "8480-6" ? 120 : 80);
    EXPECT_EQ(c->parts[1].text, "mm[Hg]");
  }
  // The panel itself has no value: code-value-quantity has no tuple; combo-code-value-quantity
  // (their union, search_union_params.h) gets no entries of its own.
  EXPECT_TRUE(Of(e.composites, "code-value-quantity").empty());
  EXPECT_TRUE(Of(e.composites, "combo-code-value-quantity").empty());

  const json::Value d = ParseOrDie(R"({"resourceType":"Observation","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"21112-8"},{"code":"dob"}]},
    "valueDateTime":"2021-03"})");
  auto date = Of(ExtractIndex(d).composites, "code-value-date");
  ASSERT_EQ(date.size(), 2u);  // one tuple per coding
  EXPECT_TRUE(date[0]->parts[1].is_date);
  EXPECT_EQ(FormatInstant(date[0]->parts[1].low_us), "2021-03-01T00:00:00.000000Z");

  // A component reaching outside its element through %resource (MolecularSequence).
  const json::Value m = ParseOrDie(R"({"resourceType":"MolecularSequence","coordinateSystem":0,
    "referenceSeq":{"chromosome":{"coding":[{"system":"http://x","code":"1"}]},"windowStart":10,"windowEnd":20},
    "variant":[{"start":12,"end":13}]})");
  auto variant = Of(ExtractIndex(m).composites, "chromosome-variant-coordinate");
  ASSERT_EQ(variant.size(), 1u);
  ASSERT_EQ(variant[0]->parts.size(), 3u);
  EXPECT_EQ(variant[0]->parts[0].text, "1");
  EXPECT_DOUBLE_EQ(variant[0]->parts[1].low, 12);
  EXPECT_DOUBLE_EQ(variant[0]->parts[2].low, 13);
}

TEST(SearchIndex, SearchParameterResourcesBecomeLiveParameters) {
  const json::Value sp = ParseOrDie(R"({"resourceType":"SearchParameter","id":"eye",
    "url":"http://example.org/sp/eye","name":"eye","status":"active","code":"eye-colour",
    "base":["Patient","Person"],"type":"token","description":"eye colour",
    "expression":"Patient.extension.where(url='http://example.org/eye').value"})");
  const json::Value p = ParseOrDie(R"({"resourceType":"Patient","extension":[
    {"url":"http://example.org/eye","valueCode":"brown"}]})");
  EXPECT_TRUE(Of(ExtractIndex(p).tokens, "eye-colour").empty());
  auto skipped = ApplySearchParameterResource(sp);
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_TRUE(skipped->empty());
  ASSERT_NE(FindSearchParam("Patient", "eye-colour"), nullptr);
  EXPECT_EQ(FindSearchParam("Patient", "eye-colour")->type, SearchParamType::kToken);
  auto eye = Of(ExtractIndex(p).tokens, "eye-colour");
  ASSERT_EQ(eye.size(), 1u);
  EXPECT_EQ(eye[0]->code, "brown");
  // A code R4 defines stays R4's; retired (not active) and deleted ones go.
  json::Value clash = sp;
  clash.set("id", json::Value::String("clash"));
  clash.set("code", json::Value::String("gender"));
  EXPECT_EQ(*ApplySearchParameterResource(clash), (std::vector<std::string>{"Patient", "Person"}));
  json::Value retired = sp;
  retired.set("status", json::Value::String("retired"));
  ASSERT_TRUE(ApplySearchParameterResource(retired).ok());
  EXPECT_EQ(FindSearchParam("Patient", "eye-colour"), nullptr);
  ASSERT_TRUE(ApplySearchParameterResource(sp).ok());
  ForgetSearchParameterResource("eye");
  EXPECT_EQ(FindSearchParam("Person", "eye-colour"), nullptr);
  // Unusable active definitions are errors naming the element.
  json::Value bad = sp;
  bad.set("expression", json::Value::String("Patient.extension.where("));
  EXPECT_NE(CheckSearchParameterResource(bad).message().find("expression"), std::string::npos);
  bad = sp;
  bad.set("type", json::Value::String("composite"));
  EXPECT_FALSE(CheckSearchParameterResource(bad).ok());
}

TEST(SearchIndex, CoverageAndSpecExamples) {
  const IndexCoverage c = SearchIndexCoverage();
  std::printf("search parameters covered by the extractor: %d of %d\n", c.covered, c.total);
  // Only the parameters without an expression (_text, _content, _query) and Location.near stay
  // out: every composite and every other parameter is evaluated.
  for (const std::string& name : c.not_covered) {
    const std::string code = name.substr(name.find('.') + 1);
    EXPECT_TRUE(code == "_text" || code == "_content" || code == "_query" ||
                name == "Location.near")
        << name << " is not indexed";
  }
  EXPECT_EQ(c.covered + static_cast<int>(c.not_covered.size()), c.total);
}

TEST(SearchIndex, SpecExamples) {
  const char* env = std::getenv("CARECHART_SHARED_DATA");
  const std::filesystem::path dir = std::filesystem::path(env ? env : CARECHART_SHARED_DATA) /
                                    "fhir-examples" / "r4-spec-examples";
  if (!std::filesystem::exists(dir)) {
    GTEST_SKIP() << "no shared data at " << dir;
  }
  size_t files = 0;
  size_t entries = 0;
  size_t in_compartment = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = json::Parse(ss.str());
    ASSERT_TRUE(v.ok()) << f.path();
    const IndexEntries e = ExtractIndex(*v);
    entries += e.tokens.size() + e.strings.size() + e.dates.size() + e.references.size() +
               e.quantities.size() + e.numbers.size() + e.uris.size();
    in_compartment += PatientCompartmentOf(*v).empty() ? 0 : 1;
    ++files;
  }
  std::printf("r4-spec-examples: %zu resources, %zu index entries, %zu in a patient compartment\n",
              files, entries, in_compartment);
  EXPECT_GT(entries, files * 5);
}

// Every entry as one line, to compare two extractions.
std::string Dump(const IndexEntries& e) {
  std::ostringstream out;
  for (const auto& t : e.tokens) {
    out << "token " << t.param << '|' << t.system << '|' << t.code << '|' << t.text << '\n';
  }
  for (const auto& t : e.strings) {
    out << "string " << t.param << '|' << t.normalized << '|' << t.exact << '\n';
  }
  for (const auto& t : e.dates) {
    out << "date " << t.param << '|' << t.low << '|' << t.high << '\n';
  }
  for (const auto& t : e.references) {
    out << "ref " << t.param << '|' << t.target_type << '|' << t.target_id << '|' << t.url << '\n';
  }
  for (const auto& t : e.quantities) {
    out << "qty " << t.param << '|' << t.value << '|' << t.system << '|' << t.code << '|' << t.unit
        << '\n';
  }
  for (const auto& t : e.numbers) {
    out << "num " << t.param << '|' << t.value << '\n';
  }
  for (const auto& t : e.uris) {
    out << "uri " << t.param << '|' << t.uri << '\n';
  }
  for (const auto& t : e.composites) {
    out << "composite " << t.param;
    for (const auto& p : t.parts) {
      out << '|' << p.system << ',' << p.text << ',' << p.unit << ',' << p.low << ',' << p.is_date
          << ',' << p.low_us << ',' << p.high_us;
    }
    out << '\n';
  }
  return out.str();
}

// Every R4 spec example and every resource of one Synthea patient's Bundle; empty without the
// shared data.
std::vector<json::Value> ExampleResources() {
  const char* env = std::getenv("CARECHART_SHARED_DATA");
  const std::filesystem::path data = std::filesystem::path(env ? env : CARECHART_SHARED_DATA);
  const std::filesystem::path dir = data / "fhir-examples" / "r4-spec-examples";
  std::vector<json::Value> resources;
  if (!std::filesystem::exists(dir)) {
    return resources;
  }
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    resources.push_back(ParseOrDie(ss.str()));
  }
  const std::filesystem::path synthea = data / "synthea-r4" / "synthea-v2.7-blaze";
  if (std::filesystem::exists(synthea)) {
    for (const auto& f : std::filesystem::directory_iterator(synthea)) {
      std::ifstream in(f.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      const json::Value bundle = ParseOrDie(ss.str());
      const json::Value* entries = bundle.find("entry");
      for (size_t i = 0; entries != nullptr && i < entries->items().size(); ++i) {
        if (const json::Value* r = entries->items()[i].find("resource")) {
          resources.push_back(*r);
        }
      }
      break;  // one patient's Bundle: every type Synthea writes
    }
  }
  return resources;
}

// The skipped evaluations (SetIndexShortcuts) change no entry: every spec example and every
// resource of a Synthea Bundle, extracted with and without them.
TEST(SearchIndex, ShortcutsChangeNoEntry) {
  const std::vector<json::Value> resources = ExampleResources();
  if (resources.empty()) {
    GTEST_SKIP() << "no shared data (CARECHART_SHARED_DATA)";
  }
  size_t lines = 0;
  for (const json::Value& r : resources) {
    SetIndexShortcuts(false);
    const std::string evaluated = Dump(ExtractIndex(r));
    SetIndexShortcuts(true);
    const std::string skipped = Dump(ExtractIndex(r));
    EXPECT_EQ(skipped, evaluated) << r.string_at("resourceType") << "/" << r.string_at("id");
    lines += std::count(evaluated.begin(), evaluated.end(), '\n');
  }
  std::printf("index shortcuts: %zu resources, %zu entries compared\n", resources.size(), lines);
  EXPECT_GT(lines, resources.size() * 5);
}

// Member paths walked directly (SetIndexMemberPaths) change no entry and no patient compartment:
// the same resources, extracted with the evaluator and with the walk, shortcuts on and off.
TEST(SearchIndex, MemberPathsChangeNoEntry) {
  const std::vector<json::Value> resources = ExampleResources();
  if (resources.empty()) {
    GTEST_SKIP() << "no shared data (CARECHART_SHARED_DATA)";
  }
  size_t lines = 0;
  for (const bool shortcuts : {false, true}) {
    SetIndexShortcuts(shortcuts);
    for (const json::Value& r : resources) {
      SetIndexMemberPaths(false);
      const std::string evaluated = Dump(ExtractIndex(r));
      const std::string evaluated_patient = PatientCompartmentOf(r);
      SetIndexMemberPaths(true);
      const std::string walked = Dump(ExtractIndex(r));
      EXPECT_EQ(walked, evaluated) << r.string_at("resourceType") << "/" << r.string_at("id");
      EXPECT_EQ(PatientCompartmentOf(r), evaluated_patient) << r.string_at("id");
      lines += std::count(evaluated.begin(), evaluated.end(), '\n');
    }
  }
  SetIndexShortcuts(true);
  std::printf("member paths: %zu resources, %zu entries compared\n", resources.size(), lines);
  EXPECT_GT(lines, resources.size() * 10);
}

// Printed, not asserted: ExtractIndex per resource for an Observation, and the first Patient and
// Claim of a Synthea transaction Bundle.
double MicrosPerExtract(const json::Value& r) {
  ExtractIndex(r);
  int runs = 0;
  const auto start = std::chrono::steady_clock::now();
  double us = 0;
  while (us < 200000) {
    for (int i = 0; i < 100; ++i) {
      ExtractIndex(r);
    }
    runs += 100;
    us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  }
  return us / runs;
}

TEST(SearchIndex, Speed) {
  const json::Value o = ParseOrDie(R"({"resourceType":"Observation","id":"o1","status":"final",
    "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
    "code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"subject":{"reference":"Patient/p9"},
    "effectiveDateTime":"2020-01-01T10:00:00Z","valueQuantity":{"value":120,"code":"mm[Hg]"}})");
  std::printf("ExtractIndex(Observation): %.1f us\n", MicrosPerExtract(o));
  const char* env = std::getenv("CARECHART_SHARED_DATA");
  const std::filesystem::path bundle_path =
      std::filesystem::path(env ? env : CARECHART_SHARED_DATA) / "synthea-r4" /
      "synthea-v2.7-blaze" / "085e81c0-7a95-ef02-16ef-aa1b4344deed.json";
  if (!std::filesystem::exists(bundle_path)) {
    GTEST_SKIP() << "no Synthea bundle at " << bundle_path;
  }
  std::ifstream in(bundle_path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const json::Value bundle = ParseOrDie(ss.str());
  for (const std::string_view type : {"Patient", "Claim", "ExplanationOfBenefit"}) {
    for (const json::Value& entry : bundle.find("entry")->items()) {
      const json::Value* r = entry.find("resource");
      if (r != nullptr && r->string_at("resourceType") == type) {
        std::printf("ExtractIndex(Synthea %s, %zu bytes): %.1f us\n", std::string(type).c_str(),
                    json::Write(*r).size(), MicrosPerExtract(*r));
        break;
      }
    }
  }
}

}  // namespace
}  // namespace carechart::fhir
