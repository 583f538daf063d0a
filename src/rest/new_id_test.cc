#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "rest/context.h"

namespace carechart::rest {
namespace {

// A UUID of version 7 and the RFC variant, in lowercase hex, that the id rules accept.
TEST(NewId, IsAVersion7Uuid) {
  const std::regex layout("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewId();
    ASSERT_TRUE(std::regex_match(id, layout)) << id;
    ASSERT_TRUE(IsValidId(id)) << id;
  }
}

// The first 48 bits are the creation time in milliseconds (D108).
TEST(NewId, StartsWithTheCreationTime) {
  const auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  int64_t before = now_ms();
  std::string id = NewId();
  int64_t after = now_ms();
  std::string hex = id.substr(0, 8) + id.substr(9, 4);
  int64_t ms = std::stoll(hex, nullptr, 16);
  EXPECT_GE(ms, before);
  EXPECT_LE(ms, after);
}

// Ids made in a later millisecond sort after earlier ones as text (the id index's order), and
// ids made in the same millisecond still differ.
TEST(NewId, LaterIdsSortLaterAndNoneRepeat) {
  std::string first = NewId();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::string second = NewId();
  EXPECT_LT(first, second);
  std::set<std::string> seen;
  for (int i = 0; i < 100000; ++i) {
    ASSERT_TRUE(seen.insert(NewId()).second);
  }
}

}  // namespace
}  // namespace carechart::rest
