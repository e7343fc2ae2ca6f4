// Tests for envelope field extraction.
#include "mime/envelope_fields.hpp"

#include <gtest/gtest.h>

namespace postino::mime {
namespace {

TEST(EnvelopeFields, FirstOccurrenceUnfolded) {
  const std::string msg =
      "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nSubject: long\r\n subject\r\n"
      "From: \"A\" <a@x>\r\nTo: b@x,\r\n c@x\r\nTo: ignored@x\r\nMessage-ID: <id@x>\r\n\r\n"
      "Subject: in the body, not a header\r\n";
  auto e = extract_envelope_fields(msg, parse_structure(msg));
  EXPECT_EQ(e.subject, "long subject");
  EXPECT_EQ(e.from, "\"A\" <a@x>");
  EXPECT_EQ(e.to, "b@x, c@x");
  EXPECT_EQ(e.message_id, "<id@x>");
  EXPECT_EQ(e.cc, "");
  EXPECT_EQ(e.date, "Tue, 24 Nov 2026 10:00:00 +0000");
}

}  // namespace
}  // namespace postino::mime
