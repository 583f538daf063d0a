// Patient and proxy write rules, and audit events as a patient sees them (patient_rules.h).
#include "access/patient_rules.h"

#include <gtest/gtest.h>

namespace carechart::access {
namespace {

json::Value Parse(std::string_view text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? std::move(v).value() : json::Value::Object();
}

const std::vector<std::string> kOwn = {"maria", "child"};

TEST(PatientWrite, OwnMessageIsAllowed) {
  auto c = Parse(R"({"resourceType": "Communication", "status": "completed",
      "subject": {"reference": "Patient/maria"}, "sender": {"reference": "Patient/maria"},
      "recipient": [{"reference": "Practitioner/ana"}]})");
  EXPECT_TRUE(CheckPatientWrite(kOwn, c).ok());
}

TEST(PatientWrite, AnotherPatientAnywhereIsRefused) {
  // The compartment is decided by the first patient found (subject): the recipient must not
  // smuggle the message into another patient's record.
  auto c = Parse(R"({"resourceType": "Communication", "status": "completed",
      "subject": {"reference": "Patient/maria"},
      "recipient": [{"reference": "http://x/fhir/Patient/bob"}]})");
  Status s = CheckPatientWrite(kOwn, c);
  EXPECT_EQ(s.code(), StatusCode::kForbidden);
  EXPECT_NE(s.message().find("Patient/bob"), std::string::npos) << s.message();
}

TEST(PatientWrite, AppointmentOnlyAsRequestOrCancellation) {
  for (const char* status : {"proposed", "pending", "cancelled"}) {
    auto a = Parse(
        std::string(R"({"resourceType": "Appointment", "status": ")") + status +
        R"(", "participant": [{"actor": {"reference": "Patient/child"}, "status": "accepted"}]})");
    EXPECT_TRUE(CheckPatientWrite(kOwn, a).ok()) << status;
  }
  auto booked = Parse(R"({"resourceType": "Appointment", "status": "booked",
      "participant": [{"actor": {"reference": "Patient/maria"}, "status": "accepted"}]})");
  EXPECT_EQ(CheckPatientWrite(kOwn, booked).code(), StatusCode::kForbidden);
  auto task = Parse(R"({"resourceType": "Task", "status": "completed", "intent": "proposal",
      "for": {"reference": "Patient/maria"}})");
  EXPECT_EQ(CheckPatientWrite(kOwn, task).code(), StatusCode::kForbidden);
}

TEST(PatientAudit, EventNamingOnlyMeIsUnchanged) {
  auto e = Parse(R"({"resourceType": "AuditEvent", "entity": [
      {"what": {"reference": "Patient/maria"}}, {"what": {"reference": "Observation/o1"}}]})");
  auto before = json::Write(e);
  EXPECT_FALSE(RedactAuditEventForPatient(kOwn, e));
  EXPECT_EQ(json::Write(e), before);
}

TEST(PatientAudit, OtherPatientsAndTheirResourcesAreRemoved) {
  auto e =
      Parse(R"({"resourceType": "AuditEvent", "outcomeDesc": "may not see Patient/bob's record",
      "entity": [{"what": {"reference": "Patient/maria"}}, {"what": {"reference": "Patient/bob"}},
      {"what": {"reference": "Observation/bob-obs"}}, {"query": "cGF0aWVudD1ib2I="}]})");
  EXPECT_TRUE(RedactAuditEventForPatient(kOwn, e));
  std::string out = json::Write(e);
  EXPECT_EQ(out.find("bob"), std::string::npos) << out;
  EXPECT_EQ(out.find("cGF0"), std::string::npos) << out;
  EXPECT_NE(out.find("Patient/maria"), std::string::npos) << out;
  EXPECT_NE(out.find("REDACTED"), std::string::npos) << out;
}

TEST(PatientAudit, ADenialNamingAnotherPatientLosesItsReason) {
  auto e = Parse(R"({"resourceType": "AuditEvent", "outcome": "4",
      "outcomeDesc": "denied: Consent refers to Patient/bob.", "entity": [{"what": {"reference": "Consent"}}]})");
  EXPECT_TRUE(RedactAuditEventForPatient(kOwn, e));
  EXPECT_EQ(json::Write(e).find("bob"), std::string::npos) << json::Write(e);
  auto mine = Parse(
      R"({"resourceType": "AuditEvent", "outcomeDesc": "emergency access to Patient/maria."})");
  EXPECT_FALSE(RedactAuditEventForPatient(kOwn, mine));
}

}  // namespace
}  // namespace carechart::access
