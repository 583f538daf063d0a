#include "rest/bundle_processing.h"

#include <gtest/gtest.h>

namespace carechart::rest {
namespace {

json::Value P(const std::string& text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : json::Value();
}

const char* kBase = "http://localhost:8080/fhir";

TEST(BundleProcessingTest, ParsesEntriesOfEveryMethod) {
  json::Value b = P(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:11111111-1111-4111-8111-111111111111",
     "resource":{"resourceType":"Patient"},
     "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=a|b"}},
    {"resource":{"resourceType":"Patient","id":"p1"},"request":{"method":"PUT","url":"Patient/p1","ifMatch":"W/\"2\""}},
    {"resource":{"resourceType":"Patient"},"request":{"method":"PUT","url":"Patient?identifier=a%7Cb"}},
    {"request":{"method":"DELETE","url":"Observation/o1"}},
    {"request":{"method":"DELETE","url":"Observation?code=x"}},
    {"request":{"method":"GET","url":"Patient?name=smith&_count=5"}},
    {"request":{"method":"GET","url":"http://localhost:8080/fhir/Patient/p1"}},
    {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json",
                 "data":"W3sib3AiOiJyZXBsYWNlIiwicGF0aCI6Ii9hY3RpdmUiLCJ2YWx1ZSI6dHJ1ZX1d"},
     "request":{"method":"PATCH","url":"Patient/p2"}}]})");
  auto parsed = ParseBundle(b, kBase);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const auto& e = parsed->entries;
  ASSERT_EQ(e.size(), 8u);
  EXPECT_EQ(parsed->type, "transaction");
  EXPECT_EQ(e[0].type, "Patient");
  EXPECT_EQ(e[0].full_url, "urn:uuid:11111111-1111-4111-8111-111111111111");
  EXPECT_EQ(e[0].if_none_exist, "identifier=a|b");
  EXPECT_TRUE(e[0].has_resource);
  EXPECT_EQ(e[1].id, "p1");
  EXPECT_EQ(e[1].if_match, "W/\"2\"");
  EXPECT_TRUE(e[2].conditional());
  ASSERT_EQ(e[2].query.size(), 1u);
  EXPECT_EQ(e[2].query[0].second, "a|b");
  EXPECT_EQ(e[3].id, "o1");
  EXPECT_FALSE(e[3].has_resource);
  EXPECT_TRUE(e[4].conditional());
  EXPECT_EQ(e[5].path, "Patient");
  EXPECT_EQ(e[5].query.size(), 2u);
  EXPECT_EQ(e[6].path, "Patient/p1");
  ASSERT_TRUE(e[7].resource.is_array());  // the decoded JSON Patch
  EXPECT_EQ(e[7].resource.items()[0].string_at("op"), "replace");
}

struct BadCase {
  const char* bundle;
  const char* location;
};

TEST(BundleProcessingTest, MalformedBundlesNameThePath) {
  const BadCase cases[] = {
      {R"({"resourceType":"Patient"})", "resourceType"},
      {R"({"resourceType":"Bundle","type":"collection","entry":[]})", "Bundle.type"},
      {R"({"resourceType":"Bundle","type":"batch","entry":{}})", "Bundle.entry"},
      {R"({"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient"}},
         {"resource":{"resourceType":"Patient"}}]})",
       "Bundle.entry[1].request"},
      {R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"FETCH","url":"Patient"}}]})",
       "Bundle.entry[0].request.method"},
      {R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET"}}]})",
       "Bundle.entry[0].request.url"},
      {R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},
         "request":{"method":"POST","url":"Patient/12"}}]})",
       "Bundle.entry[0].request.url"},
      {R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},
         "request":{"method":"PUT","url":"Patient"}}]})",
       "Bundle.entry[0].request.url"},
      {R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"Nope/1"}}]})",
       "Bundle.entry[0].request.url"},
      {R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"http://elsewhere/fhir/Patient/1"}}]})",
       "Bundle.entry[0].request.url"},
      {R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Patient"}}]})",
       "Bundle.entry[0].resource"},
      {R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation"},
         "request":{"method":"POST","url":"Patient"}}]})",
       "Bundle.entry[0].resource.resourceType"},
  };
  for (const auto& c : cases) {
    json::Value b = P(c.bundle);
    auto parsed = ParseBundle(b, kBase);
    ASSERT_FALSE(parsed.ok()) << c.bundle;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalid) << c.bundle;
    EXPECT_EQ(parsed.status().location(), c.location) << parsed.status().ToString();
  }
}

TEST(BundleProcessingTest, TooManyEntriesIs413) {
  std::string text = R"({"resourceType":"Bundle","type":"batch","entry":[)";
  for (size_t i = 0; i <= kMaxBundleEntries; ++i) {
    if (i) {
      text += ',';
    }
    text += R"({"request":{"method":"GET","url":"Patient"}})";
  }
  text += "]}";
  json::Value b = P(text);
  auto parsed = ParseBundle(b, kBase);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kTooLarge);
}

TEST(BundleProcessingTest, ProcessingOrderIsDeletePostPutPatchGet) {
  std::vector<BundleEntry> entries;
  for (const char* m : {"GET", "PUT", "POST", "DELETE", "PATCH", "POST", "HEAD", "DELETE"}) {
    BundleEntry e;
    e.index = entries.size();
    e.method = m;
    entries.push_back(std::move(e));
  }
  EXPECT_EQ(ProcessingOrder(entries), (std::vector<size_t>{3, 7, 2, 5, 1, 4, 0, 6}));
}

}  // namespace
}  // namespace carechart::rest
