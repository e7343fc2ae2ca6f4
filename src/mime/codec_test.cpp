// Tests for the Structure codec: round trips, and garbage never crashes or over-allocates.
#include "mime/codec.hpp"

#include <gtest/gtest.h>

#include <random>

namespace postino::mime {
namespace {

Structure sample() {
  return parse_structure(
      "Content-Type: multipart/mixed; boundary=b; title*=utf-8'en'%E2%82%AC\r\n"
      "Content-Language: en, de\r\n\r\n"
      "--b\r\nContent-ID: <1@x>\r\nContent-Description: d\r\nContent-MD5: m\r\n"
      "Content-Location: http://x/\r\nContent-Disposition: inline; a=1\r\n\r\nx\r\n"
      "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: s\r\n\r\nbody\r\n--b--\r\n");
}

TEST(Codec, RoundTrips) {
  const auto s = sample();
  ASSERT_GE(s.parts.size(), 4u);
  auto back = decode(encode(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
  Structure truncated = s;
  truncated.is_truncated = true;
  EXPECT_EQ(*decode(encode(truncated)), truncated);
}

TEST(Codec, RejectsEveryTruncationAndTrailingBytes) {
  const auto bytes = encode(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n))) << n;
  }
  EXPECT_FALSE(decode(bytes + "x"));
  std::string wrong_version = bytes;
  wrong_version[0] = 9;
  EXPECT_FALSE(decode(wrong_version));
}

TEST(Codec, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  const auto valid = encode(sample());
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = valid;
    for (int k = 0; k < 3; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    (void)decode(bytes);
    std::string noise(rng() % 64, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    (void)decode(noise);
  }
}

}  // namespace
}  // namespace postino::mime
