#include "app/demo_seed.h"

#include <fmt/format.h>

#include <array>

namespace carechart::app {

namespace {

struct DemoPatient {
  const char* id;
  const char* family;
  const char* given;
  const char* gender;
  const char* birth;
  bool diabetic;
  bool hypertensive;
};

constexpr std::array<DemoPatient, 5> kPatients{{
    {"demo-maria-lopez", "López", "María", "female", "1962-04-17", true, true},
    {"demo-james-smith", "Smith", "James", "male", "1958-11-02", false, true},
    {"demo-aiko-tanaka", "Tanaka", "Aiko", "female", "1990-07-23", false, false},
    {"demo-samuel-okafor", "Okafor", "Samuel", "male", "1971-01-30", true, false},
    {"demo-emma-johansson", "Johansson", "Emma", "female", "2015-09-12", false, false},
}};

constexpr std::array<std::pair<const char*, const char*>, 3> kFacilities{{
    {"riverside-primary-care", "Riverside Primary Care"},
    {"lakeside-endocrinology", "Lakeside Endocrinology"},
    {"mercy-emergency", "Mercy Hospital Emergency Department"},
}};

void Add(std::string& out, const std::string& json) {
  out += json;
  out += '\n';
}

void AddPatientRecord(std::string& out, const DemoPatient& p, int n) {
  Add(out,
      fmt::format(
          R"({{"resourceType":"Patient","id":"{0}","identifier":[{{"system":"urn:carechart:demo:mrn","value":"MRN-{5:04d}"}}],"name":[{{"use":"official","family":"{1}","given":["{2}"]}}],"gender":"{3}","birthDate":"{4}","managingOrganization":{{"reference":"Organization/riverside-primary-care"}}}})",
          p.id, p.family, p.given, p.gender, p.birth, n + 1));
  std::string enc = fmt::format("{}-enc-1", p.id);
  Add(out,
      fmt::format(
          R"({{"resourceType":"Encounter","id":"{0}","status":"finished","class":{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB","display":"ambulatory"}},"type":[{{"coding":[{{"system":"http://snomed.info/sct","code":"185349003","display":"Encounter for check up"}}]}}],"subject":{{"reference":"Patient/{1}"}},"period":{{"start":"2026-0{2}-10T09:00:00Z","end":"2026-0{2}-10T09:30:00Z"}},"serviceProvider":{{"reference":"Organization/riverside-primary-care"}}}})",
          enc, p.id, 3 + n));
  if (p.diabetic) {
    Add(out,
        fmt::format(
            R"({{"resourceType":"Condition","id":"{0}-dm2","clinicalStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}}]}},"verificationStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}}]}},"code":{{"coding":[{{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes mellitus type 2"}},{{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E11.9","display":"Type 2 diabetes mellitus without complications"}}]}},"subject":{{"reference":"Patient/{0}"}},"onsetDateTime":"2019-05-14"}})",
            p.id));
    const char* hba1c[] = {"8.1", "7.4", "6.90"};
    for (int i = 0; i < 3; ++i) {
      Add(out,
          fmt::format(
              R"({{"resourceType":"Observation","id":"{0}-hba1c-{1}","status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c/Hemoglobin.total in Blood"}}]}},"subject":{{"reference":"Patient/{0}"}},"effectiveDateTime":"2025-{2:02d}-15T08:00:00Z","valueQuantity":{{"value":{3},"unit":"%","system":"http://unitsofmeasure.org","code":"%"}}}})",
              p.id, i + 1, 3 + 4 * i, hba1c[i]));
      Add(out,
          fmt::format(
              R"({{"resourceType":"Observation","id":"{0}-glucose-{1}","status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"2339-0","display":"Glucose [Mass/volume] in Blood"}}]}},"subject":{{"reference":"Patient/{0}"}},"effectiveDateTime":"2025-{2:02d}-15T08:00:00Z","valueQuantity":{{"value":{3},"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}}}})",
              p.id, i + 1, 3 + 4 * i, 182 - 21 * i));
    }
    Add(out,
        fmt::format(
            R"({{"resourceType":"MedicationRequest","id":"{0}-metformin","status":"active","intent":"order","medicationCodeableConcept":{{"coding":[{{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"860975","display":"24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"}}]}},"subject":{{"reference":"Patient/{0}"}},"authoredOn":"2019-05-14","dosageInstruction":[{{"text":"1 tablet by mouth daily with evening meal"}}]}})",
            p.id));
  }
  if (p.hypertensive) {
    Add(out,
        fmt::format(
            R"({{"resourceType":"Condition","id":"{0}-htn","clinicalStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}}]}},"code":{{"coding":[{{"system":"http://snomed.info/sct","code":"38341003","display":"Hypertensive disorder"}},{{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10","display":"Essential (primary) hypertension"}}]}},"subject":{{"reference":"Patient/{0}"}},"onsetDateTime":"2017-02-01"}})",
            p.id));
    for (int i = 0; i < 3; ++i) {
      Add(out,
          fmt::format(
              R"({{"resourceType":"Observation","id":"{0}-bp-{1}","status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel"}}]}},"subject":{{"reference":"Patient/{0}"}},"effectiveDateTime":"2025-{2:02d}-15T08:10:00Z","component":[{{"code":{{"coding":[{{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}}]}},"valueQuantity":{{"value":{3},"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}}},{{"code":{{"coding":[{{"system":"http://loinc.org","code":"8462-4","display":"Diastolic blood pressure"}}]}},"valueQuantity":{{"value":{4},"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}}}]}})",
              p.id, i + 1, 2 + 4 * i, 152 - 8 * i, 94 - 4 * i));
    }
  }
  if (n % 2 == 0) {
    Add(out,
        fmt::format(
            R"({{"resourceType":"AllergyIntolerance","id":"{0}-penicillin","clinicalStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}}]}},"category":["medication"],"criticality":"high","code":{{"coding":[{{"system":"http://snomed.info/sct","code":"764146007","display":"Penicillin"}}]}},"patient":{{"reference":"Patient/{0}"}},"reaction":[{{"manifestation":[{{"coding":[{{"system":"http://snomed.info/sct","code":"271807003","display":"Eruption of skin"}}]}}]}}]}})",
            p.id));
  }
}

}  // namespace

std::string DemoSeedNdjson() {
  std::string out;
  for (const auto& [id, name] : kFacilities) {
    Add(out,
        fmt::format(
            R"({{"resourceType":"Organization","id":"{}","active":true,"type":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/organization-type","code":"prov"}}]}}],"name":"{}"}})",
            id, name));
  }
  int n = 0;
  for (const auto& p : kPatients) AddPatientRecord(out, p, n++);
  return out;
}

}  // namespace carechart::app
