// Mapping tests, one per ADT event and per ORU^R01 field group the HL7 v2 issue lists: each
// message goes through the real Processor into a SQLite store, and the resources it produced
// are read back and checked field by field.
#include <gtest/gtest.h>

#include <filesystem>

#include "fhir/json.h"
#include "hl7v2/mapper.h"
#include "hl7v2/processor.h"
#include "hl7v2/processor_fixture.h"

namespace carechart::hl7v2 {
namespace {

namespace fs = std::filesystem;
using json::Value;

const std::string kSys = "urn:carechart:hl7v2:id:GOODHEALTH";

// An ADT message for patient P100 / visit V100 with the given event, control id and PV1 tail.
std::string Adt(const std::string& event, const std::string& ctrl, const std::string& evn_time,
                const std::string& pv1 =
                    "PV1|1|I|W1^101^A||||004777^ATTEND^AARON|||MED|||||||"
                    "||V100^^^GOODHEALTH^VN|||||||||||||||||||||||||"
                    "20230101115500") {
  return "MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL|EHR|EHRFAC|" + evn_time + "||ADT^" + event + "|" +
         ctrl + "|P|2.5\r" + "EVN|" + event + "|" + evn_time + "\r" +
         "PID|1||P100^^^GOODHEALTH^MR||DOE^JOHN^Q||19700203|M|||1 MAIN ST^^TOWN^NC^27401\r" +
         (pv1.empty() ? "" : pv1 + "\r");
}

class MappingTest : public ProcessorFixture {
 protected:
  void Apply(const std::string& msg) {
    Outcome o = processor_->Process(msg);
    ASSERT_EQ(o.code, "AA") << o.error.ToString() << "\n" << msg;
  }
  Value Read(const std::string& type, const std::string& id) {
    auto r = store_->Read(type, id);
    EXPECT_TRUE(r.ok()) << type << "/" << id << ": " << r.status().ToString();
    return r.ok() ? *json::Parse(r->body) : Value();
  }
  std::vector<Value> All(const std::string& type,
                         std::vector<std::pair<std::string, std::string>> params = {}) {
    auto q = store::ParseSearch(type, params);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    auto r = store_->Search(*q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<Value> out;
    for (const auto& m : r->matches) {
      out.push_back(*json::Parse(m.body));
    }
    return out;
  }
  std::string PatientId() { return "hl7p-" + Hash32(kSys + "|P100"); }
  std::string EncounterId() { return "hl7e-" + Hash32(kSys + "|V100"); }
  Value Encounter() { return Read("Encounter", EncounterId()); }
  static std::string Code(const Value* cc) {
    if (!cc) return "";
    const Value* c = cc->find("coding");
    return c && !c->items().empty() ? std::string(c->items()[0].string_at("code")) : "";
  }
  static std::string At(const Value& v, std::initializer_list<const char*> path) {
    const Value* cur = &v;
    for (const char* p : path) {
      if (!cur) return "";
      cur = cur->is_array() ? (cur->items().empty() ? nullptr : &cur->items()[std::stoul(p)])
                            : cur->find(p);
    }
    return cur ? cur->text() : "";
  }
};

TEST_F(MappingTest, A01AdmitBuildsPatientEncounterLocationAndAttending) {
  Apply(Adt("A01", "M1", "20230101120000"));
  Value p = Read("Patient", PatientId());
  EXPECT_EQ(At(p, {"name", "0", "family"}), "DOE");
  EXPECT_EQ(At(p, {"name", "0", "given", "1"}), "Q");
  EXPECT_EQ(p.string_at("gender"), "male");
  EXPECT_EQ(p.string_at("birthDate"), "1970-02-03");
  EXPECT_EQ(At(p, {"address", "0", "city"}), "TOWN");
  EXPECT_EQ(At(p, {"identifier", "0", "system"}), kSys);
  Value e = Encounter();
  EXPECT_EQ(e.string_at("status"), "in-progress");
  EXPECT_EQ(e.find("class")->string_at("code"), "IMP");
  EXPECT_EQ(At(e, {"period", "start"}), "2023-01-01T11:55:00+00:00");  // PV1-44
  EXPECT_EQ(At(e, {"subject", "reference"}), "Patient/" + PatientId());
  EXPECT_EQ(Code(e.find("participant")->items()[0].find("type")->items().data()), "ATND");
  std::string prac = At(e, {"participant", "0", "individual", "reference"});
  ASSERT_TRUE(prac.starts_with("Practitioner/"));
  EXPECT_EQ(At(Read("Practitioner", prac.substr(13)), {"name", "0", "family"}), "ATTEND");
  EXPECT_EQ(At(e, {"location", "0", "status"}), "active");
  std::string loc = At(e, {"location", "0", "location", "reference"});
  ASSERT_TRUE(loc.starts_with("Location/"));
  EXPECT_FALSE(Read("Location", loc.substr(9)).is_null());
  EXPECT_EQ(At(e, {"serviceProvider", "reference"}), "Organization/hl7-GOOD-HEALTH-HOSPITAL");
}

TEST_F(MappingTest, A04RegisterIsInProgressAndA05PreAdmitIsPlanned) {
  Apply(Adt("A04", "M1", "20230101120000"));
  EXPECT_EQ(Encounter().string_at("status"), "in-progress");
  Apply(Adt("A05", "M2", "20230101120000", "PV1|1|P|W2^7^B||||||||||||||||V200^^^GOODHEALTH^VN"));
  Value planned = Read("Encounter", "hl7e-" + Hash32(kSys + "|V200"));
  EXPECT_EQ(planned.string_at("status"), "planned");
  EXPECT_EQ(planned.find("class")->string_at("code"), "PRENC");
  EXPECT_EQ(At(planned, {"location", "0", "status"}), "planned");
  EXPECT_EQ(All("Patient").size(), 1u);  // found by identifier, never duplicated
}

TEST_F(MappingTest, A08UpdatesPatientAndKeepsEncounterStatus) {
  Apply(Adt("A01", "M1", "20230101120000"));
  std::string a08 = Adt("A08", "M2", "20230101130000");
  a08.replace(a08.find("DOE^JOHN^Q"), 10, "DOE^JONATHAN");
  a08.replace(a08.find("|I|W1^101^A"), 11, "|E|W1^101^A");
  Apply(a08);
  Value p = Read("Patient", PatientId());
  EXPECT_EQ(At(p, {"name", "0", "given", "0"}), "JONATHAN");
  Value e = Encounter();
  EXPECT_EQ(e.string_at("status"), "in-progress");
  EXPECT_EQ(e.find("class")->string_at("code"), "EMER");
  EXPECT_EQ(All("Patient").size(), 1u);
}

TEST_F(MappingTest, A31UpdatesOnlyThePatient) {
  Apply(Adt("A01", "M1", "20230101120000"));
  std::string meta_before = std::string(Encounter().find("meta")->string_at("versionId"));
  std::string a31 = Adt("A31", "M2", "20230101130000");
  a31.replace(a31.find("|M|||1 MAIN ST"), 14, "|M|||9 NEW RD");
  Apply(a31);
  EXPECT_EQ(At(Read("Patient", PatientId()), {"address", "0", "line", "0"}), "9 NEW RD");
  EXPECT_EQ(Encounter().find("meta")->string_at("versionId"), meta_before);
}

TEST_F(MappingTest, A02TransferAndA12CancelTransfer) {
  Apply(Adt("A01", "M1", "20230101120000"));
  std::string a02 = Adt("A02", "M2", "20230102080000");
  a02.replace(a02.find("W1^101^A"), 8, "W3^301^C");
  Apply(a02);
  Value e = Encounter();
  ASSERT_EQ(e.find("location")->items().size(), 2u);
  EXPECT_EQ(At(e, {"location", "0", "status"}), "completed");
  EXPECT_EQ(At(e, {"location", "0", "period", "end"}), "2023-01-02T08:00:00+00:00");
  EXPECT_EQ(At(e, {"location", "1", "status"}), "active");
  EXPECT_EQ(At(e, {"location", "1", "period", "start"}), "2023-01-02T08:00:00+00:00");
  std::string a12 = a02;
  a12.replace(a12.find("ADT^A02|M2"), 10, "ADT^A12|M3");
  a12.replace(a12.find("EVN|A02"), 7, "EVN|A12");
  Apply(a12);
  e = Encounter();
  ASSERT_EQ(e.find("location")->items().size(), 1u);
  EXPECT_EQ(At(e, {"location", "0", "status"}), "active");
  EXPECT_EQ(At(e, {"location", "0", "period", "end"}), "");
}

TEST_F(MappingTest, A03DischargeAndA13CancelDischarge) {
  Apply(Adt("A01", "M1", "20230101120000"));
  std::string a03 = Adt("A03", "M2", "20230105100000");
  a03.replace(a03.find("|||MED|||"), 9, "|||MED|||");
  Apply(a03);
  Value e = Encounter();
  EXPECT_EQ(e.string_at("status"), "finished");
  EXPECT_EQ(At(e, {"period", "end"}), "2023-01-05T10:00:00+00:00");  // EVN (no PV1-45)
  EXPECT_EQ(At(e, {"location", "0", "status"}), "completed");
  std::string a13 = a03;
  a13.replace(a13.find("ADT^A03|M2"), 10, "ADT^A13|M3");
  a13.replace(a13.find("EVN|A03"), 7, "EVN|A13");
  Apply(a13);
  e = Encounter();
  EXPECT_EQ(e.string_at("status"), "in-progress");
  EXPECT_EQ(At(e, {"period", "end"}), "");
  EXPECT_EQ(At(e, {"period", "start"}), "2023-01-01T11:55:00+00:00");
  EXPECT_EQ(At(e, {"location", "0", "status"}), "active");
}

TEST_F(MappingTest, A11CancelAdmitAndCancelOfUnknownVisitIsAnError) {
  std::string orphan = Adt("A11", "M0", "20230101120000");
  Outcome o = processor_->Process(orphan);
  EXPECT_EQ(o.code, "AE");
  EXPECT_NE(o.error.ToString().find("PV1-19"), std::string::npos) << o.error.ToString();
  Apply(Adt("A01", "M1", "20230101120000"));
  Apply(Adt("A11", "M2", "20230101130000"));
  EXPECT_EQ(Encounter().string_at("status"), "entered-in-error");
}

TEST_F(MappingTest, A40MergeLinksPatientsAndMovesReferences) {
  Apply(Adt("A01", "M1", "20230101120000"));
  std::string other =
      Adt("A04", "M2", "20230101120000", "PV1|1|O|CLINIC||||||||||||||||V300^^^GOODHEALTH^VN");
  other.replace(other.find("P100^^^"), 7, "P999^^^");
  Apply(other);
  ASSERT_EQ(All("Patient").size(), 2u);
  Apply(
      "MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL|EHR|EHRFAC|20230102000000||ADT^A40^ADT_A39|M3|P|2.5\r"
      "EVN|A40|20230102000000\rPID|1||P100^^^GOODHEALTH^MR||DOE^JOHN\r"
      "MRG|P999^^^GOODHEALTH^MR\r");
  std::string prior = "hl7p-" + Hash32(kSys + "|P999");
  Value survivor = Read("Patient", PatientId());
  EXPECT_EQ(At(survivor, {"link", "0", "type"}), "replaces");
  EXPECT_EQ(At(survivor, {"link", "0", "other", "reference"}), "Patient/" + prior);
  bool has_old = false;
  for (const auto& id : survivor.find("identifier")->items()) {
    has_old |= id.string_at("value") == "P999" && id.string_at("use") == "old";
  }
  EXPECT_TRUE(has_old);
  Value p = Read("Patient", prior);
  ASSERT_TRUE(p.find("active"));
  EXPECT_FALSE(p.find("active")->as_bool());
  EXPECT_EQ(At(p, {"link", "0", "type"}), "replaced-by");
  EXPECT_EQ(At(Read("Encounter", "hl7e-" + Hash32(kSys + "|V300")), {"subject", "reference"}),
            "Patient/" + PatientId());
  EXPECT_EQ(All("Patient").size(), 2u);  // nothing deleted
}

const char* kOru =
    "MSH|^~\\&|LAB|LABFAC|EHR|EHRFAC|20230101130000||ORU^R01^ORU_R01|R1|P|2.5.1\r"
    "PID|1||P100^^^GOODHEALTH^MR||DOE^JOHN||19700203|M\r"
    "PV1|1|O|CLINIC^1^A||||||||||||||||V100^^^GOODHEALTH^VN\r"
    "ORC|RE|ORD1|FIL1||CM||||||||1234^ORDERING^OLIVIA\r"
    "OBR|1|ORD1|FIL1|24323-8^Metabolic panel^LN|||20230101100000|||||||||1234^ORDERING^OLIVIA|"
    "|||||20230101130000||CH|P\r"
    "OBX|1|NM|2345-7^Glucose^LN||182|mg/dL^mg/dL^UCUM|70-99|H~A|||F|||20230101100000||55^TECH^TOM\r"
    "OBX|2|NM|2160-0^Creatinine^LN||0.4|mg/dL^mg/dL^UCUM|0.6-1.3|L|||C\r"
    "OBX|3|SN|5048-4^ANA^LN||^1^:^160||<1:40|N|||P\r"
    "OBX|4|RP|PDF^Scan^L||http://lab.example/r/1.pdf^^application^pdf||||||F\r"
    "OBX|5|ED|TXT^Note^L||^text^plain^A^hello||||||F\r"
    "SPM|1|S1^S1||119297000^Blood^SCT|||||||||||||20230101093000|20230101094500\r";

TEST_F(MappingTest, OruObservationsCarryValuesUnitsRangesFlagsStatusAndPerformer) {
  Apply(kOru);
  auto obs = All("Observation", {{"code", "http://loinc.org|2345-7"}});
  ASSERT_EQ(obs.size(), 1u);
  const Value& g = obs[0];
  EXPECT_EQ(At(g, {"valueQuantity", "value"}), "182");
  EXPECT_EQ(At(g, {"valueQuantity", "code"}), "mg/dL");
  EXPECT_EQ(At(g, {"valueQuantity", "system"}), "http://unitsofmeasure.org");
  EXPECT_EQ(At(g, {"referenceRange", "0", "high", "value"}), "99");
  EXPECT_EQ(At(g, {"referenceRange", "0", "high", "unit"}), "mg/dL");
  ASSERT_EQ(g.find("interpretation")->items().size(), 2u);  // OBX-8 repetitions
  EXPECT_EQ(Code(&g.find("interpretation")->items()[1]), "A");
  EXPECT_EQ(g.string_at("status"), "final");
  EXPECT_EQ(g.string_at("effectiveDateTime"), "2023-01-01T10:00:00+00:00");
  EXPECT_EQ(At(g, {"subject", "reference"}), "Patient/" + PatientId());
  EXPECT_EQ(At(g, {"encounter", "reference"}), "Encounter/" + EncounterId());
  EXPECT_EQ(At(g, {"performer", "0", "display"}), "TOM TECH");  // OBX-16
  EXPECT_EQ(At(g, {"performer", "1", "reference"}), "Organization/hl7-LABFAC");
  EXPECT_TRUE(At(g, {"specimen", "reference"}).starts_with("Specimen/"));
  auto cr = All("Observation", {{"code", "http://loinc.org|2160-0"}});
  ASSERT_EQ(cr.size(), 1u);
  EXPECT_EQ(cr[0].string_at("status"), "corrected");
  EXPECT_EQ(Code(&cr[0].find("interpretation")->items()[0]), "L");
  EXPECT_EQ(At(cr[0], {"referenceRange", "0", "low", "value"}), "0.6");
  auto ana = All("Observation", {{"code", "http://loinc.org|5048-4"}});
  ASSERT_EQ(ana.size(), 1u);
  EXPECT_EQ(ana[0].string_at("status"), "preliminary");
  EXPECT_EQ(At(ana[0], {"valueRatio", "denominator", "value"}), "160");
}

TEST_F(MappingTest, OruReportOrderSpecimenAndAttachments) {
  Apply(kOru);
  auto reports = All("DiagnosticReport");
  ASSERT_EQ(reports.size(), 1u);
  const Value& dr = reports[0];
  EXPECT_EQ(dr.string_at("status"), "preliminary");  // OBR-25 P
  EXPECT_EQ(Code(dr.find("code")), "24323-8");
  EXPECT_EQ(Code(&dr.find("category")->items()[0]), "CH");
  EXPECT_EQ(dr.string_at("issued"), "2023-01-01T13:00:00+00:00");
  EXPECT_EQ(At(dr, {"performer", "0", "reference"}), "Organization/hl7-LABFAC");
  EXPECT_EQ(dr.find("result")->items().size(), 3u);  // RP and ED are attachments, not results
  ASSERT_EQ(dr.find("presentedForm")->items().size(), 2u);
  EXPECT_EQ(At(dr, {"presentedForm", "0", "url"}), "http://lab.example/r/1.pdf");
  EXPECT_EQ(At(dr, {"presentedForm", "1", "contentType"}), "text/plain");
  EXPECT_EQ(At(dr, {"presentedForm", "1", "data"}), "aGVsbG8=");  // "hello", ASCII -> Base64
  auto orders = All("ServiceRequest");
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].string_at("status"), "completed");  // ORC-5 CM
  std::string requester = At(orders[0], {"requester", "reference"});
  ASSERT_TRUE(requester.starts_with("Practitioner/"));
  EXPECT_EQ(At(Read("Practitioner", requester.substr(13)), {"name", "0", "family"}), "ORDERING");
  EXPECT_EQ(At(dr, {"basedOn", "0", "reference"}),
            "ServiceRequest/" + std::string(orders[0].string_at("id")));
  auto specimens = All("Specimen");
  ASSERT_EQ(specimens.size(), 1u);
  EXPECT_EQ(Code(specimens[0].find("type")), "119297000");
  EXPECT_EQ(At(specimens[0], {"collection", "collectedDateTime"}), "2023-01-01T09:30:00+00:00");
  EXPECT_EQ(specimens[0].string_at("receivedTime"), "2023-01-01T09:45:00+00:00");
}

TEST_F(MappingTest, EveryResourceCarriesTheSendingFacility) {
  Apply(kOru);
  for (const char* type : {"Patient", "Encounter", "Observation", "DiagnosticReport",
                           "ServiceRequest", "Specimen", "Practitioner"}) {
    for (const auto& r : All(type)) {
      bool tagged = false;
      for (const auto& t : r.find("meta")->find("tag")->items()) {
        tagged |= t.string_at("code") == "hl7-LABFAC";
      }
      EXPECT_TRUE(tagged) << type << "/" << r.string_at("id");
    }
  }
}

// Identifier systems and facilities come from the mapping tables (--hl7-config), not from code:
// an override file changes the Patient.identifier system of an assigning authority and the
// Organization of an MSH-4 facility, and a patient is still found by identifier, never duplicated.
TEST_F(MappingTest, IdentifierSystemsAndFacilitiesComeFromTheConfiguration) {
  auto config = ParseMapping(R"({
    "identifier_systems": {"GOODHEALTH": "https://goodhealth.example/mrn"},
    "facilities": {"GOOD HEALTH HOSPITAL": {"id": "org-goodhealth", "name": "Good Health"}}
  })",
                             "test config");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ProcessorOptions po;
  po.mapping = *config;
  Processor configured(*store_, po);
  ASSERT_EQ(configured.Process(Adt("A04", "CFG1", "20230101120000")).code, "AA");
  ASSERT_EQ(configured.Process(Adt("A08", "CFG2", "20230102120000")).code, "AA");
  auto patients = All("Patient", {{"identifier", "https://goodhealth.example/mrn|P100"}});
  ASSERT_EQ(patients.size(), 1u);
  EXPECT_EQ(All("Patient").size(), 1u);
  EXPECT_EQ(All("Patient", {{"identifier", kSys + "|P100"}}).size(), 0u);
  bool tagged = false;
  for (const auto& t : patients[0].find("meta")->find("tag")->items()) {
    tagged |= t.string_at("code") == "org-goodhealth";
  }
  EXPECT_TRUE(tagged) << json::Write(patients[0]);
  auto orgs = All("Organization");
  ASSERT_EQ(orgs.size(), 1u);
  EXPECT_EQ(orgs[0].string_at("id"), "org-goodhealth");
  EXPECT_EQ(orgs[0].string_at("name"), "Good Health");
  // A bad table is an error naming it.
  auto bad = ParseMapping(R"({"identifier_systems": ["x"]})", "bad.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("identifier_systems"), std::string::npos)
      << bad.status().ToString();
}

}  // namespace
}  // namespace carechart::hl7v2
