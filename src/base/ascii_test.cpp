// Tests for the ASCII case helpers.
#include "base/ascii.hpp"

#include <gtest/gtest.h>

namespace postino::base {
namespace {

TEST(Ascii, IcontainsFoldsAsciiLettersOnly) {
  EXPECT_TRUE(icontains("Quarterly REPORT", "report"));
  EXPECT_TRUE(icontains("abc", ""));
  EXPECT_TRUE(icontains("aab", "ab"));  // a false start does not hide the match
  EXPECT_FALSE(icontains("ab", "abc"));
  EXPECT_FALSE(icontains("repor", "report"));
  EXPECT_FALSE(icontains("\xc3\x89T\xc3\x89", "\xc3\xa9t\xc3\xa9"));  // É is not ASCII
  EXPECT_TRUE(icontains("L'\xc3\xa9T\xc3\xa9", "\xc3\xa9t\xc3\xa9"));
}

}  // namespace
}  // namespace postino::base
