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

}  // namespace
}  // namespace postino::base::log
