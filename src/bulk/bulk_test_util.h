// Test helpers of the bulk module: a store in a temporary folder filled through the importer.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zlib.h>

#include "http/message.h"
#include "rest/fhir_api.h"
#include "rest/importer.h"
#include "store/resource_store.h"

namespace carechart::bulk::testing {

inline std::string MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "carechart-bulk-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  return made ? std::string(made) : std::string();
}

// Three patients, a practitioner, observations and an encounter, and a Group of p1 and d1.
inline const char* kSample = R"(
{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1970-01-01"}
{"resourceType":"Patient","id":"p2","gender":"male"}
{"resourceType":"Patient","id":"p3","gender":"female"}
{"resourceType":"Practitioner","id":"d1","name":[{"family":"Who"}]}
{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/d1"}]}
{"resourceType":"Observation","id":"o2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p2"}}
{"resourceType":"Observation","id":"o3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"}}
{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/p2"}}
{"resourceType":"Group","id":"g1","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/p1"}},{"entity":{"reference":"Practitioner/d1"}}]}
)";

class BulkStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ASSERT_FALSE(dir_.empty());
    store::SqliteOptions so;
    so.path = dir_ + "/t.db";
    auto opened = store::OpenSqliteStore(so);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    api_.facility_id = "f1";
    api_.facility_name = "F1";
    Import(kSample);
  }
  void TearDown() override {
    if (store_) {
      store_->Close();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Import(const std::string& ndjson) {
    rest::Importer importer(*store_, api_);
    ASSERT_TRUE(importer.ImportText("sample.ndjson", ndjson).ok());
    ASSERT_EQ(importer.stats().entries_failed, 0) << importer.stats().errors.front();
  }

  // Sends one request through the FHIR API (for deletes and updates).
  int Send(const std::string& method, const std::string& path, const std::string& body = "") {
    rest::FhirApi api(*store_, api_);
    http::Request req;
    req.method = method;
    req.target = req.path = path;
    req.body = body;
    if (!body.empty()) {
      req.headers.emplace_back("content-type", "application/fhir+json");
    }
    return api.Handle(req).status;
  }

  // The file's text; gzip files are decompressed (zlib reads plain files as they are).
  static std::string ReadFile(const std::string& path) {
    std::string out;
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) {
      return out;
    }
    char buf[65536];
    for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) {
      out.append(buf, static_cast<size_t>(n));
    }
    gzclose(f);
    return out;
  }

  static std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) {
        out.push_back(line);
      }
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<store::ResourceStore> store_;
  rest::ApiOptions api_;
};

}  // namespace carechart::bulk::testing
