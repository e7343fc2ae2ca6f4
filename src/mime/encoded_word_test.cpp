// Tests for RFC 2047 encoded-word decoding.
#include "mime/encoded_word.hpp"

#include <gtest/gtest.h>

namespace postino::mime {
namespace {

TEST(EncodedWord, DecodesBAndQInAnyCharset) {
  EXPECT_EQ(decode_encoded_words("=?utf-8?q?J=C3=B6rg?= <j@x.test>"), "J\xc3\xb6rg <j@x.test>");
  EXPECT_EQ(decode_encoded_words("=?ISO-8859-1?Q?Andr=E9?= Pirard"), "Andr\xc3\xa9 Pirard");
  EXPECT_EQ(decode_encoded_words("=?UTF-8?B?0J/RgNC40LLQtdGC?="),
            "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
  EXPECT_EQ(decode_encoded_words("=?utf-8*en?q?a_b?="), "a b");
}

TEST(EncodedWord, SpaceBetweenWordsIsDropped) {
  // RFC 2047 §8 examples.
  EXPECT_EQ(decode_encoded_words("(=?ISO-8859-1?Q?a?= b)"), "(a b)");
  EXPECT_EQ(decode_encoded_words("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(decode_encoded_words("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)"), "(ab)");
  EXPECT_EQ(decode_encoded_words("=?ISO-8859-1?Q?a?= x =?ISO-8859-1?Q?b?="), "a x b");
}

TEST(EncodedWord, BrokenWordsAreKept) {
  EXPECT_EQ(decode_encoded_words("=?x-unknown?q?a?="), "=?x-unknown?q?a?=");
  EXPECT_EQ(decode_encoded_words("=?utf-8?z?a?="), "=?utf-8?z?a?=");
  EXPECT_EQ(decode_encoded_words("=?utf-8?q?unterminated"), "=?utf-8?q?unterminated");
  EXPECT_EQ(decode_encoded_words("plain text"), "plain text");
  EXPECT_EQ(decode_encoded_words("=?"), "=?");
}

}  // namespace
}  // namespace postino::mime
