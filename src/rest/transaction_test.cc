// Transactions' reads and validation (decisions D106, D107): ResourceStore::ReadMany answers what
// Read answers, key by key, in the SQLite override, the default loop and the audit wrapper; a
// transaction reads its targets' versions with it and validates each resource as it prepares it,
// still reporting the first invalid resource of the Bundle and writing nothing when it fails.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "access/audit.h"
#include "rest/bundle_processing.h"
#include "store/store_test_util.h"

namespace carechart::rest {
namespace {

using Keys = std::vector<std::pair<std::string, std::string>>;

// Passes every required call to `inner` and nothing else: ReadMany is the interface's default.
class DefaultReadManyStore : public store::ResourceStore {
 public:
  explicit DefaultReadManyStore(store::ResourceStore& inner) : inner_(inner) {}
  Status Write(store::WriteFunction fn) override { return inner_.Write(std::move(fn)); }
  StatusOr<store::ResourceVersion> Read(const std::string& type, const std::string& id) override {
    ++reads;
    return inner_.Read(type, id);
  }
  StatusOr<store::ResourceVersion> ReadVersion(const std::string& type, const std::string& id,
                                               int64_t version) override {
    return inner_.ReadVersion(type, id, version);
  }
  StatusOr<store::HistoryPage> History(const store::HistoryQuery& query) override {
    return inner_.History(query);
  }
  StatusOr<store::SearchResult> Search(const store::SearchQuery& query) override {
    return inner_.Search(query);
  }
  void Close() override { inner_.Close(); }
  store::StoreStats Stats() const override { return inner_.Stats(); }

  int reads = 0;

 private:
  store::ResourceStore& inner_;
};

// Patient/a at version 2, Observation/o at 1, Patient/d deleted (version 2).
void StoreSamples(store::ResourceStore& s) {
  using store::testing::MakeWrite;
  using store::testing::PutNext;
  ASSERT_TRUE(PutNext(s, MakeWrite("Patient", "a", 1000)).ok());
  ASSERT_TRUE(PutNext(s, MakeWrite("Patient", "a", 2000)).ok());
  ASSERT_TRUE(PutNext(s, MakeWrite("Observation", "o", 3000)).ok());
  ASSERT_TRUE(PutNext(s, MakeWrite("Patient", "d", 4000)).ok());
  store::PreparedWrite deletion = MakeWrite("Patient", "d", 5000);
  deletion.deleted = true;
  ASSERT_TRUE(PutNext(s, deletion).ok());
}

// Existing, missing, deleted, another type with the same id, and a repeated key.
const Keys kMixedKeys = {{"Patient", "a"},     {"Patient", "missing"}, {"Observation", "o"},
                         {"Patient", "d"},     {"Observation", "a"},   {"Patient", "a"},
                         {"Encounter", "none"}};

// ReadMany of `keys` is, element by element, what Read answers.
void ExpectSameAsSingleReads(store::ResourceStore& s, const Keys& keys) {
  auto many = s.ReadMany(keys);
  ASSERT_TRUE(many.ok()) << many.status().message();
  ASSERT_EQ(many->size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    SCOPED_TRACE(keys[i].first + "/" + keys[i].second);
    auto one = s.Read(keys[i].first, keys[i].second);
    const std::optional<store::ResourceVersion>& got = (*many)[i];
    if (!one.ok()) {
      EXPECT_EQ(one.status().code(), StatusCode::kNotFound);
      EXPECT_FALSE(got.has_value());
      continue;
    }
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->type, one->type);
    EXPECT_EQ(got->id, one->id);
    EXPECT_EQ(got->version, one->version);
    EXPECT_EQ(got->last_updated_us, one->last_updated_us);
    EXPECT_EQ(got->deleted, one->deleted);
    EXPECT_EQ(got->method, one->method);
    EXPECT_EQ(got->body, one->body);
  }
}

TEST(ReadMany, AnswersWhatReadAnswersKeyByKey) {
  auto s = store::testing::OpenOrDie(store::testing::TempDbPath("read_many"));
  StoreSamples(*s);
  ExpectSameAsSingleReads(*s, kMixedKeys);
  // The samples really are what the keys say (so the comparison above compares something).
  auto many = s->ReadMany(kMixedKeys);
  ASSERT_TRUE(many.ok());
  EXPECT_EQ((*many)[0]->version, 2);
  EXPECT_FALSE((*many)[1].has_value());
  EXPECT_EQ((*many)[2]->type, "Observation");
  EXPECT_TRUE((*many)[3]->deleted);
  EXPECT_EQ((*many)[3]->version, 2);
  EXPECT_FALSE((*many)[4].has_value());
  EXPECT_EQ((*many)[5]->body, (*many)[0]->body);
  auto none = s->ReadMany({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(ReadMany, TheDefaultReadsEachKeyAndWrappersForwardIt) {
  auto s = store::testing::OpenOrDie(store::testing::TempDbPath("read_many_default"));
  StoreSamples(*s);
  DefaultReadManyStore plain(*s);
  ExpectSameAsSingleReads(plain, kMixedKeys);
  int reads_before = plain.reads;
  ASSERT_TRUE(plain.ReadMany(kMixedKeys).ok());
  EXPECT_EQ(plain.reads - reads_before, static_cast<int>(kMixedKeys.size()));
  access::AuditedStore audited(plain);
  reads_before = plain.reads;
  ExpectSameAsSingleReads(audited, kMixedKeys);
  EXPECT_GT(plain.reads, reads_before) << "the audit wrapper passes ReadMany to its store";
}

TEST(ReadMany, AClosedStoreFails) {
  auto s = store::testing::OpenOrDie(store::testing::TempDbPath("read_many_closed"));
  StoreSamples(*s);
  s->Close();
  EXPECT_FALSE(s->ReadMany(kMixedKeys).ok());
}

// ---- transactions

struct Answer {
  int status = 0;
  std::string body;
};

Answer PostBundle(store::ResourceStore& s, const std::string& bundle) {
  http::Request request;
  request.method = "POST";
  request.path = "/fhir";
  request.body = bundle;
  ApiOptions options;
  RequestContext ctx(request, s, options);
  ctx.base_url = "http://localhost/fhir";
  http::Response r = HandleBundle(ctx, [](const http::Request& get) {
    http::Response answer;
    answer.status = 200;
    answer.body = R"({"resourceType":"Patient","id":"dispatched"})";
    (void)get;
    return answer;
  });
  return {r.status, r.body};
}

std::string Transaction(const std::vector<std::string>& entries) {
  std::string out = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
  for (size_t i = 0; i < entries.size(); ++i) {
    out += (i ? "," : "") + entries[i];
  }
  return out + "]}";
}

std::string PutPatient(const std::string& id, const std::string& extra = "") {
  return R"({"resource":{"resourceType":"Patient","id":")" + id + "\"" + extra +
         R"(},"request":{"method":"PUT","url":"Patient/)" + id + "\"}}";
}

std::string PostObservation(const std::string& extra = "") {
  return R"({"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"})" +
         extra + R"(},"request":{"method":"POST","url":"Observation"}})";
}

bool Stored(store::ResourceStore& s, const std::string& type, const std::string& id) {
  return s.Read(type, id).ok();
}

TEST(Transaction, TwoInvalidResourcesReportTheFirstAndNothingIsWritten) {
  auto s = store::testing::OpenOrDie(store::testing::TempDbPath("txn_two_invalid"));
  int64_t writes = s->Stats().writes;
  Answer a = PostBundle(*s, Transaction({PutPatient("p0"), PutPatient("p1", R"(,"birthDate":"x")"),
                                         PutPatient("p2"), PostObservation(R"(,"bogus":1)")}));
  EXPECT_EQ(a.status, 422) << a.body;
  EXPECT_NE(a.body.find("Bundle.entry[1].resource (Patient)"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("birthDate"), std::string::npos) << a.body;
  EXPECT_EQ(a.body.find("Bundle.entry[3]"), std::string::npos) << a.body;
  EXPECT_FALSE(Stored(*s, "Patient", "p0"));
  EXPECT_FALSE(Stored(*s, "Patient", "p2"));
  EXPECT_EQ(s->Stats().writes, writes);
}

TEST(Transaction, AnInvalidResourceIsReportedBeforeAnEarlierEntrysOtherError) {
  auto s = store::testing::OpenOrDie(store::testing::TempDbPath("txn_invalid_first"));
  // Entry 0's id differs from its URL (found while resolving targets, before any validation);
  // entry 2 is invalid: as when every resource was validated first, entry 2 is reported.
  std::string mismatched =
      R"({"resource":{"resourceType":"Patient","id":"other"},"request":{"method":"PUT","url":"Patient/p0"}})";
  Answer a = PostBundle(
      *s, Transaction({mismatched, PutPatient("p1"), PutPatient("p2", R"(,"gender":{"x":1})")}));
  EXPECT_EQ(a.status, 422) << a.body;
  EXPECT_NE(a.body.find("Bundle.entry[2].resource (Patient)"), std::string::npos) << a.body;
  // Without the invalid entry the other error is the answer.
  Answer b = PostBundle(*s, Transaction({mismatched, PutPatient("p1")}));
  EXPECT_EQ(b.status, 400) << b.body;
  EXPECT_NE(b.body.find("Bundle.entry[0]"), std::string::npos) << b.body;
  EXPECT_FALSE(Stored(*s, "Patient", "p1"));
}

TEST(Transaction, AFailedTransactionWritesNothingAndTheSameBundleFixedSucceeds) {
  auto s = store::testing::OpenOrDie(store::testing::TempDbPath("txn_fails"));
  ASSERT_TRUE(store::testing::PutNext(*s, store::testing::MakeWrite("Patient", "e", 1000)).ok());
  int64_t writes = s->Stats().writes;
  // Entries 0 and 1 are prepared (their resources moved into versions) before entry 2 fails.
  std::string stale_if_match =
      R"({"resource":{"resourceType":"Patient","id":"e"},"request":{"method":"PUT","url":"Patient/e","ifMatch":"W/\"7\""}})";
  Answer a = PostBundle(*s, Transaction({PutPatient("n0"), PostObservation(), stale_if_match}));
  EXPECT_EQ(a.status, 412) << a.body;
  EXPECT_NE(a.body.find("Bundle.entry[2]"), std::string::npos) << a.body;
  EXPECT_FALSE(Stored(*s, "Patient", "n0"));
  EXPECT_EQ(s->Stats().writes, writes);
  auto e = s->Read("Patient", "e");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->version, 1);

  Answer b = PostBundle(*s, Transaction({PutPatient("n0"), PostObservation(), PutPatient("e")}));
  EXPECT_EQ(b.status, 200) << b.body;
  EXPECT_TRUE(Stored(*s, "Patient", "n0"));
  e = s->Read("Patient", "e");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->version, 2);
}

TEST(Transaction, EachEntryGetsTheCurrentVersionOfItsOwnTarget) {
  auto s = store::testing::OpenOrDie(store::testing::TempDbPath("txn_versions"));
  using store::testing::MakeWrite;
  using store::testing::PutNext;
  ASSERT_TRUE(PutNext(*s, MakeWrite("Patient", "e", 1000)).ok());
  ASSERT_TRUE(PutNext(*s, MakeWrite("Patient", "e", 2000)).ok());
  ASSERT_TRUE(PutNext(*s, MakeWrite("Patient", "gone", 3000)).ok());
  ASSERT_TRUE(PutNext(*s, MakeWrite("Patient", "x", 3500)).ok());
  store::PreparedWrite deletion = MakeWrite("Patient", "gone", 4000);
  deletion.deleted = true;
  ASSERT_TRUE(PutNext(*s, deletion).ok());
  // Entries that read (PUT, DELETE) between entries that do not (POST, GET), in an order where
  // a misaligned read would give one entry another's version.
  std::string delete_x = R"({"request":{"method":"DELETE","url":"Patient/x"}})";
  std::string get_e = R"({"request":{"method":"GET","url":"Patient/e"}})";
  Answer a = PostBundle(*s, Transaction({PostObservation(), PutPatient("new"), get_e,
                                         PutPatient("e"), delete_x, PutPatient("gone")}));
  ASSERT_EQ(a.status, 200) << a.body;
  auto version_of = [&](const std::string& id) {
    auto v = s->Read("Patient", id);
    return v.ok() ? v->version : -1;
  };
  EXPECT_EQ(version_of("new"), 1);
  EXPECT_EQ(version_of("e"), 3);
  EXPECT_EQ(version_of("x"), 2);
  EXPECT_TRUE(s->Read("Patient", "x")->deleted);
  EXPECT_EQ(version_of("gone"), 3);
  EXPECT_FALSE(s->Read("Patient", "gone")->deleted);
  // The statuses in entry order: created, created, read, updated, deleted, re-created.
  size_t at = 0;
  for (const char* status : {"201", "201", "200", "200", "204", "201"}) {
    at = a.body.find(std::string(R"("status":")") + status, at);
    ASSERT_NE(at, std::string::npos) << status << " in " << a.body;
    ++at;
  }
}

}  // namespace
}  // namespace carechart::rest
