// Tests for the IMAP session state machine, scripted as bytes in and bytes out.
#include "imap/session.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "base/base64.hpp"
#include "imap/session_fixture.hpp"
#include "imap/store_errors.hpp"

namespace postino::imap {
namespace {

using test_support::ImapLogin;
using test_support::logged_in_capabilities;

struct Script {
  explicit Script(bool tls = false) : session(SessionSettings{}, client(tls)) {}
  static net::ClientInfo client(bool tls) {
    net::ClientInfo c;
    c.is_tls = tls;
    return c;
  }
  Session session;
  std::string input;
  net::Output send(std::string_view bytes) {
    input += bytes;
    return session.receive(input);
  }
};

TEST(ImapSession, GreetingAndCapabilityBeforeAndAfterTls) {
  Script s;
  EXPECT_EQ(s.session.greet().bytes,
            "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE STARTTLS LOGINDISABLED] "
            "Postino ready.\r\n");
  EXPECT_EQ(s.send("a CAPABILITY\r\n").bytes,
            "* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE STARTTLS LOGINDISABLED\r\na OK "
            "CAPABILITY "
            "completed\r\n");
  auto out = s.send("b STARTTLS\r\n");
  EXPECT_EQ(out.bytes, "b OK Begin TLS negotiation now\r\n");
  EXPECT_EQ(out.after, net::After::start_tls);
  s.session.tls_started({});
  EXPECT_EQ(s.send("c capability\r\n").bytes,
            "* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE SASL-IR AUTH=PLAIN AUTH=LOGIN "
            "AUTH=SCRAM-SHA-256\r\nc OK "
            "CAPABILITY completed\r\n");
  EXPECT_EQ(s.send("d STARTTLS\r\n").bytes, "d BAD TLS is already active\r\n");
}

TEST(ImapSession, ImplicitTlsNeverOffersStartTls) {
  Script s(true);
  EXPECT_EQ(s.session.greet().bytes,
            "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE SASL-IR AUTH=PLAIN AUTH=LOGIN "
            "AUTH=SCRAM-SHA-256] Postino "
            "ready.\r\n");
}

TEST(ImapSession, StartTlsDropsPipelinedCommands) {
  Script s;
  auto out = s.send("a STARTTLS\r\nb NOOP\r\n");
  EXPECT_EQ(out.bytes, "a OK Begin TLS negotiation now\r\n");
  EXPECT_TRUE(s.input.empty());
}

TEST(ImapSession, LoginBeforeTlsIsRefusedWithPrivacyRequired) {
  Script s;
  EXPECT_EQ(s.send("a LOGIN demo@example.test secret\r\n").bytes,
            "a NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS\r\n");
}

TEST(ImapSession, NoopAndLogout) {
  Script s;
  EXPECT_EQ(s.send("a NOOP\r\n").bytes, "a OK NOOP completed\r\n");
  auto out = s.send("b LOGOUT\r\nc NOOP\r\n");
  EXPECT_EQ(out.bytes, "* BYE Logging out\r\nb OK LOGOUT completed\r\n");
  EXPECT_EQ(out.after, net::After::close);
}

TEST(ImapSession, ThreeBadCommandsBeforeLoginCloseTheConnection) {
  Script s;
  auto out = s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\nz NOOP\r\n");
  EXPECT_EQ(out.bytes,
            "GET BAD Unknown command\r\nHost: BAD Unknown command\r\n* BAD Missing tag\r\n"
            "* BYE Too many invalid commands.\r\n");
  EXPECT_EQ(out.after, net::After::close);
}

TEST(ImapSession, CommandsInTheWrongStateAnswerBad) {
  Script s;
  EXPECT_EQ(s.send("a SELECT INBOX\r\n").bytes, "a BAD Command not valid in this state\r\n");
}

TEST(ImapSession, PreauthLineLimitAtItsBoundary) {
  Script s;
  EXPECT_EQ(s.send("a NOOP" + std::string(8192 - 6, ' ') + "\r\n").bytes,
            "a OK NOOP completed\r\n");
  EXPECT_EQ(s.send("a NOOP" + std::string(8192 - 5, ' ') + "\r\nb NOOP\r\n").bytes,
            "* BAD Command line too long\r\nb OK NOOP completed\r\n");
}

TEST(ImapSession, LiteralsBeforeLoginAreBoundedAndAnsweredInOrder) {
  Script s;
  // RELIABILITY L06: refused before any continuation; the session goes on.
  EXPECT_EQ(s.send("a LOGIN {8193}\r\nb NOOP\r\n").bytes,
            "a NO [TOOBIG] Literal too big\r\nb OK NOOP completed\r\n");
  EXPECT_EQ(s.send("c LOGIN {4}\r\n").bytes, "+ Ready for literal data\r\n");
  EXPECT_EQ(s.send("demo {6}\r\n").bytes, "+ Ready for literal data\r\n");
  EXPECT_EQ(s.send("secret\r\n").bytes,
            "c NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS\r\n");
  auto out = s.send("d APPEND INBOX {9000+}\r\n");
  EXPECT_EQ(out.bytes, "* BYE [TOOBIG] Literal too big\r\n");
  EXPECT_EQ(out.after, net::After::close);
}

TEST(ImapSession, SameAnswersAtEverySplitPoint) {
  const std::string script = "a NOOP\r\nb CAPABILITY\r\nc LOGOUT\r\n";
  Script whole;
  const auto expected = whole.send(script).bytes;
  for (std::size_t chunk = 1; chunk < script.size(); ++chunk) {
    Script s;
    std::string got;
    for (std::size_t pos = 0; pos < script.size(); pos += chunk) {
      got += s.send(script.substr(pos, chunk)).bytes;
    }
    EXPECT_EQ(got, expected) << chunk;
  }
}

TEST_F(ImapLogin, LoginWithAtomsQuotedStringsAndLiterals) {
  start(true);
  EXPECT_EQ(send("a LOGIN demo@example.test secret\r\n"),
            "a OK [CAPABILITY " + logged_in_capabilities + "] Logged in\r\n");
  EXPECT_TRUE(std::holds_alternative<Session::Authenticated>(session_->state()));
  EXPECT_EQ(send("b LOGIN x y\r\n"), "b BAD Command not valid in this state\r\n");
  EXPECT_EQ(send("c SEARCH ALL\r\n"),
            "c BAD Command not valid in this state\r\n");  // nothing selected
  start(true);
  EXPECT_EQ(send("a LOGIN \"demo@example.test\" {6}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send("secret\r\n"), "a OK [CAPABILITY " + logged_in_capabilities + "] Logged in\r\n");
}

TEST_F(ImapLogin, FailuresAreNoAuthenticationFailedAndEndTheSession) {
  start(true);
  // RELIABILITY A04/A05: NUL tricks and injection strings are plain wrong passwords.
  EXPECT_EQ(send("a LOGIN demo@example.test {8}\r\n"), "+ Ready for literal data\r\n");
  EXPECT_EQ(send(std::string("secret\0x\r\n", 10)),
            "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  EXPECT_EQ(send("b LOGIN \"demo' OR '1'='1\" x\r\n"),
            "b NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  EXPECT_EQ(
      send("c LOGIN \"%u%{passdb:x}\" x\r\n"),
      "c NO [AUTHENTICATIONFAILED] Authentication failed\r\n* BYE Too many failed logins\r\n");
  EXPECT_EQ(after_, net::After::close);
}

TEST_F(ImapLogin, AuthenticatePlainWithAndWithoutInitialResponse) {
  start(true);
  EXPECT_EQ(send("a AUTHENTICATE PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHNlY3JldA==\r\n"),
            "a OK [CAPABILITY " + logged_in_capabilities + "] Logged in\r\n");
  start(true);
  EXPECT_EQ(send("a AUTHENTICATE PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(send("AGRlbW9AZXhhbXBsZS50ZXN0AHNlY3JldA==\r\n"),
            "a OK [CAPABILITY " + logged_in_capabilities + "] Logged in\r\n");
  start(true);
  EXPECT_EQ(send("a AUTHENTICATE PLAIN\r\n*\r\n"), "+ \r\na BAD Authentication aborted\r\n");
  EXPECT_EQ(send("b AUTHENTICATE CRAM-MD5\r\n"),
            "b NO [CANNOT] Unsupported authentication mechanism\r\n");
  EXPECT_EQ(send("c AUTHENTICATE PLAIN ====\r\n"), "c BAD Cannot decode response\r\n");
}

TEST_F(ImapLogin, AuthenticateLoginAsksForNameThenPassword) {
  start(true);
  EXPECT_EQ(send("a AUTHENTICATE LOGIN\r\n"), "+ VXNlcm5hbWU6\r\n");
  EXPECT_EQ(send(base::base64_encode("demo@example.test") + "\r\n"), "+ UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(send(base::base64_encode("secret") + "\r\n"),
            "a OK [CAPABILITY " + logged_in_capabilities + "] Logged in\r\n");
  start(true);
  // SASL-IR with the user name, then a wrong password; then an abort in the middle.
  EXPECT_EQ(send("a AUTHENTICATE LOGIN " + base::base64_encode("demo@example.test") + "\r\n"),
            "+ UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(send(base::base64_encode("wrong") + "\r\n"),
            "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  EXPECT_EQ(send("b AUTHENTICATE LOGIN\r\n"), "+ VXNlcm5hbWU6\r\n");
  EXPECT_EQ(send("*\r\n"), "b BAD Authentication aborted\r\n");
}

TEST_F(ImapLogin, AuthenticateScramSha256RefusesAWrongProofAfterADecoyExchange) {
  start(true);
  const auto first = send("a AUTHENTICATE SCRAM-SHA-256 " +
                          base::base64_encode("n,,n=nobody@example.test,r=abc") + "\r\n");
  ASSERT_TRUE(first.starts_with("+ ")) << first;
  const auto server_first = *base::base64_decode(first.substr(2, first.size() - 4));
  EXPECT_TRUE(server_first.starts_with("r=abc")) << server_first;
  EXPECT_NE(server_first.find(",s="), std::string::npos);
  // An unknown user gets decoy keys: the exchange goes on and fails at the proof.
  const auto nonce = server_first.substr(2, server_first.find(",s=") - 2);
  const auto bad_final = "c=biws,r=" + nonce + ",p=" + base::base64_encode(std::string(32, 'x'));
  EXPECT_EQ(send(base::base64_encode(bad_final) + "\r\n"),
            "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
  // Channel binding is not offered: a "p=" client-first is refused.
  EXPECT_EQ(send("b AUTHENTICATE SCRAM-SHA-256\r\n"), "+ \r\n");
  EXPECT_EQ(send(base::base64_encode("p=tls-unique,,n=demo@example.test,r=abc") + "\r\n"),
            "b BAD Invalid SCRAM message\r\n");
}

TEST_F(ImapLogin, MailboxManagement) {
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  EXPECT_EQ(send("b LIST \"\" \"\"\r\n"),
            "* LIST (\\Noselect) \"/\" \"\"\r\nb OK LIST completed\r\n");
  EXPECT_EQ(send("c CREATE Work/2026/\r\n"), "c OK CREATE completed\r\n");
  EXPECT_EQ(send("d CREATE \"p&AOQA5A-\"\r\n"), "d OK CREATE completed\r\n");
  EXPECT_EQ(send("e LIST \"\" *\r\n"),
            "* LIST (\\HasNoChildren \\Archive) \"/\" Archive\r\n"
            "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n"
            "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasNoChildren \\Junk) \"/\" Junk\r\n"
            "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n"
            "* LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n"
            "* LIST (\\HasChildren) \"/\" Work\r\n* LIST (\\HasNoChildren) \"/\" Work/2026\r\n"
            "* LIST (\\HasNoChildren) \"/\" p&AOQA5A-\r\ne OK LIST completed\r\n");
  EXPECT_EQ(send("f LIST \"\" %\r\n").find("Work/2026"), std::string::npos);
  EXPECT_EQ(send("g LIST Work/ %\r\n"),
            "* LIST (\\HasNoChildren) \"/\" Work/2026\r\ng OK LIST completed\r\n");
  EXPECT_EQ(send("h CREATE Work\r\n"), "h NO [ALREADYEXISTS] Mailbox already exists\r\n");
  EXPECT_EQ(send("i CREATE inbox\r\n"), "i NO [ALREADYEXISTS] INBOX always exists\r\n");
  EXPECT_EQ(send("j CREATE ../x\r\n"), "j NO [CANNOT] Invalid mailbox name\r\n");
  EXPECT_EQ(send("k CREATE \"&Jjo\"\r\n"), "k NO [CANNOT] Invalid mailbox name encoding\r\n");
  EXPECT_EQ(send("l DELETE Work\r\n"),
            "l NO [HASCHILDREN] Mailbox has children, delete them first\r\n");
  EXPECT_EQ(send("m RENAME Work Projects\r\n"), "m OK RENAME completed\r\n");
  EXPECT_EQ(send("n DELETE Work/2026\r\n"), "n NO [NONEXISTENT] No such mailbox\r\n");
  EXPECT_EQ(send("o DELETE inbox\r\n"), "o NO [CANNOT] INBOX cannot be deleted\r\n");
  EXPECT_EQ(send("p UNSUBSCRIBE Sent\r\n"), "p OK UNSUBSCRIBE completed\r\n");
  EXPECT_EQ(send("q LSUB \"\" S*\r\n"), "q OK LSUB completed\r\n");
  EXPECT_EQ(send("r SUBSCRIBE Sent\r\nr2 LSUB \"\" S*\r\n"),
            "r OK SUBSCRIBE completed\r\n* LSUB (\\HasNoChildren) \"/\" Sent\r\nr2 OK LSUB "
            "completed\r\n");
  ASSERT_TRUE(
      store_->deliver({store_->find_account("demo@example.test")->id}, "Subject: x\r\n\r\ny\r\n"));
  const auto inbox = store_->mailbox(store_->find_account("demo@example.test")->id, "INBOX");
  EXPECT_EQ(send("s STATUS inbox (MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)\r\n"),
            "* STATUS INBOX (MESSAGES 1 UNSEEN 1 UIDNEXT 2 UIDVALIDITY " +
                std::to_string(inbox->uid_validity.value) +
                " RECENT 0)\r\ns OK STATUS completed\r\n");
  EXPECT_EQ(send("t STATUS Nope (MESSAGES)\r\n"), "t NO [NONEXISTENT] No such mailbox\r\n");
  EXPECT_EQ(send("u STATUS INBOX (BOGUS)\r\n"), "u BAD Syntax: STATUS mailbox (items)\r\n");
  EXPECT_EQ(send("v NAMESPACE\r\n"),
            "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\nv OK NAMESPACE completed\r\n");
}

// RFC 3501 §8, the sample session, replayed against the same mailbox: 18 messages, the
// first unseen is 17, and message 12 is Terry Gray's minutes (header of 342 octets, body
// of 3028 octets in 92 lines). Postino's known differences from the transcript are
// spelled out: no \Recent (RFC 9051), more SELECT data, INTERNALDATE in +0000, the real
// RFC822.SIZE (the RFC's 4286 does not add up), lower-case BODY type strings, and no space
// between two addresses of a list (§9: env-cc = "(" 1*address ")"; Dovecot agrees).
TEST_F(ImapLogin, Rfc3501SampleSessionReplayed) {
  const std::string header =
      "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
      "From: Terry Gray <gray@cac.washington.edu>\r\n"
      "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
      "To: imap@cac.washington.edu\r\n"
      "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
      "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
      "\r\n";
  ASSERT_EQ(header.size(), 342u);
  std::string body;
  for (int i = 0; i < 92; ++i) body += std::string(i < 84 ? 31 : 30, 'm') + "\r\n";
  ASSERT_EQ(body.size(), 3028u);
  const auto demo = demo_id();
  for (int n = 1; n <= 18; ++n) {
    store::NewMessage m;
    if (n < 17) m.flags.system = store::flag_seen;
    m.internal_date = store::SystemClock::from_time_t(837596665);  // 17-Jul-1996 02:44:25 -0700
    ASSERT_TRUE(
        store_->append(demo, "INBOX", n == 12 ? header + body : "Subject: x\r\n\r\ny\r\n", m));
  }
  start(true);
  EXPECT_EQ(send("a001 login demo@example.test secret\r\n").substr(0, 8), "a001 OK ");
  const auto validity = std::to_string(store_->mailbox(demo, "INBOX")->uid_validity.value);
  EXPECT_EQ(send("a002 select inbox\r\n"),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags "
            "permitted\r\n"
            "* 18 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 17] First unseen\r\n* OK [UIDVALIDITY " +
                validity +
                "] UIDs valid\r\n* OK [UIDNEXT 19] Predicted next UID\r\na002 OK [READ-WRITE] "
                "SELECT completed\r\n");
  EXPECT_EQ(send("a003 fetch 12 full\r\n"),
            "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 09:44:25 +0000\" RFC822.SIZE "
            "3370 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary "
            "and minutes\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" "
            "NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" "
            "\"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL "
            "\"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL "
            "NIL \"<B27397-0100000@cac.washington.edu>\") BODY (\"text\" \"plain\" (\"charset\" "
            "\"US-ASCII\") NIL NIL \"7bit\" 3028 92))\r\na003 OK FETCH completed\r\n");
  EXPECT_EQ(send("a004 fetch 12 body[header]\r\n"),
            "* 12 FETCH (BODY[HEADER] {342}\r\n" + header + ")\r\na004 OK FETCH completed\r\n");
  EXPECT_EQ(send("a005 store 12 +flags \\deleted\r\n"),
            "* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\na005 OK STORE completed\r\n");
  EXPECT_EQ(send("a006 logout\r\n"), "* BYE Logging out\r\na006 OK LOGOUT completed\r\n");
  EXPECT_EQ(after_, net::After::close);
}

TEST_F(ImapLogin, SelectFetchStoreExpungeClose) {
  const auto demo = store_->find_account("demo@example.test")->id;
  ASSERT_TRUE(store_->deliver({demo}, "Subject: one\r\n\r\nfirst\r\n"));
  ASSERT_TRUE(store_->deliver({demo}, "Subject: two\r\n\r\nsecond body\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  const auto validity = std::to_string(store_->mailbox(demo, "INBOX")->uid_validity.value);
  EXPECT_EQ(send("b SELECT inbox\r\n"),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags "
            "permitted\r\n"
            "* 2 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 1] First unseen\r\n* OK [UIDVALIDITY " +
                validity +
                "] UIDs valid\r\n* OK [UIDNEXT 3] Predicted next UID\r\nb OK [READ-WRITE] SELECT "
                "completed\r\n");
  EXPECT_EQ(
      send("c FETCH 1:* (UID RFC822.SIZE FLAGS)\r\n"),
      "* 1 FETCH (UID 1 RFC822.SIZE 23 FLAGS ())\r\n* 2 FETCH (UID 2 RFC822.SIZE 29 FLAGS ())\r\n"
      "c OK FETCH completed\r\n");
  EXPECT_EQ(send("d FETCH 2 BODY.PEEK[HEADER]\r\n"),
            "* 2 FETCH (BODY[HEADER] {16}\r\nSubject: two\r\n\r\n)\r\nd OK FETCH completed\r\n");
  // A non-PEEK fetch sets \Seen and says so.
  EXPECT_EQ(send("e FETCH 2 BODY[TEXT]<0.6>\r\n"),
            "* 2 FETCH (BODY[TEXT]<0> {6}\r\nsecond FLAGS (\\Seen))\r\ne OK FETCH completed\r\n");
  EXPECT_EQ(send("f UID FETCH 1 RFC822\r\n"),
            "* 1 FETCH (UID 1 RFC822 {23}\r\nSubject: one\r\n\r\nfirst\r\n FLAGS (\\Seen))\r\nf OK "
            "UID FETCH completed\r\n");
  EXPECT_EQ(send("g FETCH 1 ENVELOPE\r\n"),
            "* 1 FETCH (ENVELOPE (NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\ng OK FETCH "
            "completed\r\n");
  EXPECT_EQ(send("g2 FETCH 1 (BODY BODYSTRUCTURE)\r\n"),
            "* 1 FETCH (BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1) "
            "BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1 NIL "
            "NIL NIL NIL))\r\ng2 OK FETCH completed\r\n");
  // The macros of RFC 3501 §6.4.5.
  const auto all = send("g2a FETCH 1 ALL\r\n");
  EXPECT_TRUE(all.starts_with("* 1 FETCH (FLAGS (\\Seen) INTERNALDATE \"")) << all;
  EXPECT_NE(all.find("\" RFC822.SIZE 23 ENVELOPE (NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"
                     "g2a OK FETCH completed\r\n"),
            std::string::npos)
      << all;
  const auto full = send("g2b FETCH 1 FULL\r\n");
  EXPECT_NE(full.find(" ENVELOPE (NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) BODY (\"text\" "
                      "\"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1))\r\n"),
            std::string::npos)
      << full;
  EXPECT_EQ(send("g3 FETCH 1 BODY.PEEK[1]\r\n"),
            "* 1 FETCH (BODY[1] {7}\r\nfirst\r\n)\r\ng3 OK FETCH completed\r\n");
  EXPECT_EQ(send("g4 FETCH 2 BODY.PEEK[HEADER.FIELDS (subject)]\r\n"),
            "* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {16}\r\nSubject: two\r\n\r\n)\r\ng4 OK "
            "FETCH completed\r\n");
  EXPECT_EQ(send("g5 FETCH 1 BODY.PEEK[2]\r\n"),
            "* 1 FETCH (BODY[2] {0}\r\n)\r\ng5 OK FETCH completed\r\n");
  EXPECT_EQ(send("g6 FETCH 1 BODY.PEEK[1.MIMEX]\r\n"), "g6 BAD Invalid section\r\n");
  EXPECT_EQ(send("h STORE 1 +FLAGS (\\Deleted $Label1)\r\n"),
            "* 1 FETCH (FLAGS (\\Seen \\Deleted $Label1))\r\nh OK STORE completed\r\n");
  EXPECT_EQ(send("i UID STORE 2 -FLAGS.SILENT (\\Seen)\r\n"), "i OK UID STORE completed\r\n");
  EXPECT_EQ(send("j STORE 1 +FLAGS (\\Recent)\r\n"), "j BAD Invalid flag\r\n");
  EXPECT_EQ(send("k EXPUNGE\r\n"), "* 1 EXPUNGE\r\nk OK EXPUNGE completed\r\n");
  EXPECT_EQ(send("l FETCH 1 (UID FLAGS)\r\n"),
            "* 1 FETCH (UID 2 FLAGS ())\r\nl OK FETCH completed\r\n");
  // New mail appears at NOOP.
  ASSERT_TRUE(store_->deliver({demo}, "Subject: three\r\n\r\nx\r\n"));
  EXPECT_EQ(send("m NOOP\r\n"), "* 2 EXISTS\r\nm OK NOOP completed\r\n");
  EXPECT_EQ(send("n CLOSE\r\n"), "n OK CLOSE completed\r\n");
  EXPECT_EQ(send("o FETCH 1 FLAGS\r\n"), "o BAD Command not valid in this state\r\n");
  EXPECT_EQ(send("p EXAMINE INBOX\r\n").substr(0, 0), "");
  EXPECT_EQ(send("q STORE 1 +FLAGS (\\Seen)\r\n"), "q NO [READ-ONLY] Mailbox is read-only\r\n");
  EXPECT_EQ(send("r SELECT Nope\r\n"), "r NO [NONEXISTENT] No such mailbox\r\n");
  EXPECT_EQ(send("s FETCH 1 FLAGS\r\n"), "s BAD Command not valid in this state\r\n");
}

TEST_F(ImapLogin, AppendCopyAndMove) {
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  EXPECT_EQ(send("b APPEND Drafts (\\Draft $Todo) \" 5-Mar-2026 10:00:00 +0100\" {12}\r\n"),
            "+ Ready for literal data\r\n");
  // UIDPLUS (RFC 4315): the new message's UIDVALIDITY and UID.
  const auto drafts_validity =
      std::to_string(store_->mailbox(demo_id(), "Drafts")->uid_validity.value);
  EXPECT_EQ(send("Subject: d\r\n\r\n"),
            "b OK [APPENDUID " + drafts_validity + " 1] APPEND completed\r\n");
  EXPECT_EQ(send("c APPEND Nope {1+}\r\nx\r\n"), "c NO [TRYCREATE] No such mailbox\r\n");
  EXPECT_EQ(send("d APPEND Drafts (\\Recent) {1+}\r\nx\r\n"), "d BAD Invalid flag\r\n");
  EXPECT_EQ(send("e APPEND Drafts \"32-Foo-2026 10:00:00 +0100\" {1+}\r\nx\r\n"),
            "e BAD Invalid date-time\r\n");
  send("f SELECT Drafts\r\n");
  EXPECT_EQ(send("g FETCH 1 (FLAGS INTERNALDATE)\r\n"),
            "* 1 FETCH (FLAGS (\\Draft $Todo) INTERNALDATE \" 5-Mar-2026 09:00:00 +0000\")\r\ng OK "
            "FETCH completed\r\n");
  ASSERT_TRUE(store_->append(demo_id(), "Archive", "Subject: old\r\n\r\n", {}));
  const auto archive = std::to_string(store_->mailbox(demo_id(), "Archive")->uid_validity.value);
  const auto trash = std::to_string(store_->mailbox(demo_id(), "Trash")->uid_validity.value);
  EXPECT_EQ(send("h COPY 1 Archive\r\n"), "h OK [COPYUID " + archive + " 1 2] COPY completed\r\n");
  EXPECT_EQ(send("h2 COPY 5:7 Archive\r\n"), "h2 OK COPY completed\r\n");  // nothing copied
  EXPECT_EQ(send("i COPY 1 Nope\r\n"), "i NO [TRYCREATE] No such mailbox\r\n");
  // RFC 6851 §4.3: MOVE tells COPYUID in an untagged OK before the EXPUNGE.
  EXPECT_EQ(send("j UID MOVE 1 Trash\r\n"), "* OK [COPYUID " + trash +
                                                " 1 1] Moved UIDs.\r\n* 1 EXPUNGE\r\nj OK UID MOVE "
                                                "completed\r\n");
  EXPECT_EQ(send("k STATUS Trash (MESSAGES)\r\nl STATUS Archive (MESSAGES)\r\n"),
            "* STATUS Trash (MESSAGES 1)\r\nk OK STATUS completed\r\n* STATUS Archive (MESSAGES "
            "2)\r\nl OK STATUS "
            "completed\r\n");
}

TEST_F(ImapLogin, UidExpungeRemovesOnlyDeletedMessagesInTheSet) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: x\r\n\r\ny\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\nb SELECT INBOX\r\n");
  EXPECT_EQ(send("c STORE 1:3 +FLAGS.SILENT (\\Deleted)\r\n"), "c OK STORE completed\r\n");
  // UID 1 and 3 are in the set and \Deleted; 2 is \Deleted but outside; 4 is not \Deleted.
  EXPECT_EQ(send("d UID EXPUNGE 1,3:4\r\n"),
            "* 3 EXPUNGE\r\n* 1 EXPUNGE\r\nd OK UID EXPUNGE completed\r\n");
  EXPECT_EQ(send("e UID SEARCH DELETED\r\n"), "* SEARCH 2\r\ne OK UID SEARCH completed\r\n");
  EXPECT_EQ(send("f UID EXPUNGE\r\n"), "f BAD Syntax: UID EXPUNGE uid-set\r\n");
  EXPECT_EQ(send("g UID EXPUNGE 0\r\n"), "g BAD Invalid sequence set\r\n");
  send("h EXAMINE INBOX\r\n");
  EXPECT_EQ(send("i UID EXPUNGE 2\r\n"), "i NO [READ-ONLY] Mailbox is read-only\r\n");
}

TEST(ImapStoreErrors, DiskFullIsNotQuotaAndDamageIsAServerBug) {
  EXPECT_EQ(no_for({store::ErrorKind::over_quota, ""}), "NO [OVERQUOTA] Quota exceeded");
  EXPECT_EQ(no_for({store::ErrorKind::no_space, ""}),
            "NO [UNAVAILABLE] The server is short of disk space, try again later");
  EXPECT_EQ(no_for({store::ErrorKind::corrupt, ""}), "NO [SERVERBUG] The message store is damaged");
  EXPECT_EQ(no_for({store::ErrorKind::temporary, ""}),
            "NO [UNAVAILABLE] Temporary failure, try again later");
}

TEST_F(ImapLogin, IdAndEnable) {
  start(true);
  EXPECT_EQ(send("a ID (\"name\" \"imaplib\" \"version\" NIL)\r\n"),
            "* ID (\"name\" \"Postino\" \"version\" \"" POSTINO_VERSION
            "\")\r\na OK ID completed\r\n");
  EXPECT_EQ(send("b ID NIL\r\n"), "* ID (\"name\" \"Postino\" \"version\" \"" POSTINO_VERSION
                                  "\")\r\nb OK ID completed\r\n");
  EXPECT_EQ(send("c ID (\"name\")\r\n"), "c BAD ID takes NIL or up to 30 field-value pairs\r\n");
  EXPECT_EQ(send("d ENABLE CONDSTORE\r\n"), "d BAD Command not valid in this state\r\n");
  send("e LOGIN demo@example.test secret\r\n");
  // RFC 2971 §3.3 bounds (after login, where a few BADs do not end the session): 30 pairs, field
  // names of 30 octets, values of 1024.
  std::string pairs;
  for (int i = 0; i < 31; ++i) pairs += "\"f" + std::to_string(i) + "\" NIL ";
  EXPECT_EQ(send("c2 ID (" + pairs + ")\r\n"),
            "c2 BAD ID takes NIL or up to 30 field-value pairs\r\n");
  EXPECT_EQ(send("c3 ID (\"" + std::string(31, 'f') + "\" \"v\")\r\n"),
            "c3 BAD ID fields are strings up to 30 octets, values up to 1024 or NIL\r\n");
  EXPECT_EQ(send("c4 ID (\"name\" \"" + std::string(1025, 'v') + "\")\r\n"),
            "c4 BAD ID fields are strings up to 30 octets, values up to 1024 or NIL\r\n");
  EXPECT_EQ(send("c5 ID (\"" + std::string(30, 'f') + "\" \"" + std::string(1024, 'v') + "\")\r\n")
                .substr(0, 5),
            "* ID ");
  EXPECT_EQ(send("f ENABLE X-UNKNOWN\r\n"), "* ENABLED\r\nf OK ENABLE completed\r\n");
  EXPECT_EQ(send("g ENABLE\r\n"), "g BAD Syntax: ENABLE capability ...\r\n");
  send("h SELECT INBOX\r\n");
  EXPECT_EQ(send("i ENABLE CONDSTORE\r\n"), "i BAD Command not valid in this state\r\n");
  EXPECT_EQ(send("j ID NIL\r\n").substr(0, 5), "* ID ");
}

TEST_F(ImapLogin, LargeBodiesAreStreamedFromTheMessageFileExactly) {
  std::string body;
  for (int i = 0; body.size() < 1100 * 1024; ++i) body += "line " + std::to_string(i) + "\r\n";
  const std::string header = "Subject: big\r\n\r\n";
  ASSERT_TRUE(store_->deliver({demo_id()}, header + body));
  ASSERT_TRUE(store_->deliver({demo_id()}, header + body + "second\r\n"));
  start(true);
  send("a LOGIN demo@example.test secret\r\nb SELECT INBOX\r\n");
  const auto whole = header + body;
  EXPECT_EQ(send("c FETCH 1 (UID BODY.PEEK[] FLAGS)\r\n"),
            "* 1 FETCH (UID 1 BODY[] {" + std::to_string(whole.size()) + "}\r\n" + whole +
                " FLAGS ())\r\nc OK FETCH completed\r\n");
  EXPECT_GE(pieces_, 4);  // 1.1 MB went out in pieces (of 256 KB)
  // A partial past the inline size, TEXT of both messages, and \Seen set on the way.
  EXPECT_EQ(send("d FETCH 1 BODY[]<1000.200000>\r\n"),
            "* 1 FETCH (BODY[]<1000> {200000}\r\n" + whole.substr(1000, 200000) +
                " FLAGS (\\Seen))\r\nd OK FETCH completed\r\n");
  const auto second = body + "second\r\n";
  EXPECT_EQ(send("e FETCH 1:2 BODY.PEEK[TEXT]\r\n"),
            "* 1 FETCH (BODY[TEXT] {" + std::to_string(body.size()) + "}\r\n" + body +
                ")\r\n* 2 FETCH (BODY[TEXT] {" + std::to_string(second.size()) + "}\r\n" + second +
                ")\r\ne OK FETCH completed\r\n");
  // The second literal starts in a piece the first one ended: it fills it, never past.
  EXPECT_LE(largest_piece_, 256u * 1024);
  // A command pipelined behind a streamed FETCH is answered after it, in order.
  const auto both = send("p1 FETCH 2 BODY.PEEK[]\r\np2 NOOP\r\n");
  EXPECT_TRUE(both.ends_with(")\r\np1 OK FETCH completed\r\np2 OK NOOP completed\r\n"))
      << both.substr(both.size() - 80);
  // HEADER.FIELDS reads only the header; its partial applies to the chosen fields.
  EXPECT_EQ(send("f FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]<2.5>\r\n"),
            "* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)]<2> {5}\r\nbject)\r\nf OK FETCH "
            "completed\r\n");
}

TEST_F(ImapLogin, AMessageFileShorterThanItsLiteralClosesTheConnection) {
  // Longer than a piece (256 KB), so that the literal's start has gone out when the read
  // comes up short.
  ASSERT_TRUE(store_->deliver({demo_id()}, "Subject: big\r\n\r\n" + std::string(600000, 'x')));
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_ / "blobs")) {
    if (e.is_regular_file()) std::filesystem::resize_file(e.path(), 450000);
  }
  start(true);
  send("a LOGIN demo@example.test secret\r\nb SELECT INBOX\r\n");
  const auto out = send("c FETCH 1 BODY.PEEK[]\r\n");
  EXPECT_TRUE(out.starts_with("* 1 FETCH (BODY[] {600016}\r\n")) << out.substr(0, 40);
  EXPECT_EQ(out.find("c OK"), std::string::npos);  // never a literal cut short and carried on
  EXPECT_EQ(out.find('\0'), std::string::npos);    // nor the failed piece's unread bytes
  EXPECT_EQ(after_, net::After::close);
}

TEST_F(ImapLogin, PlaintextFromLoopbackOnlyWhenAllowed) {
  start(false, true, false);
  EXPECT_EQ(send("a LOGIN demo@example.test secret\r\n"),
            "a NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS\r\n");
  start(false, false, true);
  EXPECT_EQ(send("a LOGIN demo@example.test secret\r\n"),
            "a NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS\r\n");
  start(false, true, true);
  EXPECT_EQ(
      send("a CAPABILITY\r\n"),
      "* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE STARTTLS SASL-IR AUTH=PLAIN AUTH=LOGIN "
      "AUTH=SCRAM-SHA-256\r\na "
      "OK CAPABILITY completed\r\n");
  EXPECT_EQ(send("b LOGIN demo@example.test secret\r\n"),
            "b OK [CAPABILITY " + logged_in_capabilities + "] Logged in\r\n");
}

TEST_F(ImapLogin, NothingBeforeTlsAndTwentyBadCommandsAfterLogin) {
  start(false);
  EXPECT_EQ(send("a AUTHENTICATE PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHNlY3JldA==\r\n"),
            "a NO [PRIVACYREQUIRED] Authentication is disabled before STARTTLS\r\n");
  start(true, false, false, 3);
  send("a LOGIN demo@example.test secret\r\n");
  EXPECT_EQ(send("b X\r\nc X\r\n"), "b BAD Unknown command\r\nc BAD Unknown command\r\n");
  EXPECT_EQ(send("d X\r\n"), "d BAD Unknown command\r\n* BYE Too many invalid commands.\r\n");
}

// FETCH ENVELOPE copies what the store kept at delivery; a message without it (its row
// gone) is answered from the header fields, with the same bytes, one message or many.
TEST_F(ImapLogin, EnvelopeIsTheSameFromTheKeptTextOrFromTheFields) {
  const auto demo = demo_id();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_->deliver(
        {demo},
        "From: \"Ann \\\"A\\\" Lee\" <ann@example.org>\r\nTo: Group: b@x.test;\r\n"
        "Subject: caf\xc3\xa9 " +
            std::to_string(i) + "\r\nMessage-ID: <" + std::to_string(i) + "@x>\r\n\r\nbody\r\n"));
  }
  start(true);
  send("a LOGIN demo@example.test secret\r\n");
  send("b SELECT INBOX\r\n");
  const auto one = send("c FETCH 2 ENVELOPE\r\n");
  const auto all = send("d FETCH 1:* (UID ENVELOPE)\r\n");
  EXPECT_NE(one.find("(NIL {7}\r\ncaf\xc3\xa9 1 ((\"Ann \\\"A\\\" Lee\" NIL \"ann\" "
                     "\"example.org\"))"),
            std::string::npos)
      << one;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "store.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM message_envelopes", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_EQ(send("c FETCH 2 ENVELOPE\r\n"), one);
  EXPECT_EQ(send("d FETCH 1:* (UID ENVELOPE)\r\n"), all);
}

}  // namespace
}  // namespace postino::imap
