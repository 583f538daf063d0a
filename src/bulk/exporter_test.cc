#include "bulk/exporter.h"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "bulk/bulk_test_util.h"

namespace carechart::bulk {
namespace {

// Microseconds since the epoch, after every earlier write (timestamps are taken before writing).
int64_t NowUs() {
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class ExporterTest : public testing::BulkStoreTest {
 protected:
  // Runs an export into a new folder; returns "Type/id" of every exported line, per type.
  std::map<std::string, std::set<std::string>> Export(const ExportRequest& request,
                                                      ExportResult* result_out = nullptr,
                                                      ExportRunOptions options = {}) {
    std::string out = dir_ + "/out" + std::to_string(++runs_);
    std::filesystem::create_directories(out);
    auto result = RunExport(*store_, request, out, options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::map<std::string, std::set<std::string>> ids;
    if (!result.ok()) {
      return ids;
    }
    for (const OutputFile& f : result->files) {
      auto lines = Lines(ReadFile(out + "/" + f.name));
      EXPECT_EQ(static_cast<int64_t>(lines.size()), f.count) << f.name;
      for (const std::string& line : lines) {
        auto doc = json::Parse(line);
        EXPECT_TRUE(doc.ok()) << line;
        EXPECT_EQ(doc->string_at("resourceType"), f.type);
        ids[f.type].insert(f.type + "/" + std::string(doc->string_at("id")));
      }
    }
    if (result_out) {
      *result_out = *result;
    }
    last_dir_ = out;
    return ids;
  }

  int runs_ = 0;
  std::string last_dir_;
};

TEST_F(ExporterTest, SystemExportWritesEveryCurrentResourceAsStored) {
  ASSERT_EQ(Send("DELETE", "/fhir/Observation/o3"), 204);
  ExportResult result;
  auto ids = Export(ExportRequest{}, &result);
  EXPECT_EQ(ids["Patient"], (std::set<std::string>{"Patient/p1", "Patient/p2", "Patient/p3"}));
  EXPECT_EQ(ids["Observation"], (std::set<std::string>{"Observation/o1", "Observation/o2"}));
  EXPECT_EQ(ids["Practitioner"].size(), 1u);
  EXPECT_EQ(ids["Group"].size(), 1u);
  EXPECT_EQ(ids["Encounter"].size(), 1u);
  EXPECT_EQ(result.resources, 8);
  // The stored JSON, byte for byte (meta included).
  auto stored = store_->Read("Observation", "o1");
  ASSERT_TRUE(stored.ok());
  std::string text = ReadFile(last_dir_ + "/Observation-1.ndjson");
  EXPECT_NE(text.find(stored->body + "\n"), std::string::npos);
  EXPECT_NE(stored->body.find("\"meta\""), std::string::npos);
}

TEST_F(ExporterTest, TypeSinceAndTypeFilter) {
  ExportRequest r;
  r.types = {"Observation", "Patient"};
  auto ids = Export(r);
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids["Observation"].size(), 3u);

  r.type_filters = {{"Observation", "code=http://loinc.org|8867-4"},
                    {"Patient", "gender=female"},
                    {"Patient", "_id=p1,p2"}};
  ids = Export(r);
  EXPECT_EQ(ids["Observation"], (std::set<std::string>{"Observation/o2", "Observation/o3"}));
  // Two filters on Patient are ORed, and p1 (matching both) is written once.
  EXPECT_EQ(ids["Patient"], (std::set<std::string>{"Patient/p1", "Patient/p2", "Patient/p3"}));

  int64_t before_update = NowUs();
  ASSERT_EQ(
      Send("PUT", "/fhir/Patient/p3", R"({"resourceType":"Patient","id":"p3","gender":"other"})"),
      200);
  ExportRequest since;
  since.since_us = before_update;
  ids = Export(since);
  EXPECT_EQ(ids.size(), 1u);
  for (const auto& [type, set] : ids) {
    for (const std::string& key : set) {
      auto v = store_->Read(type, key.substr(type.size() + 1));
      EXPECT_TRUE(type == "Patient")
          << key << " updated " << v->last_updated_us << ", since " << before_update;
    }
  }
  EXPECT_EQ(ids["Patient"], (std::set<std::string>{"Patient/p3"}));
}

TEST_F(ExporterTest, ResourcesChangedAfterTheTransactionTimeAreExportedAsTheyWere) {
  int64_t tt = NowUs();
  ASSERT_EQ(
      Send("PUT", "/fhir/Patient/p3", R"({"resourceType":"Patient","id":"p3","gender":"other"})"),
      200);
  Import(R"({"resourceType":"Patient","id":"p4"})");
  ExportRequest r;
  r.types = {"Patient"};
  ExportRunOptions o;
  o.transaction_time_us = tt;
  auto ids = Export(r, nullptr, o);
  EXPECT_EQ(ids["Patient"], (std::set<std::string>{"Patient/p1", "Patient/p2", "Patient/p3"}));
  std::string text = ReadFile(last_dir_ + "/Patient-1.ndjson");
  EXPECT_EQ(text.find("\"other\""), std::string::npos);
  EXPECT_NE(text.find("\"female\""), std::string::npos);
}

// D91: what is deleted after a system export's transaction time is still exported as it was (a
// job's read begins after that instant; the resource was lost before, on both backends), updated
// ones as they were, new ones not at all; whatever the chunk size (PostgreSQL) and whichever shape
// the SQLite scan takes (the table, or a walk of a minority type).
TEST_F(ExporterTest, ASystemExportIsTheStateAtTheTransactionTimeWhateverChangedSince) {
  ASSERT_EQ(Send("DELETE", "/fhir/Observation/o3"), 204);  // before: not exported
  int64_t tt = NowUs();
  auto before = store_->Read("Observation", "o1");
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(Send("DELETE", "/fhir/Observation/o1"), 204);
  ASSERT_EQ(Send("DELETE", "/fhir/Patient/p2"), 204);
  ASSERT_EQ(
      Send("PUT", "/fhir/Patient/p3", R"({"resourceType":"Patient","id":"p3","gender":"other"})"),
      200);
  Import(R"({"resourceType":"Patient","id":"p4"})");
  for (int chunk : {1, 2, 10000}) {
    for (const std::vector<std::string>& types :
         {std::vector<std::string>{}, std::vector<std::string>{"Observation"}}) {
      ExportRequest r;
      r.types = types;
      ExportRunOptions o;
      o.transaction_time_us = tt;
      o.scan_chunk_rows = chunk;
      ExportResult result;
      auto ids = Export(r, &result, o);
      SCOPED_TRACE("chunk " + std::to_string(chunk) + ", " + std::to_string(types.size()) +
                   " types");
      EXPECT_EQ(ids["Observation"], (std::set<std::string>{"Observation/o1", "Observation/o2"}));
      std::string text = ReadFile(last_dir_ + "/Observation-1.ndjson");
      EXPECT_NE(text.find(before->body + "\n"), std::string::npos) << "o1 as it was at tt";
      if (types.empty()) {
        EXPECT_EQ(ids["Patient"],
                  (std::set<std::string>{"Patient/p1", "Patient/p2", "Patient/p3"}));
        EXPECT_EQ(result.resources, 8);
        std::string patients = ReadFile(last_dir_ + "/Patient-1.ndjson");
        EXPECT_EQ(patients.find("\"other\""), std::string::npos);
      }
    }
  }
}

TEST_F(ExporterTest, PatientLevelLeavesOutResourcesOutsideTheCompartments) {
  ExportRequest r;
  r.level = ExportLevel::kPatient;
  auto ids = Export(r);
  EXPECT_EQ(ids.count("Practitioner"), 0u);
  EXPECT_EQ(ids["Patient"].size(), 3u);
  EXPECT_EQ(ids["Observation"].size(), 3u);
  EXPECT_EQ(ids["Encounter"].size(), 1u);

  r.patient_ids = {"p2"};
  ids = Export(r);
  EXPECT_EQ(ids["Patient"], (std::set<std::string>{"Patient/p2"}));
  EXPECT_EQ(ids["Observation"], (std::set<std::string>{"Observation/o2"}));

  r.patient_ids = {};
  r.type_filters = {{"Observation", "code=http://loinc.org|4548-4"}};
  ids = Export(r);
  EXPECT_EQ(ids["Observation"], (std::set<std::string>{"Observation/o1"}));
}

TEST_F(ExporterTest, GroupLevelExportsTheMembersAndReportsOtherMembers) {
  ExportRequest r;
  r.level = ExportLevel::kGroup;
  r.group_id = "g1";
  ExportResult result;
  auto ids = Export(r, &result);
  EXPECT_EQ(ids["Patient"], (std::set<std::string>{"Patient/p1"}));
  EXPECT_EQ(ids["Observation"], (std::set<std::string>{"Observation/o1", "Observation/o3"}));
  EXPECT_EQ(ids.count("Encounter"), 0u);
  ASSERT_EQ(result.error_files.size(), 1u);
  std::string errors = ReadFile(last_dir_ + "/" + result.error_files[0].name);
  EXPECT_NE(errors.find("Practitioner/d1"), std::string::npos) << errors;

  r.group_id = "nope";
  std::filesystem::create_directories(dir_ + "/none");
  auto missing = RunExport(*store_, r, dir_ + "/none", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(ExporterTest, SplitsFilesAndWritesGzip) {
  ExportRequest r;
  r.types = {"Patient", "Observation"};
  ExportRunOptions o;
  o.limits.max_resources_per_file = 2;
  o.limits.gzip = true;
  o.page_size = 1;  // many pages: the keyset paging must not lose or repeat anything
  ExportResult result;
  auto ids = Export(r, &result, o);
  EXPECT_EQ(result.files.size(), 4u);  // Patient 2+1, Observation 2+1
  EXPECT_EQ(ids["Patient"].size(), 3u);
  EXPECT_EQ(ids["Observation"].size(), 3u);
  std::ifstream gz(last_dir_ + "/Patient-1.ndjson.gz", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(gz)), std::istreambuf_iterator<char>());
  ASSERT_GE(raw.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(raw[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(raw[1]), 0x8b);
}

TEST_F(ExporterTest, ElementsSubsetsAndCancelStops) {
  ExportRequest r;
  r.types = {"Observation"};
  r.elements = {"Observation.status"};
  Export(r);
  std::string text = ReadFile(last_dir_ + "/Observation-1.ndjson");
  EXPECT_EQ(text.find("\"subject\""), std::string::npos);
  EXPECT_NE(text.find("\"code\""), std::string::npos);  // mandatory: always kept
  EXPECT_NE(text.find("SUBSETTED"), std::string::npos);

  std::atomic<bool> cancel{true};
  ExportRunOptions o;
  o.cancel = &cancel;
  std::filesystem::create_directories(dir_ + "/c");
  auto cancelled = RunExport(*store_, ExportRequest{}, dir_ + "/c", o);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), StatusCode::kGone);
}

}  // namespace
}  // namespace carechart::bulk
