// Tests for the ASCII case helpers.
#include "base/ascii.hpp"

#include <gtest/gtest.h>

#include "base/unicode.hpp"

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

TEST(Unicode, LowerCasesLettersOfEveryScriptAndKeepsBrokenBytes) {
  EXPECT_EQ(utf8_lower("\xc3\x89T\xc3\x89"), "\xc3\xa9t\xc3\xa9");   // ÉTÉ → été
  EXPECT_EQ(utf8_lower("\xce\x91\xce\x98\xce\x97\xce\x9d\xce\x91"),  // ΑΘΗΝΑ
            "\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1");
  EXPECT_EQ(utf8_lower("\xd0\x96"), "\xd0\xb6");                   // Ж → ж
  EXPECT_EQ(utf8_lower("Caf\xe9 \xc3\x28 \xed\xa0\x80 \xc0\xaf"),  // Latin-1, broken,
            "caf\xe9 \xc3\x28 \xed\xa0\x80 \xc0\xaf");             // surrogate, overlong
  EXPECT_EQ(utf8_lower("\xf0\x9f\x98\x80 OK"), "\xf0\x9f\x98\x80 ok");
}

TEST(Unicode, ContainsFoldsBothSides) {
  EXPECT_TRUE(utf8_icontains("R\xc3\x89SUM\xc3\x89 du jour", utf8_lower("r\xc3\xa9sum\xc3\xa9")));
  EXPECT_TRUE(utf8_icontains("Quarterly REPORT", "report"));
  EXPECT_FALSE(utf8_icontains("resume", utf8_lower("r\xc3\xa9sum\xc3\xa9")));
}

}  // namespace
}  // namespace postino::base
