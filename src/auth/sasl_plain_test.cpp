// Tests for SASL PLAIN decoding (RFC 4616) and RELIABILITY A04's NUL tricks.
#include "auth/sasl_plain.hpp"

#include <gtest/gtest.h>

namespace postino::auth {
namespace {

using namespace std::string_view_literals;

TEST(SaslPlain, DecodesWithAndWithoutAuthzid) {
  auto c = decode_plain("\0demo@example.test\0pw"sv);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->authcid, "demo@example.test");
  EXPECT_EQ(c->password, "pw");
  c = decode_plain("demo@example.test\0demo@example.test\0pw"sv);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->authcid, "demo@example.test");
}

TEST(SaslPlain, RefusesMalformedAndImpersonation) {
  for (auto bad : {""sv, "\0"sv, "\0\0"sv, "\0demo\0"sv, "\0\0pw"sv, "demo pw"sv, "\0demo"sv,
                   "\0demo@example.test\0pw\0extra"sv, "admin\0demo@example.test\0pw"sv}) {
    EXPECT_FALSE(decode_plain(bad)) << bad.size();
  }
  EXPECT_TRUE(is_cancel("*"));
  EXPECT_FALSE(is_cancel("**"));
}

}  // namespace
}  // namespace postino::auth
