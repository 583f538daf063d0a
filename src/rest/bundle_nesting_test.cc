// A Bundle posted from inside a Bundle's entry (D56): refused at once, never waiting for a
// large-Bundle slot its outer Bundle holds. Before the fix this test hangs: every slot is held
// by an outer batch whose entry waits for a slot.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <latch>
#include <thread>
#include <vector>

#include "rest/bundle_processing.h"
#include "rest/outcome.h"
#include "store/store_test_util.h"

namespace carechart::rest {
namespace {

// A batch of one GET entry, padded with an unknown Bundle element to count as large.
std::string LargeBatch() {
  std::string padding(kLargeBundleBytes, 'x');
  return R"({"resourceType":"Bundle","type":"batch","entry":[)"
         R"({"request":{"method":"GET","url":"Patient?name=a"}}],"_padding":")" +
         padding + "\"}";
}

TEST(BundleNestingTest, BundleInsideABundleEntryIsRefusedWithoutWaitingForASlot) {
  auto store = store::testing::OpenOrDie(store::testing::TempDbPath("nesting"));
  ApiOptions options;
  const std::string body = LargeBatch();
  const size_t outer_count = LargeBundleSlotCount();
  std::latch all_slots_held(static_cast<std::ptrdiff_t>(outer_count));

  // Each outer batch holds a slot; its entry (once every slot is held) posts a large Bundle.
  auto run_outer = [&]() -> std::pair<int, std::string> {
    http::Request outer;
    outer.method = "POST";
    outer.path = "/fhir";
    outer.body = body;
    RequestContext ctx(outer, *store, options);
    std::pair<int, std::string> inner_result{0, ""};
    http::Response r = HandleBundle(ctx, [&](const http::Request&) {
      all_slots_held.arrive_and_wait();
      http::Request inner;
      inner.method = "POST";
      inner.path = "/fhir";
      inner.body = body;
      RequestContext inner_ctx(inner, *store, options);
      http::Response nested = HandleBundle(inner_ctx, [](const http::Request&) {
        return ErrorResponse(InvalidError("an entry of the nested Bundle was run"));
      });
      inner_result = {nested.status, nested.body};
      return nested;
    });
    EXPECT_EQ(r.status, 200) << r.body;
    return inner_result;
  };
  std::vector<std::future<std::pair<int, std::string>>> outers;
  for (size_t i = 0; i < outer_count; ++i) {
    outers.push_back(std::async(std::launch::async, run_outer));
  }
  for (auto& f : outers) {
    if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      ADD_FAILURE() << "nested Bundles deadlocked on the large-Bundle slots";
      std::_Exit(1);  // the blocked threads can never be joined
    }
    auto [status, text] = f.get();
    EXPECT_EQ(status, 400) << text;
    EXPECT_NE(text.find("cannot itself be a batch or transaction"), std::string::npos) << text;
  }
}

TEST(BundleNestingTest, AnEntryPostingToTheBaseNamesItsUrl) {
  auto v = json::Parse(R"({"resourceType":"Bundle","type":"batch","entry":[
    {"resource":{"resourceType":"Bundle","type":"batch"},"request":{"method":"POST","url":"/"}}]})");
  ASSERT_TRUE(v.ok());
  auto parsed = ParseBundle(*v, "http://localhost/fhir");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().location(), "Bundle.entry[0].request.url");
  EXPECT_NE(parsed.status().message().find("cannot be a batch or transaction"), std::string::npos)
      << parsed.status().ToString();
}

}  // namespace
}  // namespace carechart::rest
