// Tests for relaxed canonicalization, with RFC 6376 §3.4.6's example.
#include "dkim/canonical.hpp"

#include <gtest/gtest.h>

namespace postino::dkim {
namespace {

std::string body_of(std::string_view text, std::size_t piece) {
  RelaxedBody body;
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += piece) out += body.feed(text.substr(i, piece));
  return out + body.finish();
}

TEST(Relaxed, TheRfcExample) {
  EXPECT_EQ(relaxed_header("A", " X"), "a:X\r\n");
  EXPECT_EQ(relaxed_header("B ", " Y\t\r\n\tZ  "), "b:Y Z\r\n");
  for (std::size_t piece : {1, 2, 3, 100}) {
    EXPECT_EQ(body_of(" C \r\nD \t E\r\n\r\n\r\n", piece), " C\r\nD E\r\n") << piece;
  }
}

TEST(Relaxed, BodyEdges) {
  EXPECT_EQ(body_of("", 1), "");
  EXPECT_EQ(body_of("\r\n\r\n", 1), "");
  EXPECT_EQ(body_of("no line end", 4), "no line end\r\n");
  EXPECT_EQ(body_of("a\r\n\r\nb \r\n \r\n", 2), "a\r\n\r\nb\r\n");
  EXPECT_EQ(body_of("bare\nlf\n", 3), "bare\r\nlf\r\n");
  EXPECT_EQ(body_of("cr\rinside\r\n", 1), "cr\rinside\r\n");
}

}  // namespace
}  // namespace postino::dkim
