#include "core/html.h"

#include <gtest/gtest.h>

namespace carechart {
namespace {

TEST(HtmlEscape, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\" title='y'>&</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("María López"), "María López");
  EXPECT_EQ(HtmlEscape(""), "");
}

}  // namespace
}  // namespace carechart
