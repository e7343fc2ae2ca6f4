// Tests for crypt(3) password hashes: yescrypt for new ones, the classic schemes verified.
#include "auth/password.hpp"

#include <crypt.h>
#include <gtest/gtest.h>

namespace postino::auth {
namespace {

TEST(Password, NewHashesAreYescryptAndVerify) {
  const auto hash = hash_password("correct horse");
  ASSERT_TRUE(hash.starts_with("$y$")) << hash;
  EXPECT_TRUE(verify_password("correct horse", hash));
  EXPECT_FALSE(verify_password("correct horsE", hash));
  EXPECT_FALSE(verify_password("", hash));
  EXPECT_NE(hash_password("correct horse"), hash);  // salted
}

TEST(Password, VerifiesBcryptSha512AndSha256Crypt) {
  for (const char* prefix : {"$2b$", "$6$", "$5$"}) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    ASSERT_TRUE(crypt_gensalt_rn(prefix, 0, nullptr, 0, setting, sizeof setting)) << prefix;
    crypt_data data{};
    const std::string hash = crypt_rn("s3cret", setting, &data, sizeof data);
    EXPECT_TRUE(verify_password("s3cret", hash)) << hash;
    EXPECT_FALSE(verify_password("s3cre", hash)) << hash;
  }
}

TEST(Password, NulBytesNeverTruncateThePassword) {
  const auto hash = hash_password("secret");
  EXPECT_FALSE(verify_password(std::string_view("secret\0junk", 11), hash));
  EXPECT_FALSE(verify_password(std::string_view("secret\0", 7), hash));
}

TEST(Password, UnknownAndMalformedHashesNeverMatch) {
  EXPECT_FALSE(verify_password("x", ""));
  EXPECT_FALSE(verify_password("x", "x"));
  EXPECT_FALSE(verify_password("x", "$1$abc$def"));  // MD5-crypt is not accepted
  EXPECT_FALSE(verify_password("x", "$y$garbage"));
  EXPECT_FALSE(is_supported_hash("{PLAIN}x"));
  burn_password_time("anything");  // must not crash
}

}  // namespace
}  // namespace postino::auth
