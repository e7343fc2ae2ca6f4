// Tests for logfmt rendering: hostile values can never forge fields or lines.
#include "base/log.hpp"

#include <gtest/gtest.h>

namespace postino::base::log {
namespace {

TEST(Log, PlainValuesStayBare) {
  EXPECT_EQ(logfmt_value("smtp"), "smtp");
  EXPECT_EQ(logfmt_value("127.0.0.1:25"), "127.0.0.1:25");
}

TEST(Log, ValuesWithSpacesQuotesOrControlsAreQuotedAndEscaped) {
  EXPECT_EQ(logfmt_value(""), "\"\"");
  EXPECT_EQ(logfmt_value("a b"), "\"a b\"");
  EXPECT_EQ(logfmt_value("x=\"y\""), "\"x=\\\"y\\\"\"");
  EXPECT_EQ(logfmt_value("evil\r\nlevel=error"), "\"evil\\x0d\\x0alevel=error\"");
}

TEST(Log, RendersSessionEventAndFieldsInOrder) {
  EXPECT_EQ(render_fields("S1", "connect", {{"proto", "smtp"}, {"remote", "1.2.3.4:5"}}),
            "session=S1 event=connect proto=smtp remote=1.2.3.4:5");
  EXPECT_EQ(render_fields("", "start", {}), "event=start");
}

TEST(Log, FieldsParseBackFromEitherFormat) {
  const auto line =
      "time=2026-12-01T20:00:00.000Z level=info " +
      render_fields(
          "S1", "delivery",
          {{"queue_id", "S1.1"}, {"reply", "550 5.1.1 \"x\" \\ \x01 ok"}, {"to", "<a@b>"}});
  const auto f = parse_fields(line);
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f[0], (std::pair<std::string, std::string>{"time", "2026-12-01T20:00:00.000Z"}));
  EXPECT_EQ(f[2].second, "S1");
  EXPECT_EQ(f[4], (std::pair<std::string, std::string>{"queue_id", "S1.1"}));
  EXPECT_EQ(f[5].second, "550 5.1.1 \"x\" \\ \x01 ok");
  EXPECT_EQ(f[6].second, "<a@b>");
  const auto text = parse_fields("2026-12-01 20:00:00.000 level=warn event=x");
  ASSERT_EQ(text.size(), 2u);
  EXPECT_EQ(text[1].second, "x");
}

}  // namespace
}  // namespace postino::base::log
