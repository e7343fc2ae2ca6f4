// Tests for the SMTP session, scripted as bytes in and bytes out against a real store;
// the work the session hands out runs inline, as the worker pool would run it.
#include "smtp/session.hpp"

#include <gtest/gtest.h>

#include <vector>

#include <filesystem>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "auth/password.hpp"
#include "base/base64.hpp"
#include "store/page_cache_test_support.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace postino::smtp {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Smtp : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("postino-smtp-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store::SqliteOptions o;
    o.data_dir = dir_;
    store_ = std::move(*store::open_sqlite_store(o));
    ASSERT_TRUE(store_->create_domain("example.test"));
    ASSERT_TRUE(store_->create_account("demo@example.test", auth::hash_password("secret"), ""));
    ASSERT_TRUE(store_->create_account("bob@example.test", auth::hash_password("bobpw"), ""));
    ASSERT_TRUE(
        store_->create_alias({"team@example.test", {"demo@example.test", "bob@example.test"}}));
    authenticator_ = std::make_unique<auth::Authenticator>(*store_, throttle_, "secret");
  }
  void TearDown() override {
    session_.reset();
    authenticator_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  SessionSettings settings(bool submission = false) {
    SessionSettings s;
    s.hostname = "mx.test";
    s.max_errors = 20;
    s.is_submission = submission;
    s.max_message_bytes = 10000;
    s.max_recipients = 5;
    s.is_dev = true;
    s.store = store_.get();
    s.authenticator = authenticator_.get();
    return s;
  }
  void start(bool submission = false, bool tls = false) { start_with(settings(submission), tls); }
  // A session with settings of the test's own (limits lowered, say).
  void start_with(SessionSettings s, bool tls = false) {
    net::ClientInfo c;
    c.session_id = "STEST";
    c.address = "192.0.2.9";
    c.is_tls = tls;
    session_ = std::make_unique<Session>(std::move(s), c);
    if (tls) session_->tls_started({"TLSv1.3", "TLS_AES_128_GCM_SHA256"});
    input_.clear();
    last_after_ = net::After::read;
    session_->greet();
  }
  // Sends bytes, runs any work inline, returns everything the server wrote.
  std::string send(std::string_view bytes) {
    input_ += bytes;
    auto out = session_->receive(input_);
    std::string written = out.bytes;
    while (out.after == net::After::work) {
      out.work();
      out = session_->resume(input_);
      written += out.bytes;
    }
    last_after_ = out.after;
    return written;
  }
  std::size_t inbox_count(const std::string& who) {
    auto account = store_->find_account(who);
    return static_cast<std::size_t>(store_->mailbox(account->id, "INBOX")->messages);
  }
  std::string inbox_message(const std::string& who, std::uint32_t uid) {
    auto account = store_->find_account(who);
    auto inbox = store_->mailbox(account->id, "INBOX");
    return *store_->read_message(account->id, inbox->id, store::Uid(uid));
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  auth::FailureThrottle throttle_{{10ms, 20ms, 600s, 1000}};
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<Session> session_;
  std::string input_;
  net::After last_after_ = net::After::read;
};

TEST_F(Smtp, EhloAdvertisesTheExtensions) {
  start();
  EXPECT_EQ(send("EHLO client.test\r\n"),
            "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10000\r\n250-ENHANCEDSTATUSCODES\r\n"
            "250-8BITMIME\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250-DSN\r\n250 STARTTLS\r\n");
  start(true, true);
  const auto submission = send("EHLO client.test\r\n");
  EXPECT_NE(submission.find("250 AUTH PLAIN LOGIN SCRAM-SHA-256\r\n"), std::string::npos);
  EXPECT_EQ(submission.find("STARTTLS"), std::string::npos);
}

TEST_F(Smtp, InboundDeliveryWithTraceHeadersByteForByte) {
  start();
  const std::string body = "From: a@remote.test\r\nSubject: hi\r\n\r\n..dot line\r\nbye\r\n";
  EXPECT_EQ(send("EHLO client.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT "
                 "TO:<Demo@example.test>\r\nDATA\r\n"),
            "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10000\r\n250-ENHANCEDSTATUSCODES\r\n"
            "250-8BITMIME\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n250-DSN\r\n250 STARTTLS\r\n"
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(send(body + ".\r\n"), "250 2.0.0 Ok: queued as STEST.1\r\n");
  const auto stored = inbox_message("demo@example.test", 1);
  EXPECT_TRUE(stored.starts_with(
      "Return-Path: <a@remote.test>\r\nReceived: from client.test ([192.0.2.9])\r\n"
      "\tby mx.test (Postino) with ESMTP\r\n\tid STEST.1\r\n\tfor <Demo@example.test>; "))
      << stored;
  EXPECT_TRUE(stored.ends_with(
      "\r\n" + std::string("From: a@remote.test\r\nSubject: hi\r\n\r\n.dot line\r\nbye\r\n")));
}

TEST_F(Smtp, TheDeliveredCopyCarriesOnlyOurReturnPath) {
  // RFC 5321 §4.4: the final delivery adds Return-Path and may drop those the message came
  // with (Postfix drops them: message_drop_headers); a forged one is never shown.
  start();
  send("EHLO client.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n");
  EXPECT_EQ(send("Return-Path: <ceo@example.test>\r\nSubject: hi\r\nreturn-path:\r\n <x@y>\r\n"
                 "\r\nReturn-Path: in the body stays\r\n.\r\n"),
            "250 2.0.0 Ok: queued as STEST.1\r\n");
  const auto stored = inbox_message("demo@example.test", 1);
  EXPECT_TRUE(stored.starts_with("Return-Path: <a@remote.test>\r\nReceived: ")) << stored;
  EXPECT_TRUE(stored.ends_with("\r\nSubject: hi\r\n\r\nReturn-Path: in the body stays\r\n"))
      << stored;
  EXPECT_EQ(stored.find("ceo@"), std::string::npos) << stored;
  EXPECT_EQ(stored.find("<x@y>"), std::string::npos) << stored;
}

TEST_F(Smtp, AliasDeliversOneMessageToEveryTargetAndUnknownUsersAreRefusedAtRcpt) {
  start();
  EXPECT_EQ(send("HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@example.test>\r\n"),
            "250 mx.test\r\n250 2.1.0 Ok\r\n550 5.1.1 <nobody@example.test>: Recipient address "
            "rejected: User unknown in local recipient table\r\n");
  EXPECT_EQ(send("DATA\r\n"), "554 5.5.1 Error: no valid recipients\r\n");
  EXPECT_EQ(send("RCPT TO:<team@example.test>\r\nRCPT TO:<bob+tag@example.test>\r\n"),
            "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n");
  EXPECT_EQ(send("DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(send("Subject: team\r\n\r\nx\r\n.\r\n"), "250 2.0.0 Ok: queued as STEST.1\r\n");
  EXPECT_EQ(inbox_count("demo@example.test"), 1u);
  EXPECT_EQ(inbox_count("bob@example.test"), 1u);  // once, although named twice
}

// RCPT is answered on the session's loop when the store answers from memory (no trip to a
// worker and back), and on a worker when what it reads is not in memory.
TEST_F(Smtp, RecipientsAreCheckedOnTheLoopWhenTheStoreAnswersFromMemory) {
  start();
  EXPECT_EQ(send("HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<demo@example.test>\r\n"),
            "250 mx.test\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
  input_ += "RCPT TO:<team@example.test>\r\n";
  auto out = session_->receive(input_);
  EXPECT_EQ(out.after, net::After::read);
  EXPECT_FALSE(out.work);
  EXPECT_EQ(out.bytes, "250 2.1.5 Ok\r\n");
  input_ += "RCPT TO:<nobody@example.test>\r\n";
  out = session_->receive(input_);
  EXPECT_EQ(out.after, net::After::read);
  EXPECT_EQ(out.bytes,
            "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in "
            "local recipient table\r\n");

  // A commit makes the store's readers read their pages again, and those are not in
  // memory any more: the answer comes from a worker, and nothing was added before.
  ASSERT_TRUE(store_->create_account("carol@example.test", auth::hash_password("pw"), ""));
  if (!store::test_support::evict_store_from_page_cache(dir_)) {
    GTEST_SKIP() << "this file system keeps the pages of its files";
  }
  input_ += "RCPT TO:<carol@example.test>\r\n";
  out = session_->receive(input_);
  ASSERT_EQ(out.after, net::After::work);
  EXPECT_EQ(out.bytes, "");
  out.work();
  EXPECT_EQ(session_->resume(input_).bytes, "250 2.1.5 Ok\r\n");
  EXPECT_EQ(send("DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(send("Subject: three\r\n\r\nx\r\n.\r\n"), "250 2.0.0 Ok: queued as STEST.1\r\n");
  EXPECT_EQ(inbox_count("demo@example.test"), 1u);
  EXPECT_EQ(inbox_count("bob@example.test"), 1u);
  EXPECT_EQ(inbox_count("carol@example.test"), 1u);
}

// A recipient refused on the loop counts toward max_errors as one refused on a worker:
// the third unknown user ends the session.
TEST_F(Smtp, UnknownRecipientsAnsweredOnTheLoopCountAsErrors) {
  auto s = settings();
  s.max_errors = 3;
  start_with(s);
  send("HELO c\r\nMAIL FROM:<>\r\n");
  const std::string unknown =
      "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in local "
      "recipient table\r\n";
  input_ += "RCPT TO:<nobody@example.test>\r\nRCPT TO:<nobody@example.test>\r\n";
  auto out = session_->receive(input_);
  EXPECT_FALSE(out.work);
  EXPECT_EQ(out.bytes, unknown + unknown);
  EXPECT_EQ(out.after, net::After::read);
  input_ += "RCPT TO:<nobody@example.test>\r\nRCPT TO:<demo@example.test>\r\n";
  out = session_->receive(input_);
  EXPECT_EQ(out.bytes, unknown + "421 4.7.0 mx.test Error: too many errors\r\n");
  EXPECT_EQ(out.after, net::After::close);
}

TEST_F(Smtp, Port25NeverRelays) {
  start();
  send("EHLO c\r\nMAIL FROM:<a@b.test>\r\n");
  for (auto rcpt :
       {"<v@external.example>", "<v@[203.0.113.5]>", "<@example.test:v@external.example>"}) {
    EXPECT_EQ(send(std::string("RCPT TO:") + rcpt + "\r\n").substr(0, 9), "554 5.7.1") << rcpt;
  }
  for (auto rcpt :
       {"<\"v@external.example\">", "<v@external.example@example.test>", "<external.example!v>"}) {
    EXPECT_EQ(send(std::string("RCPT TO:") + rcpt + "\r\n").substr(0, 7), "501 5.1") << rcpt;
  }
  EXPECT_EQ(send("RCPT TO:<v%external.example@example.test>\r\n").substr(0, 9), "550 5.1.1");
  EXPECT_TRUE(store_->list_queue()->empty());
}

TEST_F(Smtp, StateErrorsHaveFixedTexts) {
  start();
  EXPECT_EQ(send("MAIL FROM:<a@b>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
  send("EHLO c\r\n");
  EXPECT_EQ(send("RCPT TO:<demo@example.test>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
  EXPECT_EQ(send("DATA\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
  EXPECT_EQ(send("MAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n"),
            "250 2.1.0 Ok\r\n503 5.5.1 Error: nested MAIL command\r\n");
  // EHLO mid-transaction resets it (RELIABILITY S11).
  send("EHLO c\r\n");
  EXPECT_EQ(send("RCPT TO:<demo@example.test>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
}

TEST_F(Smtp, RecipientLimitAnswers452) {
  start();
  send("EHLO c\r\nMAIL FROM:<a@b>\r\n");
  std::string replies;
  for (int i = 0; i < 7; ++i)
    replies += send("RCPT TO:<demo+" + std::to_string(i) + "@example.test>\r\n");
  EXPECT_EQ(replies,
            "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
            "452 4.5.3 Error: too many recipients\r\n452 4.5.3 Error: too many recipients\r\n");
}

TEST_F(Smtp, RecipientsPastTheLimitCountAsErrorsOnlyPastTheOvershoot) {
  // RELIABILITY L01, Postfix smtpd_recipient_overshoot_limit: a list a little longer than
  // max_recipients gets 452 for the rest and its message through; a flood is cut off.
  auto s = settings();
  s.max_errors = 3;
  s.recipient_overshoot_limit = 4;
  start_with(s);
  send("EHLO c\r\nMAIL FROM:<a@b>\r\n");
  std::string replies;
  for (int i = 0; i < 9; ++i)
    replies += send("RCPT TO:<demo+" + std::to_string(i) + "@example.test>\r\n");
  const std::string ok = "250 2.1.5 Ok\r\n", full = "452 4.5.3 Error: too many recipients\r\n";
  EXPECT_EQ(replies, ok + ok + ok + ok + ok + full + full + full + full);  // no error yet
  send("DATA\r\n");
  EXPECT_EQ(send("Subject: x\r\n\r\nx\r\n.\r\n").substr(0, 26), "250 2.0.0 Ok: queued as ST");
  send("MAIL FROM:<a@b>\r\n");
  replies.clear();
  for (int i = 0; i < 12; ++i)
    replies += send("RCPT TO:<demo+" + std::to_string(i) + "@example.test>\r\n");
  // Five accepted, four over the limit, then three errors: 421.
  EXPECT_EQ(replies, ok + ok + ok + ok + ok + full + full + full + full + full + full + full +
                         "421 4.7.0 mx.test Error: too many errors\r\n");
  EXPECT_EQ(last_after_, net::After::close);
}

TEST_F(Smtp, JunkCommandsPastTheLimitCountAsErrorsUntilMailIsDelivered) {
  // RELIABILITY L05, Postfix smtpd_junk_command_limit: NOOP, RSET and VRFY are answered as
  // ever, but past the limit each counts toward max_errors; a delivered message starts the
  // count again.
  auto s = settings();
  s.max_junk_commands = 3;
  s.max_errors = 3;
  start_with(s);
  send("EHLO c\r\n");
  const std::string ok = "250 2.0.0 Ok\r\n";
  EXPECT_EQ(
      send("NOOP\r\nRSET\r\nVRFY x\r\n"),
      ok + ok + "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n");
  EXPECT_EQ(send("NOOP\r\n"), ok);  // the first error
  send("MAIL FROM:<a@b>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n");
  EXPECT_EQ(send("Subject: x\r\n\r\nx\r\n.\r\n").substr(0, 26), "250 2.0.0 Ok: queued as ST");
  EXPECT_EQ(send("NOOP\r\nNOOP\r\nNOOP\r\n"), ok + ok + ok);  // counted from 0 again
  EXPECT_EQ(send("NOOP\r\n"), ok);                            // the second error
  EXPECT_EQ(last_after_, net::After::read);
  EXPECT_EQ(send("NOOP\r\n"), ok + "421 4.7.0 mx.test Error: too many errors\r\n");
  EXPECT_EQ(last_after_, net::After::close);
}

TEST_F(Smtp, SizeLimitAtMailAndAfterTheDotKeepsTheSessionUsable) {
  start();
  send("EHLO c\r\n");
  EXPECT_EQ(send("MAIL FROM:<a@b> SIZE=999999999999\r\n"),
            "552 5.3.4 Message size exceeds fixed limit\r\n");
  send("MAIL FROM:<a@b>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n");
  EXPECT_EQ(send(std::string(20000, 'x') + "\r\n.\r\n"),
            "552 5.3.4 Error: message file too big\r\n");
  EXPECT_EQ(inbox_count("demo@example.test"), 0u);
  EXPECT_EQ(send("MAIL FROM:<a@b>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(send("small\r\n.\r\n"), "250 2.0.0 Ok: queued as STEST.1\r\n");
}

TEST_F(Smtp, TooLittleDiskSpaceAnswers452BeforeTheTransfer) {
  auto s = settings();
  s.max_message_bytes = std::uint64_t{1} << 50;  // 1.5 × this is more than any test disk
  net::ClientInfo c;
  c.session_id = "SDISK";
  session_ = std::make_unique<Session>(s, c);
  EXPECT_TRUE(send("EHLO c\r\nMAIL FROM:<a@b>\r\n")
                  .ends_with("250 STARTTLS\r\n452 4.3.1 Insufficient system storage\r\n"));
}

TEST_F(Smtp, SmugglingVariantsDeliverExactlyOneMessage) {
  for (const std::string& fake :
       std::vector<std::string>{"\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r", "\r.\n", "\n.\r",
                                std::string("\r\n\0.\r\n", 6), "\r\n.\r\r\n"}) {
    start();
    send("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n");
    const auto replies = send("x" + fake +
                              "MAIL FROM:<s@x>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
                              "Subject: smuggled\r\n\r\ny\r\n.\r\n");
    EXPECT_EQ(replies.find("250 2.1.5"), std::string::npos) << testing::PrintToString(fake);
    EXPECT_EQ(inbox_count("demo@example.test"), 0u);
  }
  EXPECT_EQ(inbox_count("bob@example.test"), 8u);
}

TEST_F(Smtp, UnauthenticatedPipeliningPastDataIsRefusedOnPort25) {
  start();
  const auto r = send(
      "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\nbody\r\n.\r\nQUIT\r\n");
  EXPECT_TRUE(r.ends_with("554 5.5.0 Error: SMTP protocol synchronization\r\n"));
  EXPECT_EQ(last_after_, net::After::close);
  EXPECT_EQ(inbox_count("demo@example.test"), 0u);
}

TEST_F(Smtp, LoopGuardRefusesTooManyHops) {
  start();
  std::string msg;
  for (int i = 0; i < 50; ++i) msg += "Received: from x by y; date\r\n";
  send("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n");
  EXPECT_EQ(send(msg + "\r\nbody\r\n.\r\n"), "250 2.0.0 Ok: queued as STEST.1\r\n");  // 50: fine
  send("MAIL FROM:<a@b>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n");
  EXPECT_EQ(send("Received: one more\r\n" + msg + "\r\nbody\r\n.\r\n"),
            "554 5.4.6 Error: too many hops\r\n");
}

TEST_F(Smtp, MessageSizeLimitAtItsBoundary) {
  start();
  // The limit counts the text as received (without the dot-stuffing): 10000 bytes pass.
  const std::string exact = std::string(9998, 'a') + "\r\n";
  send("EHLO c\r\nMAIL FROM:<a@b> SIZE=10000\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n");
  EXPECT_EQ(send(exact + ".\r\n"), "250 2.0.0 Ok: queued as STEST.1\r\n");
  EXPECT_EQ(send("MAIL FROM:<a@b> SIZE=10001\r\n"),
            "552 5.3.4 Message size exceeds fixed limit\r\n");
  send("MAIL FROM:<a@b>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n");
  EXPECT_EQ(send("b" + exact + ".\r\n"), "552 5.3.4 Error: message file too big\r\n");
}

TEST_F(Smtp, BdatChunksAndEdgeCases) {
  start();
  send("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<demo@example.test>\r\n");
  EXPECT_EQ(send("BDAT 12\r\nSubject: a\r\n"), "250 2.0.0 12 octets received\r\n");
  EXPECT_EQ(send("BDAT 6 LAST\r\n\r\nbody"), "250 2.0.0 Ok: queued as STEST.1\r\n");
  EXPECT_TRUE(inbox_message("demo@example.test", 1).ends_with("Subject: a\r\n\r\nbody"));
  // Over the size limit: 552, the chunk is consumed, a clean transaction follows (S12).
  send("MAIL FROM:<a@b>\r\nRCPT TO:<demo@example.test>\r\n");
  EXPECT_EQ(send("BDAT 20000\r\n" + std::string(20000, 'z')),
            "552 5.3.4 Error: message file too big\r\n");
  EXPECT_EQ(send("BDAT 3 LAST\r\nabc"), "503 5.5.1 Error: need MAIL command\r\n");
  EXPECT_EQ(send("BDAT -1\r\n"), "501 5.5.4 Syntax: BDAT size [LAST]\r\n");
  EXPECT_EQ(send("BDAT 99999999999999999999\r\n"), "501 5.5.4 Syntax: BDAT size [LAST]\r\n");
  EXPECT_EQ(send("BDAT 1 LATER\r\n"), "501 5.5.4 Syntax: BDAT size [LAST]\r\n");
  EXPECT_EQ(send("MAIL FROM:<a@b>\r\nRCPT TO:<demo@example.test>\r\nBDAT 0 LAST\r\n"),
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued as STEST.2\r\n");
}

TEST_F(Smtp, SubmissionNeedsTlsThenAuthAndOwnsItsSender) {
  start(true, false);
  send("EHLO c\r\n");
  EXPECT_EQ(send("AUTH PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHNlY3JldA==\r\n"),
            "530 5.7.0 Must issue a STARTTLS command first\r\n");
  EXPECT_EQ(send("MAIL FROM:<demo@example.test>\r\n"),
            "530 5.7.0 Must issue a STARTTLS command first\r\n");
  start(true, true);
  send("EHLO c\r\n");
  EXPECT_EQ(send("MAIL FROM:<demo@example.test>\r\n"), "530 5.7.0 Authentication required\r\n");
  EXPECT_EQ(send("AUTH PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHNlY3JldA==\r\n"),
            "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(send("AUTH PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHNlY3JldA==\r\n"),
            "503 5.5.1 Error: already authenticated\r\n");
  EXPECT_EQ(send("MAIL FROM:<ceo@example.test>\r\n"),
            "553 5.7.1 <ceo@example.test>: Sender address rejected: not owned by user\r\n");
  EXPECT_EQ(send("MAIL FROM:<team@example.test>\r\n"),
            "250 2.1.0 Ok\r\n");  // an alias that reaches demo
  EXPECT_EQ(send("RSET\r\nMAIL FROM:<Demo+x@example.test>\r\n"),
            "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n");
  // Remote recipients are queued; local ones delivered; Bcc removed.
  EXPECT_EQ(
      send("RCPT TO:<far@remote.test> NOTIFY=FAILURE\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"),
      "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(send("To: far@remote.test\r\nBcc: hidden@remote.test\r\n\r\nhello\r\n.\r\n"),
            "250 2.0.0 Ok: queued as STEST.1\r\n");
  const auto local = inbox_message("bob@example.test", 1);
  EXPECT_EQ(local.find("hidden@remote.test"), std::string::npos);
  EXPECT_NE(local.find("with ESMTPSA (TLSv1.3 with cipher TLS_AES_128_GCM_SHA256)"),
            std::string::npos);
  auto queue = store_->list_queue();
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ((*queue)[0].queue_id, "STEST.1");
  EXPECT_EQ((*queue)[0].sender, "Demo+x@example.test");
  EXPECT_EQ((*queue)[0].recipients[0].address, "far@remote.test");
  EXPECT_EQ((*queue)[0].recipients[0].notify, 4u);
}

TEST_F(Smtp, AuthLoginAndFailuresEndTheSession) {
  start(true, true);
  send("EHLO c\r\n");
  EXPECT_EQ(send("AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(send("Ym9iQGV4YW1wbGUudGVzdA==\r\n"), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(send("Ym9icHc=\r\n"), "235 2.7.0 Authentication successful\r\n");
  start(true, true);
  send("EHLO c\r\n");
  EXPECT_EQ(send("AUTH PLAIN\r\n"), "334 \r\n");
  EXPECT_EQ(send("*\r\n"), "501 5.7.0 Authentication aborted\r\n");
  EXPECT_EQ(send("AUTH PLAIN ====\r\n"), "501 5.5.2 Cannot decode response\r\n");
  EXPECT_EQ(send("AUTH CRAM-MD5\r\n"), "504 5.5.4 Unrecognized authentication type\r\n");
  // authzid different from authcid, and NUL-truncation tricks, fail (RELIABILITY A04).
  EXPECT_EQ(send("AUTH PLAIN YWRtaW4AZGVtb0BleGFtcGxlLnRlc3QAc2VjcmV0\r\n").substr(0, 9),
            "535 5.7.8");
  EXPECT_TRUE(send("AUTH LOGIN ZGVtb0BleGFtcGxlLnRlc3Q=\r\nc2VjcmV0AGdhcmJhZ2U=\r\n")
                  .starts_with("334 UGFzc3dvcmQ6\r\n535 5.7.8 Error: auth"));
  const auto third = send("AUTH PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHdyb25n\r\n");
  EXPECT_TRUE(third.ends_with("421 4.7.0 mx.test Error: too many failed logins\r\n")) << third;
  EXPECT_EQ(last_after_, net::After::close);
}

// A SCRAM-SHA-256 client (RFC 5802 §3), enough to drive the server.
std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string scram_client_final(const std::string& password, const std::string& client_first_bare,
                               const std::string& server_first) {
  // server_first: r=NONCE,s=SALT,i=ITER
  const auto nonce = server_first.substr(2, server_first.find(",s=") - 2);
  const auto salt_b64 = server_first.substr(
      server_first.find(",s=") + 3, server_first.find(",i=") - server_first.find(",s=") - 3);
  const int iterations = std::stoi(server_first.substr(server_first.find(",i=") + 3));
  const auto salt = *base::base64_decode(salt_b64);
  unsigned char salted[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), 32, salted);
  const std::string salted_s(reinterpret_cast<char*>(salted), 32);
  const auto client_key = hmac(salted_s, "Client Key");
  unsigned char stored[32];
  SHA256(reinterpret_cast<const unsigned char*>(client_key.data()), client_key.size(), stored);
  const std::string without_proof = "c=biws,r=" + nonce;
  const auto auth_message = client_first_bare + "," + server_first + "," + without_proof;
  const auto signature = hmac(std::string(reinterpret_cast<char*>(stored), 32), auth_message);
  std::string proof(32, '\0');
  for (int i = 0; i < 32; ++i) proof[i] = static_cast<char>(client_key[i] ^ signature[i]);
  return without_proof + ",p=" + base::base64_encode(proof);
}

TEST_F(Smtp, AuthScramSha256FullExchange) {
  ASSERT_TRUE(store_->set_password("bob@example.test", auth::hash_password("bobpw"),
                                   auth::ScramCredentials::derive("bobpw").str()));
  for (const std::string password : {"bobpw", "wrong"}) {
    start(true, true);
    send("EHLO c\r\n");
    const std::string first_bare = "n=bob@example.test,r=fyko+d2lbbFgONRv9qkxdawL";
    const auto challenge =
        send("AUTH SCRAM-SHA-256 " + base::base64_encode("n,," + first_bare) + "\r\n");
    ASSERT_TRUE(challenge.starts_with("334 ")) << challenge;
    const auto server_first = *base::base64_decode(challenge.substr(4, challenge.size() - 6));
    const auto final_reply =
        send(base::base64_encode(scram_client_final(password, first_bare, server_first)) + "\r\n");
    if (password == "bobpw") {
      ASSERT_TRUE(final_reply.starts_with("334 ")) << final_reply;
      EXPECT_TRUE(
          base::base64_decode(final_reply.substr(4, final_reply.size() - 6))->starts_with("v="));
      EXPECT_EQ(send("\r\n"), "235 2.7.0 Authentication successful\r\n");
      EXPECT_TRUE(session_->account());
    } else {
      EXPECT_TRUE(final_reply.starts_with("535 5.7.8")) << final_reply;
      EXPECT_FALSE(session_->account());
    }
  }
}

TEST_F(Smtp, SendingLimitPerAuthenticatedUser) {
  SendingLimiter limiter(2);
  start(true, true);
  // Rebuild the session with the limiter.
  auto s = settings(true);
  s.sending_limiter = &limiter;
  net::ClientInfo c;
  c.session_id = "SLIM";
  c.is_tls = true;
  session_ = std::make_unique<Session>(s, c);
  session_->tls_started({"TLSv1.3", "X"});
  send("EHLO c\r\nAUTH PLAIN AGRlbW9AZXhhbXBsZS50ZXN0AHNlY3JldA==\r\n");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(
        send("MAIL FROM:<demo@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nx\r\n.\r\n")
            .substr(0, 12),
        "250 2.1.0 Ok");
  }
  EXPECT_EQ(send("MAIL FROM:<demo@example.test>\r\n"),
            "451 4.7.1 Error: sending limit exceeded, try again later\r\n");
}

TEST_F(Smtp, DataBudgetGrowsWithTheBytesReceived) {
  start();
  send("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<demo@example.test>\r\n");
  EXPECT_FALSE(session_->is_mid_command());
  send("DATA\r\n");
  EXPECT_TRUE(session_->is_mid_command());
  EXPECT_EQ(session_->command_budget(), std::chrono::seconds(300));
  send(std::string(1000, 'x'));
  EXPECT_EQ(session_->command_budget(), std::chrono::seconds(302));  // 500 bytes a second
  send("\r\n.\r\n");
  EXPECT_FALSE(session_->is_mid_command());
}

TEST(SendingLimiter, CountsASlidingHour) {
  SendingLimiter limiter(2);
  const auto t0 = SendingLimiter::Clock::now();
  EXPECT_TRUE(limiter.may_send("a", t0));
  limiter.record("a", t0);
  limiter.record("a", t0 + std::chrono::minutes(30));
  EXPECT_FALSE(limiter.may_send("a", t0 + std::chrono::minutes(59)));
  EXPECT_TRUE(limiter.may_send("b", t0));
  EXPECT_TRUE(limiter.may_send("a", t0 + std::chrono::minutes(61)));
  SendingLimiter off(0);
  off.record("a", t0);
  EXPECT_TRUE(off.may_send("a", t0));
}

TEST_F(Smtp, DevModeMagicRecipients) {
  start();
  send("EHLO c\r\nMAIL FROM:<a@b>\r\n");
  EXPECT_EQ(send("RCPT TO:<tempfail@example.test>\r\n"),
            "451 4.3.0 <tempfail@example.test>: Temporary failure (dev mode)\r\n");
  EXPECT_EQ(send("RCPT TO:<permfail@example.test>\r\n"),
            "550 5.1.1 <permfail@example.test>: Permanent failure (dev mode)\r\n");
  EXPECT_EQ(send("RCPT TO:<timeout@example.test>\r\n"), "");
}

TEST_F(Smtp, StartTlsDiscardsPipelinedInputAndResetsEverything) {
  start();
  const auto r = send("EHLO x\r\nMAIL FROM:<a@b>\r\nSTARTTLS\r\nXINJECT\r\n");
  EXPECT_TRUE(r.ends_with("220 2.0.0 Ready to start TLS\r\n"));
  EXPECT_TRUE(input_.empty());
  session_->tls_started({"TLSv1.3", "X"});
  EXPECT_TRUE(std::holds_alternative<Session::Greeted>(session_->state()));
  EXPECT_FALSE(session_->transaction());
  EXPECT_EQ(send("MAIL FROM:<a@b>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
}

TEST_F(Smtp, MiscCommands) {
  start();
  EXPECT_EQ(send("VRFY demo\r\n"),
            "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n");
  EXPECT_EQ(send("EXPN team\r\n"), "502 5.5.1 Error: command not implemented\r\n");
  EXPECT_EQ(send("HELP\r\n").substr(0, 9), "214 2.0.0");
  EXPECT_EQ(send("AUTH PLAIN x\r\n"), "502 5.5.1 Error: authentication not enabled\r\n");
  EXPECT_EQ(send("GET / HTTP/1.1\r\n"), "221 2.7.0 Error: I can break rules, too. Goodbye.\r\n");
  EXPECT_EQ(last_after_, net::After::close);
}

TEST_F(Smtp, SameRepliesAtEverySplitPoint) {
  const std::string script =
      "EHLO a.test\r\nMAIL FROM:<x@y>\r\nRCPT TO:<demo@example.test>\r\nNOOP\r\nQUIT\r\n";
  start();
  const auto expected = send(script);
  for (std::size_t chunk = 1; chunk < script.size(); chunk += 3) {
    start();
    std::string got;
    for (std::size_t pos = 0; pos < script.size(); pos += chunk)
      got += send(script.substr(pos, chunk));
    EXPECT_EQ(got, expected) << chunk;
  }
}

}  // namespace
}  // namespace postino::smtp
