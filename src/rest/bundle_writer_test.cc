// BundleWriter: the opening written before the first entry, stored bodies copied in as they
// are, a link added after an entry still in place, and fullUrls that stay valid JSON.
#include "rest/bundle_writer.h"

#include <gtest/gtest.h>

#include "fhir/json.h"
#include "rest/fhir_api.h"
#include "store/store_test_util.h"

namespace carechart::rest {
namespace {

class BundleWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::testing::OpenOrDie(store::testing::TempDbPath("bundle-writer"));
    ctx_ = std::make_unique<RequestContext>(request_, *store_, options_);
    ctx_->base_url = "http://example.org/fhir";
  }
  static store::ResourceVersion Version(std::string type, std::string id, std::string body) {
    store::ResourceVersion v;
    v.type = std::move(type);
    v.id = std::move(id);
    v.version = 1;
    v.body = std::move(body);
    return v;
  }
  json::Value Parsed(const std::string& text) {
    auto parsed = json::Parse(text, {.max_depth = 1000});
    EXPECT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
    return parsed.ok() ? std::move(parsed).value() : json::Value::Object();
  }

  http::Request request_;
  ApiOptions options_;
  std::unique_ptr<store::ResourceStore> store_;
  std::unique_ptr<RequestContext> ctx_;
};

TEST_F(BundleWriterTest, EntriesFollowTheOpeningWithBodiesAsStored) {
  const std::string body =
      R"({"resourceType":"Observation","id":"o1","valueQuantity":{"value":1.50}})";
  BundleWriter bundle("searchset", *ctx_);
  bundle.SetTotal(2);
  bundle.AddLink("self", "http://example.org/fhir/Observation?_count=1");
  bundle.Reserve(body.size() * 2 + 200);
  bundle.AddSearchEntry(Version("Observation", "o1", body), "match");
  bundle.AddSearchEntry(Version("Patient", "p", R"({"resourceType":"Patient","id":"p"})"),
                        "include");
  std::string text = bundle.Finish();
  EXPECT_NE(text.find(body), std::string::npos) << text;  // "1.50" kept as stored
  json::Value b = Parsed(text);
  EXPECT_EQ(b.string_at("type"), "searchset");
  EXPECT_EQ(b.find("total")->text(), "2");
  ASSERT_EQ(b.find("entry")->items().size(), 2u);
  const json::Value& first = b.find("entry")->items()[0];
  EXPECT_EQ(first.string_at("fullUrl"), "http://example.org/fhir/Observation/o1");
  EXPECT_EQ(first.find("search")->string_at("mode"), "match");
  EXPECT_EQ(b.find("entry")->items()[1].find("search")->string_at("mode"), "include");
  EXPECT_EQ(b.find("link")->items()[0].string_at("relation"), "self");
}

TEST_F(BundleWriterTest, LinksAndTotalSetAfterAnEntryAreKept) {
  BundleWriter bundle("searchset", *ctx_);
  bundle.AddLink("self", "http://example.org/fhir/Patient");
  bundle.AddSearchEntry(Version("Patient", "p", R"({"resourceType":"Patient","id":"p"})"), "match");
  bundle.AddLink("next", "http://example.org/fhir/Patient?_page=x");
  bundle.SetTotal(7);
  json::Value b = Parsed(bundle.Finish());
  ASSERT_EQ(b.find("link")->items().size(), 2u);
  EXPECT_EQ(b.find("link")->items()[1].string_at("relation"), "next");
  EXPECT_EQ(b.find("total")->text(), "7");
  EXPECT_EQ(b.find("entry")->items().size(), 1u);
}

TEST_F(BundleWriterTest, EmptyPrettyAndUnusualIds) {
  BundleWriter empty("searchset", *ctx_);
  empty.SetTotal(0);
  json::Value e = Parsed(empty.Finish());
  EXPECT_EQ(e.find("entry"), nullptr);
  EXPECT_EQ(e.find("total")->text(), "0");

  ctx_->base_url = "http://example.org/a\"b";  // escaped once for every fullUrl
  BundleWriter odd("history", *ctx_);
  odd.AddHistoryEntry(Version("Patient", "we\"ird", R"({"resourceType":"Patient"})"));
  odd.AddSearchEntry(Version("Patient", "p", R"({"resourceType":"Patient","id":"p"})"), "match");
  json::Value o = Parsed(odd.Finish());
  EXPECT_EQ(o.find("entry")->items()[0].string_at("fullUrl"),
            "http://example.org/a\"b/Patient/we\"ird");
  EXPECT_EQ(o.find("entry")->items()[1].string_at("fullUrl"), "http://example.org/a\"b/Patient/p");

  ctx_->pretty = true;
  BundleWriter pretty("searchset", *ctx_);
  pretty.AddSearchEntry(Version("Patient", "p", R"({"resourceType":"Patient","id":"p"})"), "match");
  std::string text = pretty.Finish();
  EXPECT_NE(text.find("\n  \"type\": \"searchset\""), std::string::npos) << text;
  Parsed(text);
}

}  // namespace
}  // namespace carechart::rest
