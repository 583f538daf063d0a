// Focused tests of each validator check (the data-driven suites are in
// validator_examples_test.cc).
#include "fhir/validator.h"

#include <gtest/gtest.h>

#include "fhir/primitive_format.h"

namespace carechart::fhir {
namespace {

std::vector<ValidationIssue> Check(std::string_view text, const ValidationOptions& options = {}) {
  auto parsed = json::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? Validate(*parsed, options) : std::vector<ValidationIssue>{};
}

// The single error of `text`, as "code location".
std::string OneError(std::string_view text) {
  const auto issues = Check(text);
  if (issues.size() != 1) {
    std::string all;
    for (const auto& i : issues) {
      all += i.location + " " + i.message + "; ";
    }
    return "expected one issue, got " + std::to_string(issues.size()) + ": " + all;
  }
  return issues[0].code + " " + issues[0].location;
}

// Every issue of `text`, as "code location", in order.
std::vector<std::string> Issues(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& i : Check(text)) {
    out.push_back(i.code + " " + i.location);
  }
  return out;
}

TEST(Validator, MinimalResourcesAreValid) {
  EXPECT_TRUE(Check(R"({"resourceType":"Patient"})").empty());
  EXPECT_TRUE(
      Check(R"({"resourceType":"Patient","id":"a.b-1","name":[{"family":"Zoë","given":["A","B"]}],
    "birthDate":"1970-02-28","active":true,"multipleBirthInteger":2})")
          .empty());
}

TEST(Validator, ResourceType) {
  EXPECT_EQ(OneError(R"({"name":[]})"), "structure ");
  EXPECT_EQ(OneError(R"({"resourceType":"Patientx"})"), "structure ");
  EXPECT_EQ(OneError(R"({"resourceType":"DomainResource"})"), "structure ");
  ValidationOptions options;
  options.expected_type = "Observation";
  EXPECT_TRUE(HasErrors(Check(R"({"resourceType":"Patient"})", options)));
}

TEST(Validator, UnknownElementsAndChoiceSuffixes) {
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","foo":1})"), "structure Patient.foo");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","deceasedString":"x"})"),
            "structure Patient.deceasedString");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","fhir_comments":["x"]})"),
            "structure Patient.fhir_comments");
  EXPECT_EQ(
      OneError(R"({"resourceType":"Patient","deceasedBoolean":true,"deceasedDateTime":"2020"})"),
      "structure Patient.deceasedDateTime");
}

TEST(Validator, PrimitiveKindsAndFormats) {
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","active":"true"})"), "value Patient.active");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","birthDate":"1970-02-30"})"),
            "value Patient.birthDate");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","multipleBirthInteger":1.5})"),
            "value Patient.multipleBirthInteger");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","gender":" male"})"), "value Patient.gender");
  EXPECT_EQ(OneError(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "issued":"2020-01-01"})"),
            "value Observation.issued");
  EXPECT_EQ(OneError(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "effectiveDateTime":"2020-01-01T10:00:00"})"),
            "value Observation.effectiveDateTime");
  EXPECT_EQ(
      OneError(R"({"resourceType":"Patient","photo":[{"contentType":"image/png","data":"abc"}]})"),
      "value Patient.photo[0].data");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","name":[{"given":[""]}]})"),
            "value Patient.name[0].given[0]");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","implicitRules":"a b"})"),
            "value Patient.implicitRules");
}

TEST(Validator, PrimitiveCheckers) {
  using namespace primitive;
  EXPECT_TRUE(IsValidOid("urn:oid:1.2.840.10008"));
  EXPECT_FALSE(IsValidOid("urn:oid:1.02"));
  EXPECT_FALSE(IsValidOid("urn:oid:3.1"));
  EXPECT_TRUE(IsValidUuid("urn:uuid:c757873d-ec9a-4326-a141-556f43239520"));
  EXPECT_FALSE(IsValidUuid("urn:uuid:C757873D-ec9a-4326-a141-556f43239520"));
  EXPECT_TRUE(IsValidBase64("aGVsbG8=\n"));
  EXPECT_FALSE(IsValidBase64("aGVsbG8=a"));
  EXPECT_FALSE(IsValidBase64("%%%2@()()"));
  EXPECT_TRUE(IsValidDecimal("-0.50"));
  EXPECT_FALSE(IsValidDecimal("01"));
  EXPECT_TRUE(IsIntegerInRange("2147483647", 0, 2147483647));
  EXPECT_FALSE(IsIntegerInRange("2147483648", 0, 2147483647));
  EXPECT_FALSE(IsValidCode("a  b"));
  EXPECT_TRUE(IsValidCode("a b"));
  EXPECT_FALSE(IsValidId(std::string(65, 'a')));
  EXPECT_EQ(CheckXhtml("<div>a &amp; b &#169;</div>"), "");
  EXPECT_NE(CheckXhtml("<div>&reg;</div>"), "");
  EXPECT_NE(CheckXhtml("<div><a onclick = \"x()\">a</a></div>"), "");
  EXPECT_NE(CheckXhtml("<div><a href=\"javascript:x()\">a</a></div>"), "");
  EXPECT_NE(CheckXhtml("<p>x</p>"), "");
  EXPECT_EQ(CheckXhtml("<div>one onion</div>"), "");
}

TEST(Validator, PrimitiveCompanions) {
  EXPECT_TRUE(
      Check(
          R"({"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://x","valueString":"y"}]}})")
          .empty());
  EXPECT_TRUE(
      Check(
          R"({"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"id":"g","extension":[{"url":"http://x","valueString":"y"}]}]}]})")
          .empty());
  // ele-1: an id alone is neither a value nor children.
  EXPECT_EQ(
      OneError(
          R"({"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"id":"g"}]}]})"),
      "invariant Patient.name[0].given[1]");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","name":[{"given":["A",null]}]})"),
            "required Patient.name[0].given[1]");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","name":[{"given":["A"],"_given":[null,null]}]})"),
            "structure Patient.name[0].given");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","_name":{}})"), "structure Patient._name");
}

TEST(Validator, CardinalityAndEmptyValues) {
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","name":{"family":"x"}})"),
            "structure Patient.name");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","gender":["male"]})"),
            "structure Patient.gender");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","name":[]})"), "required Patient.name");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","name":[{}]})"), "required Patient.name[0]");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","gender":null})"), "required Patient.gender");
  EXPECT_EQ(OneError(R"({"resourceType":"Observation","status":"final"})"), "required Observation");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","extension":[{"valueString":"x"}]})"),
            "required Patient.extension[0]");
}

TEST(Validator, RequiredBindings) {
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","gender":"femme"})"),
            "code-invalid Patient.gender");
  EXPECT_EQ(OneError(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"lab"}]}]})"),
            "expected one issue, got 0: ");  // example binding: not checked
  EXPECT_EQ(
      OneError(R"({"resourceType":"Patient","contact":[{"name":{"family":"x"},"gender":"other"}],
    "link":[{"other":{"reference":"Patient/1"},"type":"seealso"}]})"),
      "expected one issue, got 0: ");
  EXPECT_EQ(
      OneError(
          R"({"resourceType":"Patient","link":[{"other":{"reference":"Patient/1"},"type":"see"}]})"),
      "code-invalid Patient.link[0].type");
}

TEST(Validator, References) {
  for (const char* ok : {"Patient/1", "Patient/1/_history/2", "http://x.org/fhir/Patient/1",
                         "urn:uuid:c757873d-ec9a-4326-a141-556f43239520", "urn:oid:1.2.3",
                         "Patient?identifier=x|1"}) {
    EXPECT_TRUE(
        Check(
            std::string(
                R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":")") +
            ok + "\"}}")
            .empty())
        << ok;
  }
  for (const char* bad : {"Patientx/1", "Patient/1/2", "Patient/a_b", "urn:uuid:xyz"}) {
    EXPECT_EQ(
        OneError(
            std::string(
                R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":")") +
            bad + "\"}}"),
        "value Observation.subject.reference")
        << bad;
  }
  // ref-1: a local reference needs its contained resource.
  EXPECT_TRUE(Check(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "contained":[{"resourceType":"Patient","id":"p1"}],"subject":{"reference":"#p1"}})")
                  .empty());
  EXPECT_EQ(OneError(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "subject":{"reference":"#p1"}})"),
            "invariant Observation.subject");
  EXPECT_TRUE(Check(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "subject":{"display":"someone"}})")
                  .empty());
}

TEST(Validator, ContainedAndBundles) {
  EXPECT_TRUE(
      Check(
          R"({"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o","name":"x"}],
    "managingOrganization":{"reference":"#o"}})")
          .empty());
  // dom-2 (no nested contained resources) at the container; dom-3 at the Organization, whose
  // own contained Patient nothing refers to.
  EXPECT_EQ(
      Issues(R"({"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o",
    "name":"x","contained":[{"resourceType":"Patient","id":"p"}]}],
    "managingOrganization":{"reference":"#o"}})"),
      (std::vector<std::string>{"invariant Patient.contained[0]", "invariant Patient"}));
  EXPECT_EQ(
      OneError(
          R"({"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o","name":"x","foo":1}],
    "managingOrganization":{"reference":"#o"}})"),
      "structure Patient.contained[0].foo");
  // dom-3: a contained resource nothing refers to; dom-4: contained with meta.versionId; org-1.
  EXPECT_EQ(Issues(R"({"resourceType":"Patient","contained":[{"resourceType":"Organization",
    "id":"o","meta":{"versionId":"1"}}]})"),
            (std::vector<std::string>{"invariant Patient.contained[0]", "invariant Patient",
                                      "invariant Patient"}));
  EXPECT_EQ(
      OneError(
          R"({"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:c757873d-ec9a-4326-a141-556f43239520",
    "resource":{"resourceType":"Patient","gender":"x"}}]})"),
      "code-invalid Bundle.entry[0].resource.gender");
}

TEST(Validator, Narrative) {
  EXPECT_EQ(
      OneError(
          R"({"resourceType":"Patient","text":{"status":"generated","div":"<div><script>x</script></div>"}})"),
      "value Patient.text.div");
  EXPECT_TRUE(
      Check(
          R"({"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">ok</div>"}})")
          .empty());
}

TEST(Validator, Invariants) {
  EXPECT_EQ(OneError(R"({"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
    "period":{"start":"2020-02-01","end":"2020-01-01"}})"),
            "invariant Encounter.period");
  EXPECT_TRUE(Check(R"({"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
    "period":{"start":"2020-01-01T10:00:00Z","end":"2020-01-01T11:00:00+00:00"}})")
                  .empty());
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","extension":[{"url":"http://x","valueString":"a",
    "extension":[{"url":"y","valueString":"b"}]}]})"),
            "invariant Patient.extension[0]");
  const auto issues = Check(R"({"resourceType":"RiskAssessment","status":"final",
    "subject":{"reference":"Patient/p"},"prediction":[{"probabilityDecimal":101}]})");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].location, "RiskAssessment.prediction[0]");
  EXPECT_EQ(issues[0].message, "Constraint failed: ras-2: 'Must be <= 100'");
  // Element-level constraints (pat-1 on Patient.contact) and constraints of datatypes nested in
  // backbone elements (per-1 on Patient.contact.period).
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","contact":[{"gender":"male"}]})"),
            "invariant Patient.contact[0]");
  EXPECT_EQ(OneError(R"({"resourceType":"Patient","contact":[{"name":{"text":"x"},
    "period":{"start":"2021","end":"2020"}}]})"),
            "invariant Patient.contact[0].period");
  // Nested Questionnaire items (a contentReference) carry que-* too: a display item with items.
  EXPECT_EQ(OneError(R"({"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1",
    "type":"group","item":[{"linkId":"2","type":"display","text":"d",
    "item":[{"linkId":"3","type":"string"}]}]}]})"),
            "invariant Questionnaire.item[0].item[0]");
}

}  // namespace
}  // namespace carechart::fhir
