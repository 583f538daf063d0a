#include "core/base64.h"

#include <gtest/gtest.h>

namespace carechart {
namespace {

TEST(Base64Test, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    auto decoded = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(decoded.has_value()) << i;
    EXPECT_EQ(*decoded, bytes) << i;
    bytes.push_back(static_cast<char>(i * 37 + 250));
  }
}

TEST(Base64Test, KnownValuesAndAlphabets) {
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("\xfb\xff", true), "-_8=");
  EXPECT_EQ(Base64Decode("-_8="), std::string("\xfb\xff"));
  EXPECT_EQ(Base64Decode("Zm9v\r\nYg"), std::string("foob"));  // whitespace, no padding
  EXPECT_EQ(Base64Decode(""), std::string());
}

TEST(Base64Test, RejectsMalformedInput) {
  EXPECT_FALSE(Base64Decode("Zm9v!g==").has_value());
  EXPECT_FALSE(Base64Decode("Zm=vYg==").has_value());  // padding in the middle
  EXPECT_FALSE(Base64Decode("Zm9vY").has_value());     // impossible length
  EXPECT_FALSE(Base64Decode("Zm9vY===").has_value());
}

}  // namespace
}  // namespace carechart
