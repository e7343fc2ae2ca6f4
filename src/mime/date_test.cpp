// Tests for RFC 5322 date parsing.
#include "mime/date.hpp"

#include <gtest/gtest.h>

namespace postino::mime {
namespace {

TEST(Date, CommonAndObsoleteForms) {
  EXPECT_EQ(date_days("Thu, 01 Jan 1970 00:00:00 +0000"), 0);
  EXPECT_EQ(date_days("Tue, 24 Nov 2026 21:52:00 +0100"), 20781);
  EXPECT_EQ(date_days("24 Nov 2026 23:59 -1200"), 20781);  // zone disregarded
  EXPECT_EQ(date_days("Tue,24 NOV 26 21:52 GMT"), 20781);  // two-digit year
  EXPECT_EQ(date_days("(sent) Tue (day), 24 (x) November 126 10:00"), 20781);
  EXPECT_EQ(date_days("29 Feb 2024 10:00 +0000"), 19782);
  EXPECT_EQ(date_days("1 Mar 1999"), 10651);
}

TEST(Date, DateTimeAppliesTheZone) {
  EXPECT_EQ(date_time("Thu, 01 Jan 1970 00:00:00 +0000"), 0);
  EXPECT_EQ(date_time("Thu, 01 Jan 1970 01:00:00 +0100"), 0);
  EXPECT_EQ(date_time("Wed, 31 Dec 1969 19:00 EST"), 0);    // obsolete zone, no seconds
  EXPECT_EQ(date_time("1 Jan 1970 00:00:30 -0030"), 1830);  // west of UTC is later
  EXPECT_EQ(date_time("1 Jan 1970"), 0);                    // no time: midnight
  EXPECT_EQ(date_time("1 Jan 1970 10:00:00 (no zone)"), 36000);
  EXPECT_EQ(date_time("1 Jan 1970 25x00 +0100"), 0);  // a broken time is ignored
  EXPECT_EQ(date_time("yesterday"), std::nullopt);
}

TEST(Date, GarbageHasNoDate) {
  EXPECT_EQ(date_days(""), std::nullopt);
  EXPECT_EQ(date_days("yesterday"), std::nullopt);
  EXPECT_EQ(date_days("32 Jan 2020"), std::nullopt);
  EXPECT_EQ(date_days("1 Foo 2020"), std::nullopt);
  EXPECT_EQ(date_days("1 Jan 20x0"), std::nullopt);
}

}  // namespace
}  // namespace postino::mime
