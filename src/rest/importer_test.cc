#include "rest/importer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "rest/import_entries.h"
#include "store/store_test_util.h"

namespace carechart::rest {
namespace {

using store::testing::OpenOrDie;
using store::testing::TempDbPath;

std::string PatientLine(const std::string& id, const std::string& family) {
  return R"({"resourceType":"Patient","id":")" + id + R"(","name":[{"family":")" + family +
         R"("}]})" + "\n";
}

class ImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = TempDbPath("import");
    store_ = OpenOrDie(db_);
    api_.facility_id = "import-test";
    // Small units and batches, so that every path of the pipeline runs on little data.
    options_.workers = 3;
    options_.chunk_lines = 3;
    options_.batch_size = 7;
  }
  void TearDown() override { store_->Close(); }

  int64_t Version(const std::string& type, const std::string& id) {
    auto v = store_->Read(type, id);
    return v.ok() ? v->version : 0;
  }
  std::string Dir() { return std::filesystem::path(db_).parent_path().string(); }

  std::string db_;
  std::unique_ptr<store::ResourceStore> store_;
  ApiOptions api_;
  ImportOptions options_;
};

TEST_F(ImporterTest, NdjsonIsUpsertedInOrderAndReimportChangesNothing) {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += PatientLine("p" + std::to_string(i), "Family" + std::to_string(i));
  }
  text += PatientLine("p3", "Renamed");  // a later line with the same id is a second version
  Importer importer(*store_, api_, options_);
  ASSERT_TRUE(importer.ImportText("patients.ndjson", text).ok());
  EXPECT_EQ(importer.stats().resources_written, 41);
  EXPECT_EQ(importer.stats().entries_failed, 0);
  EXPECT_GT(importer.stats().commits, 3) << "batches of 7 resources";
  EXPECT_EQ(Version("Patient", "p0"), 1);
  EXPECT_EQ(Version("Patient", "p3"), 2);
  EXPECT_NE(store_->Read("Patient", "p3")->body.find("Renamed"), std::string::npos);

  Importer again(*store_, api_, options_);
  ASSERT_TRUE(again.ImportText("patients.ndjson", text).ok());
  EXPECT_EQ(again.stats().resources_written, 2) << "only p3 changes: to Family3, then Renamed";
  EXPECT_EQ(again.stats().unchanged, 39);
  EXPECT_EQ(Version("Patient", "p3"), 4);
  EXPECT_EQ(Version("Patient", "p0"), 1) << "unchanged content keeps its version";
}

TEST_F(ImporterTest, BadLinesAreReportedWithFileLineAndPath) {
  std::string text = PatientLine("ok-1", "Fine") +
                     R"({"resourceType":"Patient","id":"bad","birthDate":"yesterday"})" + "\n" +
                     "{\"resourceType\": \"Patient\", \"id\": \n" + "\n" +
                     PatientLine("ok-2", "Fine");
  Importer importer(*store_, api_, options_);
  ASSERT_TRUE(importer.ImportText("mixed.ndjson", text).ok());
  EXPECT_EQ(importer.stats().resources_written, 2);
  EXPECT_EQ(importer.stats().entries_failed, 2);
  ASSERT_EQ(importer.stats().errors.size(), 2u);
  EXPECT_NE(importer.stats().errors[0].find("mixed.ndjson:2 (Patient): Patient.birthDate"),
            std::string::npos)
      << importer.stats().errors[0];
  EXPECT_EQ(importer.stats().errors[1].rfind("mixed.ndjson:3: ", 0), 0u)
      << importer.stats().errors[1];
}

TEST_F(ImporterTest, IdentifierFindsTheResourceOfAnEarlierImport) {
  std::string line =
      R"({"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"a|1"}]})"
      "\n";
  Importer first(*store_, api_, options_);
  ASSERT_TRUE(first.ImportText("a.ndjson", line).ok());
  Importer second(*store_, api_, options_);
  ASSERT_TRUE(second.ImportText("a.ndjson", line).ok());
  EXPECT_EQ(second.stats().resources_written, 0);
  EXPECT_EQ(second.stats().unchanged, 1);
  store::SearchQuery all;
  all.type = "Patient";
  auto found = store_->Search(all);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->matches.size(), 1u);
}

std::string TransactionBundle(const std::string& org_ref, const std::string& family) {
  return R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:6c0f1a0e-1b2c-4d3e-8f40-000000000001",
     "resource":{"resourceType":"Patient","name":[{"family":")" +
         family + R"("}],"managingOrganization":{"reference":")" + org_ref + R"("}},
     "request":{"method":"POST","url":"Patient"}},
    {"fullUrl":"urn:uuid:6c0f1a0e-1b2c-4d3e-8f40-000000000002",
     "resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
                 "subject":{"reference":"urn:uuid:6c0f1a0e-1b2c-4d3e-8f40-000000000001"}},
     "request":{"method":"POST","url":"Observation"}}]})";
}

TEST_F(ImporterTest, TransactionsKeepSourceIdsResolveEarlierInputAndAreIdempotent) {
  std::string dir = Dir();
  {
    std::ofstream(dir + "/1-orgs.ndjson")
        << R"({"resourceType":"Organization","id":"org1","identifier":[{"system":"urn:org","value":"o1"}]})"
        << "\n"
        << R"({"resourceType":"Organization","id":"org2","name":"Two"})"
        << "\n";
    std::ofstream(dir + "/2-bundle.json")
        << TransactionBundle("Organization?identifier=urn:org|o1", "Tx");
  }
  Importer importer(*store_, api_, options_);
  ASSERT_TRUE(importer.ImportPaths({dir}).ok());
  EXPECT_EQ(importer.stats().entries_failed, 0)
      << (importer.stats().errors.empty() ? "" : importer.stats().errors[0]);
  EXPECT_EQ(importer.stats().resources_written, 4);
  auto p = store_->Read("Patient", "6c0f1a0e-1b2c-4d3e-8f40-000000000001");
  ASSERT_TRUE(p.ok()) << "a POST with a urn:uuid fullUrl keeps the uuid as its id";
  EXPECT_NE(p->body.find("Organization/org1"), std::string::npos) << p->body;
  auto o = store_->Read("Observation", "6c0f1a0e-1b2c-4d3e-8f40-000000000002");
  ASSERT_TRUE(o.ok());
  EXPECT_NE(o->body.find("Patient/6c0f1a0e-1b2c-4d3e-8f40-000000000001"), std::string::npos);

  Importer again(*store_, api_, options_);
  ASSERT_TRUE(again.ImportPaths({dir}).ok());
  EXPECT_EQ(again.stats().resources_written, 0);
  EXPECT_EQ(again.stats().unchanged, 4);
  EXPECT_EQ(Version("Patient", "6c0f1a0e-1b2c-4d3e-8f40-000000000001"), 1);
}

TEST_F(ImporterTest, AFailedTransactionImportsNothingOfItselfAndTheRestContinues) {
  std::string dir = Dir();
  std::ofstream(dir + "/a.json") << TransactionBundle("Organization?identifier=urn:org|none",
                                                      "Bad");
  std::ofstream(dir + "/b.ndjson") << PatientLine("after", "After") << PatientLine("x", "X");
  Importer importer(*store_, api_, options_);
  ASSERT_TRUE(importer.ImportPaths({dir + "/a.json", dir + "/b.ndjson"}).ok());
  EXPECT_EQ(importer.stats().entries_failed, 2);
  ASSERT_FALSE(importer.stats().errors.empty());
  EXPECT_NE(importer.stats().errors[0].find("a.json (transaction: nothing of this file"),
            std::string::npos)
      << importer.stats().errors[0];
  EXPECT_EQ(Version("Patient", "6c0f1a0e-1b2c-4d3e-8f40-000000000001"), 0);
  EXPECT_EQ(Version("Observation", "6c0f1a0e-1b2c-4d3e-8f40-000000000002"), 0);
  EXPECT_EQ(Version("Patient", "after"), 1);
}

TEST_F(ImporterTest, AConditionalReferenceMatchingSeveralFailsItsTransactionNamingIt) {
  std::string dir = Dir();
  std::ofstream(dir + "/1-orgs.ndjson")
      << R"({"resourceType":"Organization","id":"twin1","identifier":[{"system":"urn:org","value":"twin"}]})"
      << "\n"
      << R"({"resourceType":"Organization","id":"twin2","identifier":[{"system":"urn:org","value":"twin"}]})"
      << "\n";
  std::ofstream(dir + "/2-bundle.json")
      << TransactionBundle("Organization?identifier=urn:org|twin", "Twin");
  Importer importer(*store_, api_, options_);
  ASSERT_TRUE(importer.ImportPaths({dir}).ok());
  EXPECT_EQ(importer.stats().resources_written, 2) << "the two organisations only";
  ASSERT_FALSE(importer.stats().errors.empty());
  const std::string& e = importer.stats().errors[0];
  EXPECT_NE(e.find("2-bundle.json (transaction: nothing of this file"), std::string::npos) << e;
  EXPECT_NE(e.find("Organization?identifier=urn:org|twin"), std::string::npos) << e;
  EXPECT_NE(e.find("more than one"), std::string::npos) << e;
  EXPECT_EQ(Version("Patient", "6c0f1a0e-1b2c-4d3e-8f40-000000000001"), 0);
}

TEST_F(ImporterTest, StopOnErrorStopsReading) {
  options_.stop_on_error = true;
  options_.chunk_lines = 1;
  options_.workers = 1;
  std::string text = R"({"resourceType":"Patient","id":"bad","birthDate":"no"})"
                     "\n";
  for (int i = 0; i < 2000; ++i) {
    text += PatientLine("q" + std::to_string(i), "Q");
  }
  Importer importer(*store_, api_, options_);
  ASSERT_TRUE(importer.ImportText("stop.ndjson", text).ok());
  EXPECT_EQ(importer.stats().entries_failed, 1);
  EXPECT_LT(importer.stats().resources_written, 2000) << "reading stopped early";
}

TEST_F(ImporterTest, GzipFilesAndFoldersAreRead) {
  std::string dir = Dir() + "/in";
  std::filesystem::create_directories(dir);
  gzFile gz = gzopen((dir + "/patients.ndjson.gz").c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  for (int i = 0; i < 25; ++i) {
    std::string line = PatientLine("gz" + std::to_string(i), "Zipped");
    gzwrite(gz, line.data(), static_cast<unsigned>(line.size()));
  }
  gzclose(gz);
  std::ofstream(dir + "/notes.txt") << "not imported: wrong extension";
  Importer importer(*store_, api_, options_);
  int64_t last_done = 0;
  ASSERT_TRUE(importer
                  .ImportPaths({dir},
                               [&](const ImportProgress& p) {
                                 EXPECT_GE(p.resources_done, last_done);
                                 last_done = p.resources_done;
                               })
                  .ok());
  EXPECT_EQ(importer.stats().files, 1);
  EXPECT_EQ(importer.stats().resources_written, 25);
  EXPECT_EQ(last_done, 25);
  EXPECT_EQ(Version("Patient", "gz24"), 1);
}

// NDJSON is a first line that is a whole JSON value with more lines after it; anything else is
// one document (the reader decides by what follows before it parses anything).
TEST_F(ImporterTest, TheFormatIsDecidedByWhatFollowsTheFirstLine) {
  const std::string bundle =
      R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":)" +
      PatientLine("b1", "One").substr(0, PatientLine("b1", "One").size() - 1) +
      R"(},{"resource":)" +
      PatientLine("b2", "Two").substr(0, PatientLine("b2", "Two").size() - 1) + "}]}";
  struct Case {
    std::string name, text;
    int64_t written;
  } cases[] = {
      {"one-line bundle, newline", bundle + "\n", 2},
      {"one-line bundle, blank lines", bundle + "\n \n\t\n", 2},
      {"one-line bundle, no newline", bundle, 2},
      {"pretty-printed resource", "{\n \"resourceType\": \"Patient\",\n \"id\": \"pp\"\n}\n", 1},
      {"one resource, one line", PatientLine("single", "Single"), 1},
      {"ndjson", PatientLine("n1", "A") + "\n" + PatientLine("n2", "B") + PatientLine("n3", "C"),
       3},
  };
  for (const Case& c : cases) {
    Importer importer(*store_, api_, options_);
    ASSERT_TRUE(importer.ImportText("input", c.text).ok()) << c.name;
    EXPECT_EQ(importer.stats().resources_written + importer.stats().unchanged, c.written) << c.name;
    EXPECT_EQ(importer.stats().entries_failed, 0) << c.name;
  }
  EXPECT_EQ(Version("Patient", "b2"), 1);
  EXPECT_EQ(Version("Patient", "pp"), 1);
  EXPECT_EQ(Version("Patient", "n3"), 1);
}

TEST_F(ImporterTest, AFileThatIsNotFhirIsAnError) {
  Importer importer(*store_, api_, options_);
  Status s = importer.ImportText("notes.txt", "hello, this is not FHIR\n");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("neither a FHIR Bundle nor NDJSON"), std::string::npos) << s.message();
  EXPECT_FALSE(importer.ImportPaths({Dir() + "/absent.ndjson"}).ok());
}

// A transaction that fails while earlier input is not yet stored is kept for a retry after its
// text is gone; the failure came after the first entry's resource was moved into its version
// (D99), so the retry must have every resource back as sent.
TEST_F(ImporterTest, ATransactionKeptForARetryHasItsResourcesAsSent) {
  import::UnitPreparer preparer(*store_, api_, options_);
  import::PreparedUnit first;
  {
    // Entries are prepared in order: the Patient is moved into its version, then the ifMatch
    // on Organization/later fails (412) because the earlier input holding it is not stored yet.
    std::string text = R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"urn:uuid:6c0f1a0e-1b2c-4d3e-8f40-00000000000a",
       "resource":{"resourceType":"Patient","name":[{"family":"Kept"}],
                   "managingOrganization":{"reference":"Organization/later"}},
       "request":{"method":"POST","url":"Patient"}},
      {"resource":{"resourceType":"Organization","id":"later","name":"Later, renamed"},
       "request":{"method":"PUT","url":"Organization/later","ifMatch":"W/\"1\""}}]})";
    preparer.Document("tx.json", text, /*earlier_committed=*/false, &first);
  }  // the unit's text is freed, as the pipeline frees it
  ASSERT_TRUE(first.retry_transaction.has_value()) << (first.errors.empty() ? "" : first.errors[0]);
  EXPECT_EQ(first.failed, 0);

  Importer earlier(*store_, api_, options_);
  ASSERT_TRUE(earlier
                  .ImportText("org.ndjson",
                              R"({"resourceType":"Organization","id":"later","name":"Later"})"
                              "\n")
                  .ok());
  import::PreparedUnit again;
  preparer.Transaction(first.retry_where, *first.retry_transaction, true, &again);
  EXPECT_EQ(again.failed, 0) << (again.errors.empty() ? "" : again.errors[0]);
  EXPECT_EQ(again.written_by_transaction, 2);
  auto p = store_->Read("Patient", "6c0f1a0e-1b2c-4d3e-8f40-00000000000a");
  ASSERT_TRUE(p.ok());
  EXPECT_NE(p->body.find("\"family\":\"Kept\""), std::string::npos) << p->body;
  EXPECT_NE(p->body.find("Organization/later"), std::string::npos) << p->body;
  EXPECT_EQ(Version("Organization", "later"), 2);
}

}  // namespace
}  // namespace carechart::rest
