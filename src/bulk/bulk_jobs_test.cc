#include "bulk/bulk_jobs.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "bulk/bulk_api.h"
#include "bulk/bulk_test_util.h"
#include "fhir/json.h"
#include "http/url.h"

namespace carechart::bulk {
namespace {

using namespace std::chrono_literals;

class BulkJobsTest : public testing::BulkStoreTest {
 protected:
  std::unique_ptr<BulkJobs> StartJobs() {
    BulkOptions o;
    o.dir = dir_ + "/bulk";
    auto jobs = BulkJobs::Start(*store_, dir_ + "/t.db", api_, o);
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    return jobs.ok() ? std::move(jobs).value() : nullptr;
  }

  // Polls until the job leaves queued/running (at most 20 s).
  JobRecord WaitFor(BulkJobs& jobs, const std::string& id) {
    for (int i = 0; i < 2000; ++i) {
      auto j = jobs.Get(id);
      EXPECT_TRUE(j.ok());
      if (j.ok() && *j && (*j)->state != "queued" && (*j)->state != "running") {
        return **j;
      }
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "job " << id << " did not finish";
    return {};
  }

  http::Response Call(
      BulkJobs& jobs, const std::string& method, const std::string& path,
      std::vector<std::pair<std::string, std::string>> query = {},
      std::vector<std::pair<std::string, std::string>> headers = {{"prefer", "respond-async"}},
      const auth::Principal* principal = nullptr, std::string body = "") {
    http::Request req;
    req.method = method;
    req.path = req.target = path;
    req.query = std::move(query);
    req.headers = std::move(headers);
    req.body = std::move(body);
    http::Response r =
        *HandleBulkRequest(jobs, *store_, req, "http://h/fhir",
                           http::SplitPath(std::string_view(path).substr(5)), principal);
    if (!r.body_file.empty()) {
      // What the server does: the file is streamed; the handler never loads it.
      EXPECT_TRUE(r.body.empty()) << "a file response carries no body of its own";
      std::ifstream in(r.body_file, std::ios::binary);
      EXPECT_TRUE(in) << r.body_file;
      r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return r;
  }
};

std::string Header(const http::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) {
      return v;
    }
  }
  return "";
}

TEST_F(BulkJobsTest, KickoffPollManifestDownloadAndCancel) {
  auto jobs = StartJobs();
  ASSERT_TRUE(jobs);
  http::Response kick = Call(*jobs, "GET", "/fhir/$export", {{"_type", "Patient,Observation"}});
  ASSERT_EQ(kick.status, 202) << kick.body;
  std::string location = Header(kick, "Content-Location");
  ASSERT_EQ(location.rfind("http://h/fhir/_bulk/", 0), 0u) << location;
  std::string id = location.substr(std::string("http://h/fhir/_bulk/").size());
  JobRecord done = WaitFor(*jobs, id);
  EXPECT_EQ(done.state, "completed") << done.error;

  http::Response status = Call(*jobs, "GET", "/fhir/_bulk/" + id);
  ASSERT_EQ(status.status, 200);
  auto manifest = json::Parse(status.body);
  ASSERT_TRUE(manifest.ok());
  EXPECT_FALSE(manifest->string_at("transactionTime").empty());
  EXPECT_EQ(manifest->string_at("request"), "http://h/fhir/$export");
  const json::Value* output = manifest->find("output");
  ASSERT_TRUE(output && output->is_array());
  ASSERT_EQ(output->items().size(), 2u);
  int64_t total = 0;
  for (const json::Value& f : output->items()) {
    total += std::stoll(f.find("count")->text());
    std::string url(f.string_at("url"));
    http::Response file = Call(*jobs, "GET", url.substr(std::string("http://h").size()));
    ASSERT_EQ(file.status, 200) << url;
    EXPECT_EQ(Lines(file.body).size(), static_cast<size_t>(std::stoll(f.find("count")->text())));
    http::Response gz = Call(*jobs, "GET", url.substr(std::string("http://h").size()), {},
                             {{"accept-encoding", "gzip, deflate"}});
    EXPECT_EQ(Header(gz, "Content-Encoding"), "gzip");
    EXPECT_LT(gz.body.size(), file.body.size());
  }
  EXPECT_EQ(total, 6);

  EXPECT_EQ(Call(*jobs, "DELETE", "/fhir/_bulk/" + id).status, 202);
  EXPECT_EQ(Call(*jobs, "GET", "/fhir/_bulk/" + id).status, 404);
  EXPECT_FALSE(std::filesystem::exists(jobs->JobDir(id)));
  EXPECT_EQ(Call(*jobs, "DELETE", "/fhir/_bulk/" + id).status, 404);
}

TEST_F(BulkJobsTest, AJobBelongsToTheClientThatStartedIt) {
  auto jobs = StartJobs();
  ASSERT_TRUE(jobs);
  auth::Principal mine;
  mine.role = auth::Role::kBackendService;
  mine.client_id = "registry";
  mine.scopes = {"system/*.rs"};
  auth::Principal other = mine;
  other.client_id = "someone-else";
  http::Response kick = Call(
      *jobs, "POST", "/fhir/$export", {}, {{"prefer", "respond-async"}}, &mine,
      R"({"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Patient"}]})");
  ASSERT_EQ(kick.status, 202) << kick.body;
  std::string status_path = Header(kick, "Content-Location").substr(std::string("http://h").size());
  std::string id = status_path.substr(status_path.rfind('/') + 1);
  JobRecord done = WaitFor(*jobs, id);
  EXPECT_EQ(JobOwner(done), "registry");
  EXPECT_EQ(Call(*jobs, "GET", status_path, {}, {}, &other).status, 403);
  EXPECT_EQ(Call(*jobs, "DELETE", status_path, {}, {}, &other).status, 403);
  http::Response manifest = Call(*jobs, "GET", status_path, {}, {}, &mine);
  ASSERT_EQ(manifest.status, 200) << manifest.body;
  auto m = json::Parse(manifest.body);
  ASSERT_TRUE(m.ok());
  const json::Value* output = m->find("output");
  ASSERT_TRUE(output && output->items().size() == 1u) << manifest.body;
  std::string file = std::string(output->items()[0].string_at("url")).substr(8);
  EXPECT_EQ(Call(*jobs, "GET", file, {}, {}, &other).status, 403);
  EXPECT_EQ(Call(*jobs, "GET", file, {}, {}, &mine).status, 200);
  EXPECT_EQ(Call(*jobs, "DELETE", status_path, {}, {}, &mine).status, 202);
}

TEST_F(BulkJobsTest, KickoffErrors) {
  auto jobs = StartJobs();
  ASSERT_TRUE(jobs);
  EXPECT_EQ(Call(*jobs, "GET", "/fhir/$export", {}, {}).status, 400);  // no Prefer
  http::Response unknown = Call(*jobs, "GET", "/fhir/$export", {{"_foo", "1"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("_foo"), std::string::npos);
  EXPECT_EQ(Call(*jobs, "GET", "/fhir/$export", {{"_outputFormat", "text/csv"}}).status, 400);
  EXPECT_EQ(Call(*jobs, "GET", "/fhir/Group/none/$export").status, 404);
  EXPECT_EQ(Call(*jobs, "PUT", "/fhir/$export").status, 405);
  EXPECT_EQ(Call(*jobs, "POST", "/fhir/$export", {}, {{"prefer", "respond-async"}}, nullptr,
                 R"({"resourceType":"Parameters","parameter":[{"name":"_type"}]})")
                .status,
            400);
  EXPECT_EQ(Call(*jobs, "GET", "/fhir/_bulk/0123").status, 404);
}

TEST_F(BulkJobsTest, InterruptedJobsRunAgainAfterARestartOrFailWithAReason) {
  std::string queued_id, exhausted_id;
  {
    auto table = OpenSqliteJobStore(dir_ + "/t.db");
    ASSERT_TRUE(table.ok());
    JobRecord j;
    j.kind = "export";
    j.request = ExportRequestToJson(ExportRequest{});
    j.base_url = "http://h/fhir";
    j.id = queued_id = "aaaa";
    j.state = "running";  // as left by a kill -9
    j.attempts = 1;
    ASSERT_TRUE((*table)->Insert(j).ok());
    j.id = exhausted_id = "bbbb";
    j.attempts = 3;
    ASSERT_TRUE((*table)->Insert(j).ok());
  }
  auto jobs = StartJobs();
  ASSERT_TRUE(jobs);
  JobRecord rerun = WaitFor(*jobs, queued_id);
  EXPECT_EQ(rerun.state, "completed");
  EXPECT_EQ(rerun.attempts, 2);
  JobRecord failed = WaitFor(*jobs, exhausted_id);
  EXPECT_EQ(failed.state, "failed");
  EXPECT_NE(failed.error.find("stopped"), std::string::npos) << failed.error;
  http::Response status = Call(*jobs, "GET", "/fhir/_bulk/" + exhausted_id);
  EXPECT_EQ(status.status, 500);
  EXPECT_NE(status.body.find("stopped"), std::string::npos);
}

TEST_F(BulkJobsTest, ImportJobLoadsNdjson) {
  auto jobs = StartJobs();
  ASSERT_TRUE(jobs);
  http::Request req;
  req.method = "POST";
  req.path = req.target = "/fhir/$import";
  req.headers = {{"prefer", "respond-async"}, {"content-type", "application/fhir+ndjson"}};
  req.body =
      "{\"resourceType\":\"Patient\",\"id\":\"imp1\"}\n"
      "{\"resourceType\":\"Patient\",\"id\":\"imp2\",\"gender\":\"nonsense\"}\n";
  http::Response kick = *HandleBulkRequest(*jobs, *store_, req, "http://h/fhir", {"$import"});
  ASSERT_EQ(kick.status, 202) << kick.body;
  std::string id =
      Header(kick, "Content-Location").substr(std::string("http://h/fhir/_bulk/").size());
  JobRecord done = WaitFor(*jobs, id);
  ASSERT_EQ(done.state, "completed") << done.error;
  EXPECT_TRUE(store_->Read("Patient", "imp1").ok());
  EXPECT_FALSE(store_->Read("Patient", "imp2").ok());
  auto manifest = json::Parse(done.result);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->find("extension")->find("imported")->text(), "1");
  EXPECT_EQ(manifest->find("extension")->find("rejected")->text(), "1");
  EXPECT_EQ(manifest->find("error")->items().size(), 1u);
}

}  // namespace
}  // namespace carechart::bulk
