#include "rest/json_patch.h"

#include <gtest/gtest.h>

namespace carechart::rest {
namespace {

json::Value P(const char* text) {
  auto v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : json::Value();
}

TEST(JsonPatchTest, AppliesAllOperations) {
  json::Value doc = P(R"({"resourceType":"Patient","name":[{"family":"A"}],"active":true})");
  json::Value patch = P(R"([
    {"op":"test","path":"/active","value":true},
    {"op":"replace","path":"/active","value":false},
    {"op":"add","path":"/name/-","value":{"family":"B"}},
    {"op":"add","path":"/name/0/given","value":["x"]},
    {"op":"copy","from":"/name/1/family","path":"/birthDate"},
    {"op":"move","from":"/birthDate","path":"/gender"},
    {"op":"remove","path":"/name/1"},
    {"op":"add","path":"/a~1b","value":1.50}
  ])");
  ASSERT_TRUE(ApplyJsonPatch(patch, doc).ok());
  EXPECT_EQ(
      json::Write(doc),
      R"({"resourceType":"Patient","name":[{"family":"A","given":["x"]}],"active":false,"gender":"B","a/b":1.50})");
}

TEST(JsonPatchTest, ReportsTheFailingOperation) {
  json::Value doc = P(R"({"resourceType":"Patient","active":true})");
  Status s = ApplyJsonPatch(P(R"([{"op":"test","path":"/active","value":false}])"), doc);
  EXPECT_EQ(s.code(), StatusCode::kUnprocessable);
  EXPECT_NE(s.message().find("operation 0"), std::string::npos);
  s = ApplyJsonPatch(P(R"([{"op":"replace","path":"/missing","value":1}])"), doc);
  EXPECT_EQ(s.code(), StatusCode::kUnprocessable);
  s = ApplyJsonPatch(P(R"([{"op":"jump","path":"/active"}])"), doc);
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  s = ApplyJsonPatch(P(R"([{"op":"add","path":"active","value":1}])"), doc);
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  s = ApplyJsonPatch(P(R"({"op":"add"})"), doc);
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  s = ApplyJsonPatch(P(R"([{"op":"add","path":"/name/5","value":1}])"), doc);
  EXPECT_EQ(s.code(), StatusCode::kUnprocessable);
}

}  // namespace
}  // namespace carechart::rest
