#include "hl7v2/processor.h"
#include "hl7v2/processor_fixture.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fhir/json.h"
#include "hl7v2/mapper.h"
#include "hl7v2/mllp.h"

namespace carechart::hl7v2 {
namespace {

namespace fs = std::filesystem;

std::string DataDir() {
  const char* env = std::getenv("CARECHART_SHARED_DATA");
  return std::string(env && *env ? env : CARECHART_SHARED_DATA) + "/hl7v2";
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ProcessorTest : public ProcessorFixture {
 protected:
  json::Value ReadJson(const std::string& type, const std::string& id) {
    auto r = store_->Read(type, id);
    EXPECT_TRUE(r.ok()) << type << "/" << id << ": " << r.status().ToString();
    if (!r.ok()) {
      return {};
    }
    return *json::Parse(r->body);
  }
  int64_t Count(const std::string& type,
                std::vector<std::pair<std::string, std::string>> params = {}) {
    auto q = store::ParseSearch(type, params);
    EXPECT_TRUE(q.ok());
    q->count = 0;
    q->total_limit = 0;  // an exact count: the default stops at kDefaultTotalLimit
    auto r = store_->Search(*q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->total : -1;
  }
  std::string MsaCode(const std::string& ack) {
    Document d;
    Error e;
    if (!Parse(ack, &d, &e)) {
      return "unparsable ack: " + e.ToString();
    }
    Message m = d.MessageAt(d.messages.size() - 1);
    return m.Get(*m.Find("MSA"), 1);
  }
};

const char* kAdtA01 =
    "MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL|EHR|EHRFAC|20230101120000||ADT^A01^ADT_A01|MSG0001|P|2.5\r"
    "EVN|A01|20230101120000\r"
    "PID|1||PATID1234^^^GOODHEALTH^MR~123456789^^^USSSA^SS||EVERYMAN^ADAM^A^III||19610615|M||"
    "2106-3|2222 HOME STREET^^GREENSBORO^NC^27401-1020||(555) 555-2004|||S||PATID12345001\r"
    "PV1|1|I|2000^2012^01||||004777^ATTEND^AARON^A^^^^^^^^^^^NPI|||SUR||||ADM|A0||||V1001^^^"
    "GOODHEALTH^VN|||||||||||||||||||||||||20230101115500\r";

TEST_F(ProcessorTest, AdtAdmitTransferDischargeAndCancel) {
  Outcome o = processor_->Process(kAdtA01);
  ASSERT_EQ(o.code, "AA") << o.error.ToString();
  EXPECT_EQ(MsaCode(o.ack), "AA");
  EXPECT_EQ(Count("Patient"), 1);
  EXPECT_EQ(Count("Encounter"), 1);
  EXPECT_EQ(Count("Patient", {{"identifier", "urn:carechart:hl7v2:id:GOODHEALTH|PATID1234"}}), 1);
  EXPECT_EQ(Count("Patient", {{"identifier", "http://hl7.org/fhir/sid/us-ssn|123456789"}}), 1);
  // Facility stamped from MSH-4.
  EXPECT_EQ(
      Count("Encounter",
            {{"_tag", "https://carechart.dev/fhir/CodeSystem/facility|hl7-GOOD-HEALTH-HOSPITAL"}}),
      1);
  // Duplicate: acknowledged, not applied twice.
  Outcome d = processor_->Process(kAdtA01);
  EXPECT_EQ(d.code, "AA");
  EXPECT_TRUE(d.duplicate);
  EXPECT_EQ(Count("Patient"), 1);
  // A08 with a new control id updates the same patient.
  std::string a08 = kAdtA01;
  a08.replace(a08.find("ADT^A01^ADT_A01|MSG0001"), 23, "ADT^A08^ADT_A01|MSG0002");
  a08.replace(a08.find("EVERYMAN^ADAM"), 13, "EVERYMAN^ADAM");
  a08.replace(a08.find("||19610615|M"), 12, "||19610615|F");
  o = processor_->Process(a08);
  ASSERT_EQ(o.code, "AA") << o.error.ToString();
  EXPECT_EQ(Count("Patient"), 1);
  EXPECT_EQ(Count("Patient", {{"gender", "female"}}), 1);
  // A02 transfer to a new bed, A12 cancels it.
  std::string a02 = kAdtA01;
  a02.replace(a02.find("ADT^A01^ADT_A01|MSG0001"), 23, "ADT^A02^ADT_A02|MSG0003");
  a02.replace(a02.find("PV1|1|I|2000^2012^01"), 20, "PV1|1|I|3000^3012^02");
  a02.replace(a02.find("EVN|A01|20230101120000"), 22, "EVN|A02|20230102120000");
  o = processor_->Process(a02);
  ASSERT_EQ(o.code, "AA") << o.error.ToString();
  EXPECT_EQ(Count("Location"), 2);
  auto enc_id = "hl7e-" + Hash32("urn:carechart:hl7v2:id:GOODHEALTH|V1001");
  json::Value enc = ReadJson("Encounter", enc_id);
  ASSERT_EQ(enc.find("location")->items().size(), 2u);
  EXPECT_EQ(enc.find("location")->items()[0].string_at("status"), "completed");
  EXPECT_EQ(enc.find("location")->items()[1].string_at("status"), "active");
  std::string a12 = a02;
  a12.replace(a12.find("ADT^A02^ADT_A02|MSG0003"), 23, "ADT^A12^ADT_A12|MSG0004");
  o = processor_->Process(a12);
  ASSERT_EQ(o.code, "AA") << o.error.ToString();
  enc = ReadJson("Encounter", enc_id);
  ASSERT_EQ(enc.find("location")->items().size(), 1u);
  EXPECT_EQ(enc.find("location")->items()[0].string_at("status"), "active");
  // A03 discharge, then A13 cancels it.
  std::string a03 = kAdtA01;
  a03.replace(a03.find("ADT^A01^ADT_A01|MSG0001"), 23, "ADT^A03^ADT_A03|MSG0005");
  o = processor_->Process(a03);
  ASSERT_EQ(o.code, "AA") << o.error.ToString();
  enc = ReadJson("Encounter", enc_id);
  EXPECT_EQ(enc.string_at("status"), "finished");
  EXPECT_TRUE(enc.find("period")->find("end"));
  std::string a13 = a03;
  a13.replace(a13.find("ADT^A03^ADT_A03|MSG0005"), 23, "ADT^A13^ADT_A01|MSG0006");
  o = processor_->Process(a13);
  ASSERT_EQ(o.code, "AA") << o.error.ToString();
  enc = ReadJson("Encounter", enc_id);
  EXPECT_EQ(enc.string_at("status"), "in-progress");
  EXPECT_FALSE(enc.find("period")->find("end"));
  // A11 cancels the admission.
  std::string a11 = kAdtA01;
  a11.replace(a11.find("ADT^A01^ADT_A01|MSG0001"), 23, "ADT^A11^ADT_A09|MSG0007");
  o = processor_->Process(a11);
  ASSERT_EQ(o.code, "AA") << o.error.ToString();
  EXPECT_EQ(ReadJson("Encounter", enc_id).string_at("status"), "entered-in-error");
}

TEST_F(ProcessorTest, MergeMovesReferences) {
  ASSERT_EQ(processor_->Process(kAdtA01).code, "AA");
  // A second patient with an ORU result.
  std::string oru =
      "MSH|^~\\&|LAB|GOOD HEALTH HOSPITAL|EHR|EHRFAC|20230101130000||ORU^R01|LAB1|P|2.5.1\r"
      "PID|1||OLD999^^^GOODHEALTH^MR||EVERYMAN^A||19610615|M\r"
      "OBR|1|P1|F1|2345-7^Glucose^LN|||20230101120000|||||||||||||||20230101130000||CH|F\r"
      "OBX|1|NM|2345-7^Glucose^LN||95|mg/dL^mg/dL^UCUM|70-99|N|||F\r";
  Outcome o = processor_->Process(oru);
  ASSERT_EQ(o.code, "AA") << o.error.ToString();
  EXPECT_EQ(Count("Patient"), 2);
  std::string a40 =
      "MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL|EHR|EHRFAC|20230101140000||ADT^A40^ADT_A39|MRG1|P|2.5\r"
      "EVN|A40|20230101140000\r"
      "PID|1||PATID1234^^^GOODHEALTH^MR||EVERYMAN^ADAM\r"
      "MRG|OLD999^^^GOODHEALTH^MR\r";
  o = processor_->Process(a40);
  ASSERT_EQ(o.code, "AA") << o.error.ToString();
  std::string survivor = "hl7p-" + Hash32("urn:carechart:hl7v2:id:GOODHEALTH|PATID1234");
  std::string prior = "hl7p-" + Hash32("urn:carechart:hl7v2:id:GOODHEALTH|OLD999");
  json::Value s = ReadJson("Patient", survivor);
  ASSERT_TRUE(s.find("link"));
  EXPECT_EQ(s.find("link")->items()[0].string_at("type"), "replaces");
  json::Value p = ReadJson("Patient", prior);
  EXPECT_FALSE(p.find("active")->as_bool());
  EXPECT_EQ(Count("Observation", {{"subject", "Patient/" + survivor}}), 1);
  EXPECT_EQ(Count("Observation", {{"subject", "Patient/" + prior}}), 0);
  EXPECT_EQ(Count("DiagnosticReport", {{"subject", "Patient/" + survivor}}), 1);
  // A later result for the old identifier lands on the survivor.
  std::string oru2 = oru;
  oru2.replace(oru2.find("|LAB1|"), 6, "|LAB2|");
  oru2.replace(oru2.find("|P1|F1|"), 7, "|P2|F2|");
  ASSERT_EQ(processor_->Process(oru2).code, "AA");
  EXPECT_EQ(Count("Observation", {{"subject", "Patient/" + survivor}}), 2);
  EXPECT_EQ(Count("Patient"), 2);
}

TEST_F(ProcessorTest, OruValuesRangesFlagsAndAttachments) {
  std::string oru =
      "MSH|^~\\&|LAB|LABFAC|EHR|EHRFAC|20230101130000||ORU^R01^ORU_R01|R1|P|2.5.1\r"
      "PID|1||P1^^^H^MR||DOE^JANE||19800101|F\r"
      "PV1|1|O|CLINIC^1^A||||||||||||||||V77^^^H^VN\r"
      "ORC|RE|ORD1|FIL1||CM||||||||1234^ORDERING^OLIVIA\r"
      "OBR|1|ORD1|FIL1|24323-8^Metabolic "
      "panel^LN|||20230101100000|||||||||1234^ORDERING^OLIVIA||||||20230101130000||CH|F|||||||99^"
      "INTERP&Ian&I\r"
      "OBX|1|NM|2345-7^Glucose^LN||182|mg/dL^mg/dL^UCUM|70-99|H|||F|||20230101100000||55^TECH^TOM\r"
      "NTE|1||fasting\r"
      "OBX|2|SN|5048-4^ANA^LN||>^160|{titer}^^UCUM|<40|A|||F\r"
      "OBX|3|CWE|5195-3^HBsAg^LN||260385009^Negative^SCT||||||F\r"
      "OBX|4|ED|PDF^Report^L||^application^pdf^Base64^JVBERi0xLjQK||||||F\r"
      "OBX|5|ST|8251-1^Comment^LN||see \\T\\ note||||||C\r"
      "SPM|1|S1^S1||119297000^Blood^SCT|||||||||||||20230101093000|20230101094500\r";
  Outcome o = processor_->Process(oru);
  ASSERT_EQ(o.code, "AA") << o.error.ToString();
  EXPECT_EQ(Count("DiagnosticReport"), 1);
  EXPECT_EQ(Count("Observation"), 4);
  EXPECT_EQ(Count("Specimen"), 1);
  EXPECT_EQ(Count("ServiceRequest"), 1);
  EXPECT_EQ(Count("Encounter"), 1);
  EXPECT_EQ(Count("Observation", {{"value-quantity", "182|http://unitsofmeasure.org|mg/dL"}}), 1);
  auto q = store::ParseSearch("Observation", {{"code", "http://loinc.org|2345-7"}});
  auto r = store_->Search(*q);
  ASSERT_EQ(r->matches.size(), 1u);
  json::Value obs = *json::Parse(r->matches[0].body);
  EXPECT_EQ(obs.find("interpretation")->items()[0].find("coding")->items()[0].string_at("code"),
            "H");
  EXPECT_EQ(obs.find("referenceRange")->items()[0].find("low")->find("value")->text(), "70");
  EXPECT_EQ(obs.find("note")->items()[0].string_at("text"), "fasting");
  EXPECT_TRUE(obs.find("specimen"));
  EXPECT_TRUE(obs.find("encounter"));
  q = store::ParseSearch("DiagnosticReport", {});
  r = store_->Search(*q);
  json::Value dr = *json::Parse(r->matches[0].body);
  EXPECT_EQ(dr.find("presentedForm")->items()[0].string_at("contentType"), "application/pdf");
  EXPECT_EQ(dr.find("result")->items().size(), 4u);
  EXPECT_TRUE(dr.find("resultsInterpreter"));
}

TEST_F(ProcessorTest, ErrorsAreQueuedAndReplayed) {
  // An abnormal flag missing from the table: AE naming OBX-8, queued.
  std::string oru =
      "MSH|^~\\&|LAB|LABFAC|EHR|EHRFAC|20230101130000||ORU^R01|E1|P|2.5.1\r"
      "PID|1||P1^^^H^MR||DOE^JANE||19800101|F\r"
      "OBR|1|O1|F1|2345-7^Glucose^LN|||20230101100000||||||||||||||||||F\r"
      "OBX|1|NM|2345-7^Glucose^LN||182|mg/dL|70-99|ZZ|||F\r";
  Outcome o = processor_->Process(oru);
  EXPECT_EQ(o.code, "AE");
  EXPECT_EQ(o.error.segment, "OBX");
  EXPECT_EQ(o.error.field, 8);
  Document d;
  Error e;
  ASSERT_TRUE(Parse(o.ack, &d, &e));
  Message ack = d.MessageAt(0);
  ASSERT_TRUE(ack.Find("ERR"));
  EXPECT_EQ(ack.Get(*ack.Find("ERR"), 2, 0, 1), "OBX");
  EXPECT_EQ(ack.Get(*ack.Find("ERR"), 2, 0, 3), "8");
  EXPECT_EQ(Count("Observation"), 0);
  auto list = processor_->ListErrors(10);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, o.error_id);
  // Fix the mapping, replay.
  ProcessorOptions po;
  po.mapping.interpretation["ZZ"] = "A";
  Processor fixed(*store_, po);
  auto replayed = fixed.Replay(o.error_id);
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(replayed->code, "AA") << replayed->error.ToString();
  EXPECT_EQ(Count("Observation"), 1);
  EXPECT_TRUE(processor_->ListErrors(10)->empty());
  // A second replay is a no-op duplicate.
  replayed = fixed.Replay(o.error_id);
  ASSERT_TRUE(replayed.ok());
  EXPECT_TRUE(replayed->duplicate);
  // Unsupported type: AR, queued; unparsable: AR.
  o = processor_->Process("MSH|^~\\&|X|Y|Z|W|20230101||MDM^T02|M1|P|2.5\rEVN|T02\r");
  EXPECT_EQ(o.code, "AR");
  EXPECT_EQ(o.error.field, 9);
  o = processor_->Process("PID|1||x\r");
  EXPECT_EQ(o.code, "AR");
  EXPECT_EQ(MsaCode(o.ack), "AR");
  EXPECT_EQ(processor_->ListErrors(10)->size(), 2u);
}

TEST_F(ProcessorTest, EverySharedSampleIsHandled) {
  if (!fs::exists(DataDir())) {
    GTEST_SKIP() << "no shared data";
  }
  int aa = 0, rejected = 0, total = 0;
  for (const auto& entry : fs::recursive_directory_iterator(DataDir())) {
    if (entry.path().extension() != ".hl7") {
      continue;
    }
    ++total;
    std::string name = entry.path().lexically_relative(DataDir()).string();
    Outcome o = processor_->Process(ReadFile(entry.path()));
    ASSERT_FALSE(o.ack.empty()) << name;
    Document d;
    Error e;
    ASSERT_TRUE(Parse(o.ack, &d, &e)) << name << ": the ACK does not parse: " << e.ToString();
    bool malformed = name.starts_with("malformed/");
    if (malformed) {
      EXPECT_EQ(o.code, "AR") << name;
      ++rejected;
    } else if (o.code == "AA") {
      ++aa;
    } else {
      std::cout << "  " << o.code << " " << name << ": " << o.error.ToString() << "\n";
      // Every ADT and ORU sample is applied; other types (OML, OUL, QBP, BAR, ERP, ACK) are
      // refused as unsupported. hapi_example_oml_o21.hl7 is a mix (its ORU lacks PID-3).
      bool adt_or_oru = name.starts_with("msfc_") || name.starts_with("nhc_") ||
                        name.starts_with("rh_") || name.starts_with("pyhl7_") ||
                        name.starts_with("emap_") || name == "medplum_adt-a04-epic.hl7";
      // Two samples are answered AE on purpose: rh_edge-empty-segments.hl7 has an empty PID-3
      // (no patient to file it under) and nhc_realm-hepatitis-c-virus.hl7 has its OBX fields
      // shifted by one (OBX-8 holds the units "1^^UCUM"), which the interpretation table refuses.
      if (name == "rh_edge-empty-segments.hl7") {
        EXPECT_EQ(o.error.ToString().substr(0, 5), "PID-3");
      } else if (name == "nhc_realm-hepatitis-c-virus.hl7") {
        EXPECT_EQ(o.error.ToString().substr(0, 5), "OBX-8");
      } else {
        EXPECT_FALSE(adt_or_oru) << name << ": " << o.error.ToString();
      }
      if (!adt_or_oru && name != "hapi_example_oml_o21.hl7") {
        EXPECT_TRUE(o.error.code == 200 || o.error.code == 201) << name;
      }
    }
  }
  std::cout << "hl7v2 samples through the processor: " << aa << " applied (AA), " << rejected
            << " malformed rejected (AR), " << total << " files\n";
  EXPECT_EQ(total, 40);
  EXPECT_GE(aa, 20);
}

TEST_F(ProcessorTest, MllpConcurrentSenders) {
  MllpOptions mo;
  mo.port = 0;
  mo.idle_timeout_seconds = 5;
  auto server = MllpServer::Start(mo, *processor_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  constexpr int kSenders = 8, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> acks{0};
  for (int s = 0; s < kSenders; ++s) {
    threads.emplace_back([&, s] {
      auto c = MllpClient::Connect("127.0.0.1", (*server)->port());
      ASSERT_TRUE(c.ok());
      for (int i = 0; i < kEach; ++i) {
        std::string msg = "MSH|^~\\&|S" + std::to_string(s) +
                          "|FAC|EHR|EHRFAC|20230101130000||ADT^A04|C" + std::to_string(i) +
                          "|P|2.5\rPID|1||S" + std::to_string(s) + "P" + std::to_string(i % 5) +
                          "^^^H^MR||DOE^J" + std::to_string(i) + "\rPV1|1|O|CL^1||||||||||||||||V" +
                          std::to_string(s) + "-" + std::to_string(i) + "^^^H^VN\r";
        // Every fifth message arrives in two pieces.
        if (i % 5 == 0) {
          std::string f = Frame(msg);
          ASSERT_TRUE((*c)->SendRaw(f.substr(0, 10)).ok());
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          ASSERT_TRUE((*c)->SendRaw(f.substr(10)).ok());
          auto ack = (*c)->ReadFrame();
          ASSERT_TRUE(ack.ok());
          if (MsaCode(*ack) == "AA") {
            ++acks;
          }
        } else {
          auto ack = (*c)->Send(msg);
          ASSERT_TRUE(ack.ok()) << ack.status().ToString();
          if (MsaCode(*ack) == "AA") {
            ++acks;
          }
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(acks.load(), kSenders * kEach);
  EXPECT_EQ(Count("Encounter"), kSenders * kEach);
  EXPECT_EQ(Count("Patient"), kSenders * 5);
  // An oversized frame is refused and the connection closed; an abrupt disconnect is harmless.
  {
    auto c = MllpClient::Connect("127.0.0.1", (*server)->port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->SendRaw(std::string(1, kMllpStart) + "MSH|^~\\&|A|B").ok());
  }
  (*server)->Stop();
}

}  // namespace
}  // namespace carechart::hl7v2
