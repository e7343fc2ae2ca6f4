#include "app/sendmail.hpp"

#include <gtest/gtest.h>

namespace postino::app {
namespace {

TEST(SendmailArgs, TheUsualCommandLines) {
  auto a = parse_sendmail_args(
      {"-t", "-oi", "-fcron@example.org", "-F", "Cron Daemon", "--", "root", "a@x.org, b@y.org"});
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_TRUE(a.extract_recipients);
  EXPECT_TRUE(a.ignore_dots);
  EXPECT_EQ(a.sender, "cron@example.org");
  EXPECT_EQ(a.full_name, "Cron Daemon");
  EXPECT_EQ(a.recipients, (std::vector<std::string>{"root", "a@x.org", "b@y.org"}));
  a = parse_sendmail_args(
      {"-i", "-f", "me@x.org", "-odi", "-oem", "-bm", "-C", "/etc/p.toml", "you@y.org"});
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_EQ(a.sender, "me@x.org");
  EXPECT_EQ(a.config_file, "/etc/p.toml");
  EXPECT_EQ(a.recipients, std::vector<std::string>{"you@y.org"});
  EXPECT_FALSE(parse_sendmail_args({"-bs"}).error.empty());  // SMTP on stdin: not supported
  EXPECT_FALSE(parse_sendmail_args({"-Z"}).error.empty());
  EXPECT_FALSE(parse_sendmail_args({"-f"}).error.empty());
}

PreparedMessage prepare(const std::string& input, SendmailArgs args = {}) {
  return prepare_message(input, args, "root@example.org", "mail.example.org",
                         "Tue, 1 Dec 2026 20:00:00 +0000", "u1");
}

TEST(SendmailMessage, AddsWhatIsMissingAndMakesCrlfLines) {
  const auto m = prepare("Subject: disk\nTo: root\n\n/ is 91% full\n");
  EXPECT_EQ(m.text,
            "From: root@example.org\r\nDate: Tue, 1 Dec 2026 20:00:00 +0000\r\n"
            "Message-ID: <u1@mail.example.org>\r\nSubject: disk\r\nTo: root\r\n\r\n"
            "/ is 91% full\r\n");
}

TEST(SendmailMessage, KeepsWhatIsThere) {
  const auto m = prepare(
      "From: a@x.org\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <k@x>\r\n\r\nhi\r\n");
  EXPECT_EQ(m.text,
            "From: a@x.org\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <k@x>\r\n\r\n"
            "hi\r\n");
}

TEST(SendmailMessage, ALoneDotEndsInputUnlessIgnored) {
  EXPECT_EQ(prepare("Subject: a\n\none\n.\ntwo\n").text.find("two"), std::string::npos);
  SendmailArgs i;
  i.ignore_dots = true;
  EXPECT_NE(prepare("Subject: a\n\none\n.\ntwo\n", i).text.find("one\r\n.\r\ntwo\r\n"),
            std::string::npos);
}

TEST(SendmailMessage, NoHeaderAtAllGetsABlankLineBeforeTheBody) {
  const auto m = prepare("just a line\n");
  EXPECT_NE(m.text.find("<u1@mail.example.org>\r\n\r\njust a line\r\n"), std::string::npos)
      << m.text;
}

TEST(SendmailMessage, DashTReadsToCcBccAndRemovesBcc) {
  SendmailArgs t;
  t.extract_recipients = true;
  t.recipients = {"extra@z.org"};
  t.full_name = "Back \"Up\"";
  const auto m =
      prepare("To: A <a@x.org>, b@y.org\nCc: c@x.org\nBcc: secret@x.org\nSubject: s\n\nbody\n", t);
  EXPECT_EQ(m.recipients, (std::vector<std::string>{"extra@z.org", "a@x.org", "b@y.org", "c@x.org",
                                                    "secret@x.org"}));
  EXPECT_EQ(m.text.find("secret"), std::string::npos);
  EXPECT_NE(m.text.find("From: \"Back \\\"Up\\\"\" <root@example.org>\r\n"), std::string::npos);
}

}  // namespace
}  // namespace postino::app
