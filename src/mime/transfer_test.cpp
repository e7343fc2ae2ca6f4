// Tests for Content-Transfer-Encoding decoding (RFC 2045 §6.7, §6.8).
#include "mime/transfer.hpp"

#include <gtest/gtest.h>

namespace postino::mime {
namespace {

TEST(Transfer, Base64AcrossLinesAndPadding) {
  EXPECT_EQ(decode_transfer("SGVsbG8s\r\nIHdvcmxk\r\nIQ==\r\n", "base64"), "Hello, world!");
  EXPECT_EQ(decode_transfer("SGk*!", "BASE64"), "Hi");  // stray characters skipped
  EXPECT_EQ(decode_transfer("", "base64"), "");
}

TEST(Transfer, QuotedPrintable) {
  EXPECT_EQ(decode_transfer("J=C3=B6rg =3D soft=\r\nbreak\r\n", "quoted-printable"),
            "J\xc3\xb6rg = softbreak\r\n");
  EXPECT_EQ(decode_transfer("bare=\nlf, broken =ZZ and end=", "quoted-printable"),
            "barelf, broken =ZZ and end=");
  EXPECT_EQ(decode_transfer("=4", "quoted-printable"), "=4");
}

TEST(Transfer, OtherEncodingsUnchanged) {
  EXPECT_EQ(decode_transfer("=41 text", "7bit"), "=41 text");
  EXPECT_EQ(decode_transfer("x", ""), "x");
}

}  // namespace
}  // namespace postino::mime
