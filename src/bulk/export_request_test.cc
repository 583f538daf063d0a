#include "bulk/export_request.h"

#include <gtest/gtest.h>

namespace carechart::bulk {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

TEST(ExportRequest, ParsesEveryParameter) {
  auto r = ParseExportParameters(
      ExportLevel::kSystem, "",
      Params{
          {"_outputFormat", "application/fhir+ndjson"},
          {"_type", "Patient, Observation,Patient"},
          {"_since", "2024-01-02T03:04:05Z"},
          {"_typeFilter", "Observation?code=http://loinc.org|4548-4,1234-5,Patient?gender=female"},
          {"_elements", "id,Observation.code"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->types, (std::vector<std::string>{"Patient", "Observation"}));
  ASSERT_TRUE(r->since_us.has_value());
  EXPECT_EQ(*r->since_us, 1704164645000000);
  // The comma inside the Observation search stays with it.
  ASSERT_EQ(r->type_filters.size(), 2u);
  EXPECT_EQ(r->type_filters[0].type, "Observation");
  EXPECT_EQ(r->type_filters[0].query, "code=http://loinc.org|4548-4,1234-5");
  EXPECT_EQ(r->type_filters[1].type, "Patient");
  EXPECT_EQ(r->elements, (std::vector<std::string>{"id", "Observation.code"}));
}

TEST(ExportRequest, AcceptsTheNdjsonAbbreviations) {
  for (const char* f : {"application/fhir+ndjson", "application/ndjson", "ndjson"}) {
    EXPECT_TRUE(ParseExportParameters(ExportLevel::kSystem, "", Params{{"_outputFormat", f}}).ok())
        << f;
  }
  auto bad = ParseExportParameters(ExportLevel::kSystem, "", Params{{"_outputFormat", "csv"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().location(), "_outputFormat");
}

TEST(ExportRequest, NamesUnknownParameters) {
  auto r = ParseExportParameters(ExportLevel::kSystem, "", Params{{"_count", "5"}, {"foo", "1"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalid);
  EXPECT_NE(r.status().message().find("_count, foo"), std::string::npos) << r.status().message();
}

TEST(ExportRequest, RejectsBadValues) {
  EXPECT_FALSE(ParseExportParameters(ExportLevel::kSystem, "", Params{{"_type", "Patiant"}}).ok());
  EXPECT_FALSE(
      ParseExportParameters(ExportLevel::kSystem, "", Params{{"_since", "yesterday"}}).ok());
  EXPECT_FALSE(
      ParseExportParameters(ExportLevel::kSystem, "", Params{{"_typeFilter", "Observation"}}).ok());
  EXPECT_FALSE(ParseExportParameters(ExportLevel::kSystem, "",
                                     Params{{"_typeFilter", "Observation?nosuchparam=1"}})
                   .ok());
  // A filter on a type that _type leaves out would never apply.
  EXPECT_FALSE(
      ParseExportParameters(ExportLevel::kSystem, "",
                            Params{{"_type", "Patient"}, {"_typeFilter", "Observation?code=1"}})
          .ok());
  // Practitioner is not in the Patient compartment.
  auto r = ParseExportParameters(ExportLevel::kPatient, "", Params{{"_type", "Practitioner"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().location(), "_type");
}

TEST(ExportRequest, PatientNarrowsAPatientLevelExportOnly) {
  auto r = ParseExportParameters(ExportLevel::kPatient, "",
                                 Params{{"patient", "p1"}, {"patient", "p2"}, {"patient", "p1"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->patient_ids, (std::vector<std::string>{"p1", "p2"}));
  auto system = ParseExportParameters(ExportLevel::kSystem, "", Params{{"patient", "p1"}});
  ASSERT_FALSE(system.ok());
  EXPECT_EQ(system.status().location(), "patient");
}

TEST(ExportRequest, RoundTripsThroughJson) {
  ExportRequest r;
  r.level = ExportLevel::kGroup;
  r.group_id = "g1";
  r.types = {"Observation"};
  r.since_us = 42;
  r.type_filters = {{"Observation", "code=a,b"}};
  r.elements = {"code"};
  r.request_url = "http://x/fhir/Group/g1/$export";
  auto back = ExportRequestFromJson(ExportRequestToJson(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->level, ExportLevel::kGroup);
  EXPECT_EQ(back->group_id, "g1");
  EXPECT_EQ(back->types, r.types);
  EXPECT_EQ(back->since_us, r.since_us);
  ASSERT_EQ(back->type_filters.size(), 1u);
  EXPECT_EQ(back->type_filters[0].query, "code=a,b");
  EXPECT_EQ(back->elements, r.elements);
  EXPECT_EQ(back->request_url, r.request_url);
}

}  // namespace
}  // namespace carechart::bulk
