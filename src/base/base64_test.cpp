// Tests for strict base64 (RFC 4648 §10 vectors and malformed inputs).
#include "base/base64.hpp"

#include <gtest/gtest.h>

namespace postino::base {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), std::string(plain));
  }
  const std::string binary("\0\xff\x10", 3);
  EXPECT_EQ(base64_decode(base64_encode(binary)), binary);
}

TEST(Base64, RejectsMalformed) {
  for (auto bad : {"====", "Zg=", "Zg", "Z===", "Zm9v\r\n", "Zm 9", "Zg==Zg==", "Zm9=v",
                   "Zh==", "Zm9vYmF=", "*m9v"}) {
    EXPECT_FALSE(base64_decode(bad)) << bad;
  }
}

}  // namespace
}  // namespace postino::base
