#include "rest/write_support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>

namespace carechart::rest {
namespace {

using Keys = std::vector<std::pair<std::string, std::string>>;

Keys Many(const std::string& prefix, int n) {
  Keys keys;
  for (int i = 0; i < n; ++i) {
    keys.emplace_back("Observation", prefix + std::to_string(i));
  }
  return keys;
}

// Takes `keys` on another thread and holds them until `release` is set.
std::future<void> HoldOnThread(const Keys& keys, std::shared_future<void> release) {
  return std::async(std::launch::async, [keys, release] {
    ResourceLocks held(keys);
    release.wait();
  });
}

TEST(ResourceLocks, TransactionsWithDisjointResourcesDoNotWaitForEachOther) {
  // Two Bundles of 900 updates each: with 1,024 striped mutexes they always shared one (D64).
  std::optional<ResourceLocks> first(Many("a-", 900));
  std::promise<void> release;
  release.set_value();
  std::future<void> second = HoldOnThread(Many("b-", 900), release.get_future().share());
  std::future_status status = second.wait_for(std::chrono::seconds(5));
  first.reset();  // lets a waiting second finish either way
  EXPECT_EQ(status, std::future_status::ready) << "the second waited for the first";
}

TEST(ResourceLocks, ASharedResourceWaitsUntilReleased) {
  std::optional<ResourceLocks> first(Keys{{"Patient", "x"}, {"Patient", "y"}});
  std::promise<void> release;
  release.set_value();
  std::future<void> second =
      HoldOnThread(Keys{{"Patient", "z"}, {"Patient", "y"}}, release.get_future().share());
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "Patient/y is held by the first";
  first.reset();
  EXPECT_EQ(second.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  // Nothing stays held: the same keys are free again (a duplicate key counts once).
  ResourceLocks again(Keys{{"Patient", "x"}, {"Patient", "y"}, {"Patient", "y"}});
}

}  // namespace
}  // namespace carechart::rest
