// The policy against the authorisation matrix (tests/security/matrix.json) and the rules the
// matrix does not cover (consent, break-the-glass, categories, the role table's errors).
#include "access/policy.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "access/facts.h"
#include "fhir/definitions.h"
#include "fhir/json.h"

namespace carechart::access {
namespace {

json::Value LoadMatrix() {
  std::ifstream in(std::string(CARECHART_SECURITY_TESTS) + "/matrix.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = json::Parse(ss.str());
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? std::move(parsed).value() : json::Value::Object();
}

Action ActionOf(std::string_view a) {
  if (a == "read") return Action::kRead;
  if (a == "search") return Action::kSearch;
  if (a == "everything") return Action::kEverything;
  if (a == "create") return Action::kCreate;
  if (a == "update") return Action::kUpdate;
  return Action::kDelete;
}

auth::Principal PrincipalFor(auth::Role role, const json::Value& matrix) {
  auth::Principal p;
  p.role = role;
  p.user_id = "u-" + std::string(RoleName(role));
  p.facility_ids = {std::string(matrix.string_at("user_facility"))};
  if (role == auth::Role::kPhysician || role == auth::Role::kNurse ||
      role == auth::Role::kPharmacist || role == auth::Role::kLab) {
    p.practitioner_id = std::string(matrix.string_at("practitioner"));
  }
  if (role == auth::Role::kPatient) {
    p.patient_id = "p-own";
    p.facility_ids.clear();
  }
  if (role == auth::Role::kProxy) {
    p.proxy_patient_ids = {"p-own"};
    p.facility_ids.clear();
  }
  return p;
}

// Runs one matrix row; returns a failure description or "".
std::string RunCase(const Policy& policy, const json::Value& matrix, const json::Value& row) {
  auto role = auth::ParseRole(row.string_at("role"));
  if (!role) {
    return "unknown role " + std::string(row.string_at("role"));
  }
  const json::Value& ctx = *matrix.find("contexts")->find(row.string_at("context"));
  std::string resource(row.string_at("resource"));
  ResourceFacts f;
  auto hash = resource.find('#');
  f.type = resource.substr(0, hash);
  if (hash != std::string::npos) {
    f.categories.push_back(resource.substr(hash + 1));
  }
  f.id = "r1";
  // A create is recorded at the request's facility, the user's own; the others act on the
  // stored resource of the context.
  bool create = row.string_at("action") == "create";
  f.facility_id =
      std::string(create ? matrix.string_at("user_facility") : ctx.string_at("facility"));
  bool in_compartment = f.type == "Patient" || !fhir::PatientCompartmentParams(f.type).empty();
  if (in_compartment) {
    f.patient_id = std::string(ctx.string_at("patient"));
  }
  PatientFacts pf;
  pf.care_relationship = ctx.find("care_relationship")->as_bool();
  Decision d = policy.Decide(PrincipalFor(*role, matrix), ActionOf(row.string_at("action")), f, pf);
  bool want = row.string_at("expect") == "allow";
  if (d.allowed == want) {
    return "";
  }
  return std::string(row.string_at("role")) + " " + std::string(row.string_at("action")) + " " +
         resource + " " + std::string(row.string_at("context")) + ": expected " +
         std::string(row.string_at("expect")) + ", got " + (d.allowed ? "allow" : "deny") + " (" +
         d.reason + ")";
}

TEST(PolicyMatrix, EveryCaseOfTheMatrixHolds) {
  json::Value matrix = LoadMatrix();
  const json::Value* cases = matrix.find("cases");
  ASSERT_NE(cases, nullptr);
  ASSERT_GE(cases->items().size(), 13u * 6 * 4);
  Policy policy(DefaultPolicyConfig());
  int failures = 0;
  for (const json::Value& row : cases->items()) {
    std::string problem = RunCase(policy, matrix, row);
    if (!problem.empty()) {
      ADD_FAILURE() << problem;
      ++failures;
    }
  }
  std::cout << "authorisation matrix (policy): " << cases->items().size() - failures << "/"
            << cases->items().size() << " cases hold\n";
}

TEST(PolicyMatrix, EmrModeKeepsClinicansAtTheirFacilities) {
  json::Value matrix = LoadMatrix();
  PolicyConfig config = DefaultPolicyConfig();
  config.mode = Mode::kEmr;
  Policy policy(config);
  const json::Value* cases = matrix.find("emr_cases");
  ASSERT_NE(cases, nullptr);
  ASSERT_FALSE(cases->items().empty());
  for (const json::Value& row : cases->items()) {
    EXPECT_EQ(RunCase(policy, matrix, row), "");
  }
}

// DecidesOnTypeAlone (the access check's shortcut that leaves bodies unparsed) may only say
// so where Decide really is DecideType: checked for every role and read action over resources
// that differ in everything else the facts hold.
TEST(Policy, DecidingOnTypeAloneMeansTheOtherFactsChangeNothing) {
  json::Value matrix = LoadMatrix();
  Policy policy(DefaultPolicyConfig());
  std::vector<ResourceFacts> variants;
  for (std::string type :
       {"Observation", "Condition", "Patient", "Practitioner", "AuditEvent", "Basic", "Consent"}) {
    for (std::string facility : {"", "F1", "elsewhere"}) {
      for (std::string patient : {"", "p-own", "p-other"}) {
        for (std::vector<std::string> categories :
             {std::vector<std::string>{}, {"vital-signs"}, {"laboratory"}}) {
          ResourceFacts f;
          f.type = type;
          f.id = "x";
          f.facility_id = facility;
          f.patient_id = patient;
          f.categories = categories;
          variants.push_back(f);
          f.sensitivity = {"PSY"};
          variants.push_back(f);
        }
      }
    }
  }
  PatientFacts restricted;
  restricted.consent.whole_record = true;
  restricted.consent.categories = {"PSY"};
  int shortcuts = 0;
  for (int r = 0; r <= static_cast<int>(auth::Role::kSystem); ++r) {
    auth::Principal p = PrincipalFor(static_cast<auth::Role>(r), matrix);
    for (Action action : {Action::kRead, Action::kSearch, Action::kEverything}) {
      for (const ResourceFacts& f : variants) {
        if (!policy.DecidesOnTypeAlone(p, action, f.type)) {
          continue;
        }
        ++shortcuts;
        bool by_type = policy.DecideType(p, action, f.type).allowed;
        for (const PatientFacts& pf : {PatientFacts{}, restricted}) {
          EXPECT_EQ(policy.Decide(p, action, f, pf).allowed, by_type)
              << RoleName(p.role) << " " << ActionName(action) << " " << f.type << " facility "
              << f.facility_id << " patient " << f.patient_id;
        }
      }
    }
    EXPECT_FALSE(policy.DecidesOnTypeAlone(p, Action::kUpdate, "Observation"));
  }
  EXPECT_GT(shortcuts, 0);  // roles reaching everyone (backend services, privacy officers)
}

ResourceFacts RemoteObservation() {
  ResourceFacts f;
  f.type = "Observation";
  f.id = "o1";
  f.facility_id = "F2";
  f.patient_id = "p1";
  f.categories = {"laboratory"};
  return f;
}

auth::Principal Doctor() {
  auth::Principal p;
  p.role = auth::Role::kPhysician;
  p.user_id = "dr";
  p.facility_ids = {"F1"};
  return p;
}

TEST(Policy, BreakTheGlassOpensReadsOnlyAndSaysSo) {
  Policy policy(DefaultPolicyConfig());
  PatientFacts pf;
  EXPECT_FALSE(policy.Decide(Doctor(), Action::kRead, RemoteObservation(), pf).allowed);
  pf.emergency_grant = true;
  Decision d = policy.Decide(Doctor(), Action::kRead, RemoteObservation(), pf);
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.emergency);
  EXPECT_FALSE(policy.Decide(Doctor(), Action::kUpdate, RemoteObservation(), pf).allowed);
  auth::Principal clerk = Doctor();
  clerk.role = auth::Role::kFrontDesk;
  ResourceFacts appt = RemoteObservation();
  appt.type = "Appointment";
  EXPECT_FALSE(policy.Decide(clerk, Action::kRead, appt, pf).allowed)
      << "front desk may not break the glass";
}

TEST(Policy, ConsentKeepsSensitiveDataAtTheRecordingFacility) {
  Policy policy(DefaultPolicyConfig());
  PatientFacts pf;
  pf.care_relationship = true;
  pf.consent.categories = {"PSY"};
  ResourceFacts f = RemoteObservation();
  EXPECT_TRUE(policy.Decide(Doctor(), Action::kRead, f, pf).allowed) << "not sensitive";
  f.sensitivity = {"PSY"};
  Decision d = policy.Decide(Doctor(), Action::kRead, f, pf);
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find("consent"), std::string::npos) << d.reason;
  f.facility_id = "F1";
  EXPECT_TRUE(policy.Decide(Doctor(), Action::kRead, f, pf).allowed) << "recorded here";
}

TEST(Policy, EmergencyOverridesConsentOnlyWhereAllowed) {
  Policy policy(DefaultPolicyConfig());  // overrides: facility, PSY, HIV, SEX (not ETH)
  PatientFacts pf;
  pf.emergency_grant = true;
  pf.consent.whole_record = true;
  ResourceFacts f = RemoteObservation();
  Decision d = policy.Decide(Doctor(), Action::kRead, f, pf);
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.consent_overridden);
  pf.consent.whole_record_binding_in_emergency = true;  // the consent says "even in emergencies"
  EXPECT_FALSE(policy.Decide(Doctor(), Action::kRead, f, pf).allowed);
  pf.consent = {};
  pf.consent.categories = {"ETH"};
  f.sensitivity = {"ETH"};
  d = policy.Decide(Doctor(), Action::kRead, f, pf);
  EXPECT_FALSE(d.allowed) << "ETH is not in emergency_overrides";
  EXPECT_NE(d.reason.find("may not override"), std::string::npos) << d.reason;
}

TEST(Policy, PatientsSeeTheirOwnRecordWhateverTheConsent) {
  Policy policy(DefaultPolicyConfig());
  auth::Principal me;
  me.role = auth::Role::kPatient;
  me.patient_id = "p1";
  PatientFacts pf;
  pf.consent.whole_record = true;
  EXPECT_TRUE(policy.Decide(me, Action::kRead, RemoteObservation(), pf).allowed);
}

TEST(Policy, OnlyTheServerWritesBreakTheGlassGrants) {
  Policy policy(DefaultPolicyConfig());
  ResourceFacts grant;
  grant.type = "Basic";
  grant.categories = {"emergency-access"};
  grant.patient_id = "p1";
  grant.facility_id = "F1";
  Decision d = policy.Decide(Doctor(), Action::kCreate, grant, {});
  EXPECT_FALSE(d.allowed);
  auth::Principal server;
  server.role = auth::Role::kSystem;
  EXPECT_TRUE(policy.Decide(server, Action::kCreate, grant, {}).allowed);
}

TEST(Policy, NursesWriteVitalSignsOnly) {
  Policy policy(DefaultPolicyConfig());
  auth::Principal nurse = Doctor();
  nurse.role = auth::Role::kNurse;
  ResourceFacts f = RemoteObservation();
  f.facility_id = "F1";
  EXPECT_FALSE(policy.Decide(nurse, Action::kCreate, f, {}).allowed) << "laboratory";
  f.categories = {"vital-signs"};
  EXPECT_TRUE(policy.Decide(nurse, Action::kCreate, f, {}).allowed);
}

TEST(RoleTable, ShippedTableParsesAndErrorsNameThePath) {
  EXPECT_TRUE(ParsePolicyConfig(DefaultPolicyJson()).ok());
  auto bad = ParsePolicyConfig(R"({"roles": {"physician": {"read": ["*"], "reach": "galaxy"}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("roles.physician.reach"), std::string::npos)
      << bad.status().message();
  auto missing = ParsePolicyConfig(R"({"roles": {}})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing"), std::string::npos);
  auto mode = ParsePolicyConfig(R"({"mode": "cloud", "roles": {}})");
  ASSERT_FALSE(mode.ok());
  EXPECT_NE(mode.status().message().find("mode"), std::string::npos);
}

TEST(Facts, FacilityPatientLabelsAndCodes) {
  auto r = json::Parse(R"({"resourceType": "Condition", "id": "c1",
    "meta": {"tag": [{"system": "https://carechart.dev/fhir/CodeSystem/facility", "code": "F2"}],
             "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HIV"}]},
    "subject": {"reference": "Patient/p9"},
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "F32.1"}]}})");
  ASSERT_TRUE(r.ok());
  ResourceFacts f = FactsOf(*r, DefaultPolicyConfig());
  EXPECT_EQ(f.type, "Condition");
  EXPECT_EQ(f.facility_id, "F2");
  EXPECT_EQ(f.patient_id, "p9");
  EXPECT_TRUE(f.sensitivity.contains("HIV")) << "security label";
  EXPECT_TRUE(f.sensitivity.contains("PSY")) << "ICD-10 F32 by the code table";
  EXPECT_FALSE(f.sensitivity.contains("ETH"));
}

TEST(Deidentify, StripsIdentityAndKeepsTheYearOfBirth) {
  auto r = json::Parse(R"({"resourceType": "Patient", "id": "p1",
    "identifier": [{"value": "MRN-1"}], "name": [{"family": "Lopez"}],
    "telecom": [{"value": "555"}], "address": [{"city": "Springfield"}],
    "birthDate": "1970-03-04", "gender": "female",
    "generalPractitioner": [{"reference": "Practitioner/x", "display": "Dr Who"}]})");
  ASSERT_TRUE(r.ok());
  Deidentify(*r);
  std::string out = json::Write(*r);
  for (const char* gone : {"MRN-1", "Lopez", "555", "Springfield", "Dr Who", "03-04"}) {
    EXPECT_EQ(out.find(gone), std::string::npos) << gone << " in " << out;
  }
  EXPECT_EQ(r->string_at("birthDate"), "1970");
  EXPECT_NE(out.find("REDACTED"), std::string::npos);
  EXPECT_NE(out.find("Practitioner/x"), std::string::npos);
}

}  // namespace
}  // namespace carechart::access
