#include "core/status.h"

#include <gtest/gtest.h>

namespace carechart {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) {
    return InvalidError("odd", "x");
  }
  return x / 2;
}

Status Quarter(int x, int& out) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(out, Half(h));
  return Status::Ok();
}

TEST(StatusTest, PropagatesFirstError) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, out).ok());
  EXPECT_EQ(out, 2);
  Status s = Quarter(6, out);
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  EXPECT_EQ(s.location(), "x");
  EXPECT_EQ(s.ToString(), "invalid: odd (at x)");
}

TEST(StatusTest, OkStatusIntoStatusOrBecomesInternal) {
  StatusOr<int> v(Status::Ok());
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace carechart
