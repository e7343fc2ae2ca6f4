#include "app/mail_files.hpp"

#include <gtest/gtest.h>

namespace postino::app {
namespace {

TEST(MailFiles, LineEnds) {
  EXPECT_EQ(to_crlf("a\nb\r\nc"), "a\r\nb\r\nc");
  EXPECT_EQ(to_lf("a\r\nb\r\nc\r"), "a\nb\nc\r");
}

TEST(Maildir, FlagsFromFileNames) {
  const std::map<char, std::string> keywords = {{'a', "$Label1"}, {'b', "Work"}};
  auto f = maildir_flags("1700000000.M1P2.host,S=42,W=44:2,FRSab", keywords);
  EXPECT_EQ(f.system, store::flag_flagged | store::flag_answered | store::flag_seen);
  EXPECT_EQ(f.keywords, (std::vector<std::string>{"$Label1", "Work"}));
  f = maildir_flags("1700000000.M1P2.host:2,DPTz", keywords);
  EXPECT_EQ(f.system, store::flag_draft | store::flag_deleted);
  EXPECT_EQ(f.keywords, std::vector<std::string>{"$Forwarded"});  // z: not in the file
  EXPECT_EQ(maildir_flags("1700000000.M1P2.host", keywords).system, 0u);
}

TEST(Maildir, FilesAreOrderedByDeliveryTimeNotAsText) {
  // Python writes the microseconds without leading zeros: as text, M100234 sorts first.
  EXPECT_TRUE(
      maildir_delivered_before("1733100000.M99871P7Q3.host:2,DT", "1733100000.M100234P7Q4.host"));
  EXPECT_FALSE(
      maildir_delivered_before("1733100000.M100234P7Q4.host", "1733100000.M99871P7Q3.host:2,DT"));
  EXPECT_TRUE(maildir_delivered_before("999999999.M5P1.host", "1000000000.M1P1.host"));
  // Names of another shape: by their leading number, then as text.
  EXPECT_TRUE(maildir_delivered_before("17.a", "17.b"));
  EXPECT_FALSE(maildir_delivered_before("17.a", "17.a"));
  EXPECT_TRUE(maildir_delivered_before("abc", "abd"));
}

TEST(Maildir, InfoRoundTripsThroughKeywordLetters) {
  std::map<std::string, char> letters;
  store::Flags f{store::flag_seen | store::flag_draft, {"$Forwarded", "Work", "zeta"}};
  const auto info = maildir_info(f, letters);
  EXPECT_EQ(info, ":2,DPSab");
  const auto parsed = parse_dovecot_keywords(dovecot_keywords_text(letters));
  EXPECT_EQ(maildir_flags("x" + info, parsed), f);
}

TEST(Maildir, FolderNames) {
  EXPECT_EQ(maildir_folder_name(".Sent"), "Sent");
  EXPECT_EQ(maildir_folder_name(".Archive.2024"), "Archive/2024");
  EXPECT_EQ(maildir_folder_name(".Entw&APw-rfe"), "Entwürfe");
  EXPECT_FALSE(maildir_folder_name(".."));
  EXPECT_FALSE(maildir_folder_name("cur"));
  EXPECT_FALSE(maildir_folder_name(".bad&"));
  EXPECT_EQ(maildir_folder_directory("Archive/Entwürfe"), ".Archive.Entw&APw-rfe");
}

TEST(Mbox, SplitsUnquotesAndReadsFlagsAndDates) {
  const std::string mbox =
      "From alice@example.org Mon Nov 30 10:00:00 2026\n"
      "Subject: one\nStatus: RO\nX-Status: AF\nX-Keywords: $Label1 Work\nContent-Length: 99\n"
      "\nFirst\n>From the start\n>>From deeper\n\n"
      "From MAILER-DAEMON Tue Dec  1 08:05:09 2026\n"
      "Subject: two\n\nbody\nFrom here on (not a separator: no empty line before)\n";
  const auto m = split_mbox(mbox);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].text, "Subject: one\r\n\r\nFirst\r\nFrom the start\r\n>From deeper\r\n");
  EXPECT_EQ(m[0].flags.system, store::flag_seen | store::flag_answered | store::flag_flagged);
  EXPECT_EQ(m[0].flags.keywords, (std::vector<std::string>{"$Label1", "Work"}));
  EXPECT_EQ(store::SystemClock::to_time_t(*m[0].internal_date), 1796032800);
  EXPECT_EQ(m[1].text,
            "Subject: two\r\n\r\nbody\r\nFrom here on (not a separator: no empty line before)\r\n");
  EXPECT_EQ(m[1].flags.system, 0u);
  EXPECT_EQ(store::SystemClock::to_time_t(*m[1].internal_date), 1796112309);
}

TEST(Mbox, EntriesSplitBackToTheSameMessages) {
  const std::string a = "Subject: a\r\n\r\nFrom me\r\n>From you\r\n";
  const std::string b = "Subject: b\r\n\r\nbody\r\n";
  const store::Flags fa{store::flag_seen | store::flag_deleted, {"Work"}};
  const auto when = store::SystemClock::from_time_t(1796025909);
  const auto m = split_mbox(mbox_entry(a, fa, when) + mbox_entry(b, {}, when));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].text, a);
  EXPECT_EQ(m[0].flags, fa);
  EXPECT_EQ(m[0].internal_date, when);
  EXPECT_EQ(m[1].text, b);
}

}  // namespace
}  // namespace postino::app
