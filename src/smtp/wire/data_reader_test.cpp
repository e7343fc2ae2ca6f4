// Tests for the DATA reader: end-of-data only at <CRLF>.<CRLF>, every smuggling variant
// stays text, dot-unstuffing, size limit, and every split point.
#include "smtp/wire/data_reader.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace postino::smtp::wire {
namespace {

struct Read {
  std::string message;
  std::string rest;
  bool done = false;
  bool bare_lf = false;
  bool too_big = false;
};

Read read(std::string_view input, std::size_t chunk = 1 << 20, std::uint64_t max = 1 << 20) {
  DataReader r(max);
  std::size_t pos = 0;
  while (pos < input.size() && !r.done()) {
    const auto piece = input.substr(pos, std::min(chunk, input.size() - pos));
    pos += r.feed(piece);
  }
  return {r.message(), std::string(input.substr(pos)), r.done(), r.saw_bare_lf(), r.is_too_big()};
}

TEST(DataReader, EndsAtCrlfDotCrlfAndKeepsTheRest) {
  auto r = read("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.message, "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(r.rest, "QUIT\r\n");
  EXPECT_FALSE(r.bare_lf);
}

TEST(DataReader, EmptyMessageAndImmediateDot) {
  auto r = read(".\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.message, "");
}

TEST(DataReader, DotUnstuffing) {
  auto r = read("..leading\r\n...\r\n. \r\n.\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.message, ".leading\r\n..\r\n \r\n");
}

TEST(DataReader, SmugglingVariantsNeverEndTheMessage) {
  // RELIABILITY S01: each fake end-of-data followed by a second transaction.
  const std::string smuggled = "MAIL FROM:<s@x>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n";
  for (const std::string& fake :
       std::vector<std::string>{"\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r", "\r.\n", "\n.\r",
                                std::string("\r\n\0.\r\n", 6), "\r\n.\r\r\n"}) {
    const std::string input = "x" + fake + smuggled + "y\r\n.\r\n";
    for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{7}, input.size()}) {
      auto r = read(input, chunk);
      EXPECT_TRUE(r.done);
      EXPECT_EQ(r.rest, "") << "fake end " << testing::PrintToString(fake) << " chunk " << chunk;
      EXPECT_NE(r.message.find("MAIL FROM:<s@x>"), std::string::npos);
    }
  }
}

TEST(DataReader, BareLfLinesBecomeCrlfAndAreFlagged) {
  auto r = read("a\nb\r\n.\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.message, "a\r\nb\r\n");
  EXPECT_TRUE(r.bare_lf);
  // "\n.\r\n" after a bare-LF line is not an end (the dot line is not preceded by CRLF).
  auto s = read("a\n.\r\nmore\r\n.\r\n");
  EXPECT_EQ(s.message, "a\r\n\r\nmore\r\n");
}

TEST(DataReader, BareCrStaysText) {
  auto r = read("a\rb\r\n.\r\n");
  EXPECT_EQ(r.message, "a\rb\r\n");
}

TEST(DataReader, SameResultAtEverySplitPoint) {
  const std::string input = "H: v\r\n\r\n..dot\r\nx\ny\rz\r\n\r\n.\r\nNEXT";
  const auto whole = read(input);
  for (std::size_t chunk = 1; chunk < input.size(); ++chunk) {
    auto r = read(input, chunk);
    EXPECT_EQ(r.message, whole.message) << chunk;
    EXPECT_EQ(r.rest, "NEXT") << chunk;
  }
}

// Runs longer than 16 bytes are found by memchr (the cached next CR and LF): the same
// message as reading one byte at a time, which never gets there, at every split point.
TEST(DataReader, LongRunsReadByMemchrMatchTheByteAtATimeReading) {
  const std::string run(40, 'r');
  const std::string input = "Subject: " + run + "\r\n\r\n" + run + "\r" + run + "\r\n" + run +
                            "\n" + run + "\r\r\n.." + run + "\r\n" + run + "\n.\r\n" + run +
                            "\r\n.\r\nNEXT";
  const auto one_byte = read(input, 1);
  EXPECT_TRUE(one_byte.done);
  EXPECT_EQ(one_byte.rest, "NEXT");
  EXPECT_NE(one_byte.message.find(run + "\r" + run), std::string::npos);  // bare CR kept
  for (std::size_t chunk = 2; chunk <= input.size(); ++chunk) {
    auto r = read(input, chunk);
    EXPECT_EQ(r.message, one_byte.message) << chunk;
    EXPECT_EQ(r.rest, "NEXT") << chunk;
    EXPECT_EQ(r.bare_lf, one_byte.bare_lf) << chunk;
  }
}

// Each byte is searched at most once for CR and once for LF: 16 MB of bare-LF lines (no CR
// until the end) or of bare-CR ones (no LF) in one piece are read in one pass. Searching the
// rest of the input again for every line (800,000 lines, 8 MB on average each) takes this
// test past ctest's 600 s; in one pass, seconds in the ASan build.
TEST(DataReader, LongInputOfBareLfOrBareCrLinesIsReadInOnePass) {
  const std::string line(20, 'x');  // past the 16 bytes read by the plain loop
  constexpr std::size_t lines = (16u << 20) / 21;
  std::string lf, cr, lf_expected;
  lf.reserve(lines * 21 + 16);
  cr.reserve(lines * 21 + 16);
  lf_expected.reserve(lines * 22 + 16);
  for (std::size_t i = 0; i < lines; ++i) {
    lf.append(line).push_back('\n');
    lf_expected.append(line).append("\r\n");
    cr.append(line).push_back('\r');
  }
  const std::string cr_expected = cr;
  auto a = read(lf + "end\r\n.\r\n", 32u << 20, 32u << 20);
  EXPECT_TRUE(a.done);
  EXPECT_TRUE(a.bare_lf);
  EXPECT_TRUE(a.message == lf_expected + "end\r\n");
  auto b = read(cr + "end\r\n.\r\n", 32u << 20, 32u << 20);
  EXPECT_TRUE(b.done);
  EXPECT_TRUE(b.message == cr_expected + "end\r\n");
}

// Whole CRLF lines are kept in runs (one memchr a line, one append a run); what ends a run
// (a dot-stuffed line, a bare LF, a line not complete in this piece, the end-of-data line)
// is read byte by byte as before: the same message as reading one byte at a time, which
// never makes a run, at every split point.
TEST(DataReader, RunsOfWholeLinesMatchTheByteAtATimeReading) {
  const std::string line = "an ordinary line of text\r\n";
  std::string input;
  for (int i = 0; i < 4; ++i) input += line;
  input += "..stuffed\r\n" + line + line + "bare lf\n" + line + "\r\n" + line + "x\r\r\n" + line +
           "\n.\n" + line + ".\r\nNEXT";
  const auto one_byte = read(input, 1);
  EXPECT_TRUE(one_byte.done);
  EXPECT_TRUE(one_byte.bare_lf);
  EXPECT_NE(one_byte.message.find("\r\n.stuffed\r\n"), std::string::npos);
  for (std::size_t chunk = 2; chunk <= input.size(); ++chunk) {
    auto r = read(input, chunk);
    EXPECT_EQ(r.message, one_byte.message) << chunk;
    EXPECT_EQ(r.rest, "NEXT") << chunk;
    EXPECT_EQ(r.bare_lf, one_byte.bare_lf) << chunk;
  }
}

TEST(DataReader, TooBigIsReadToTheEndButNotKept) {
  auto r = read(std::string(5000, 'a') + "\r\n.\r\nQUIT\r\n", 100, 1000);
  EXPECT_TRUE(r.done);
  EXPECT_TRUE(r.too_big);
  EXPECT_EQ(r.message, "");
  EXPECT_EQ(r.rest, "QUIT\r\n");
  auto exact = read(std::string(998, 'a') + "\r\n.\r\n", 7, 1000);
  EXPECT_FALSE(exact.too_big);
  EXPECT_EQ(exact.message.size(), 1000u);
}

}  // namespace
}  // namespace postino::smtp::wire
