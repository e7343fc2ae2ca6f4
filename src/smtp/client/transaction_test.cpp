// Tests for the outbound SMTP transaction: scripted peers, the commands it writes and the
// per-recipient outcome.
#include "smtp/client/transaction.hpp"

#include <gtest/gtest.h>

namespace postino::smtp::client {
namespace {

using Status = Transaction::Status;

Reply reply(const std::string& text) {
  std::string input = text;
  ReplyReader reader;
  auto step = reader.next(input);
  EXPECT_EQ(step.kind, ReplyReader::Step::Kind::reply) << text;
  return step.reply;
}

OutboundMessage message(std::vector<std::string> to) {
  OutboundMessage m;
  m.sender = "alice@example.test";
  for (auto& a : to) m.recipients.push_back({a, "", 0});
  m.size = 1234;
  return m;
}

ClientPolicy policy(bool can_tls, bool require_tls) {
  ClientPolicy p;
  p.helo_name = "mail.example.test";
  p.can_tls = can_tls;
  p.require_tls = require_tls;
  return p;
}

const std::string kEhlo =
    "250-mx.remote.test\r\n250-PIPELINING\r\n250-SIZE 10000\r\n250-8BITMIME\r\n"
    "250-STARTTLS\r\n250 DSN\r\n";

TEST(Transaction, RelayHostLoginOnlyOverTls) {
  ClientPolicy relay = policy(true, false);
  relay.auth_user = "user@example.test";
  relay.auth_password = "secret";
  Transaction t(message({"a@remote.test"}), relay);
  t.receive(reply("220 relay.test ESMTP\r\n"));
  const std::string ehlo = "250-relay.test\r\n250-STARTTLS\r\n250 AUTH LOGIN PLAIN\r\n";
  EXPECT_EQ(t.receive(reply(ehlo)).bytes, "STARTTLS\r\n");
  EXPECT_TRUE(t.receive(reply("220 go\r\n")).start_tls);
  t.tls_started();
  // base64("\0user@example.test\0secret")
  EXPECT_EQ(t.receive(reply("250-relay.test\r\n250 AUTH LOGIN PLAIN\r\n")).bytes,
            "AUTH PLAIN AHVzZXJAZXhhbXBsZS50ZXN0AHNlY3JldA==\r\n");
  EXPECT_EQ(t.receive(reply("235 2.7.0 ok\r\n")).bytes, "MAIL FROM:<alice@example.test>\r\n");

  // LOGIN when that is all; a refusal defers.
  Transaction login(message({"a@remote.test"}), relay);
  login.receive(reply("220 relay.test ESMTP\r\n"));
  login.receive(reply("250-relay.test\r\n250 STARTTLS\r\n"));
  login.receive(reply("220 go\r\n"));
  login.tls_started();
  EXPECT_EQ(login.receive(reply("250-relay.test\r\n250 AUTH LOGIN\r\n")).bytes,
            "AUTH LOGIN dXNlckBleGFtcGxlLnRlc3Q=\r\n");
  EXPECT_EQ(login.receive(reply("334 UGFzc3dvcmQ6\r\n")).bytes, "c2VjcmV0\r\n");
  EXPECT_TRUE(login.receive(reply("535 5.7.8 bad credentials\r\n")).close);
  EXPECT_EQ(login.results()[0].status, Status::temporary);

  // No TLS offered: the password stays home.
  Transaction clear(message({"a@remote.test"}), relay);
  clear.receive(reply("220 relay.test ESMTP\r\n"));
  EXPECT_EQ(clear.receive(reply("250-relay.test\r\n250 AUTH PLAIN\r\n")).bytes, "QUIT\r\n");
  EXPECT_EQ(clear.results()[0].status, Status::temporary);
  EXPECT_NE(clear.results()[0].reply.find("never sent in the clear"), std::string::npos);
}

TEST(Transaction, ChunkingSendsTheMessageInOneBdatOfItsExactSize) {
  Transaction t(message({"a@remote.test", "b@remote.test"}), policy(false, false));
  t.receive(reply("220 mx.remote.test ESMTP\r\n"));
  EXPECT_EQ(t.receive(reply("250-mx.remote.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n")).bytes,
            "MAIL FROM:<alice@example.test>\r\nRCPT TO:<a@remote.test>\r\n"
            "RCPT TO:<b@remote.test>\r\n");
  EXPECT_EQ(t.receive(reply("250 ok\r\n")).bytes, "");        // MAIL
  EXPECT_EQ(t.receive(reply("550 5.1.1 no\r\n")).bytes, "");  // RCPT a
  auto out = t.receive(reply("250 ok\r\n"));                  // RCPT b
  EXPECT_EQ(out.bytes, "BDAT 1234 LAST\r\n");
  EXPECT_TRUE(out.send_body);
  EXPECT_TRUE(out.raw_body);
  out = t.receive(reply("250 2.0.0 got 1234 octets\r\n"));
  EXPECT_TRUE(out.close);
  EXPECT_EQ(t.results()[0].status, Status::permanent);
  EXPECT_EQ(t.results()[1].status, Status::sent);
  // No recipient accepted: no BDAT at all.
  Transaction none(message({"a@remote.test"}), policy(false, false));
  none.receive(reply("220 mx.remote.test ESMTP\r\n"));
  none.receive(reply("250-mx.remote.test\r\n250 CHUNKING\r\n"));
  EXPECT_EQ(none.receive(reply("250 ok\r\n")).bytes, "RCPT TO:<a@remote.test>\r\n");
  EXPECT_EQ(none.receive(reply("550 5.1.1 no\r\n")).bytes, "QUIT\r\n");
}

TEST(Transaction, PipelinedDeliveryWithStartTlsAndPerRecipientResults) {
  Transaction t(message({"a@remote.test", "b@remote.test", "c@remote.test"}), policy(true, false));
  EXPECT_EQ(t.receive(reply("220 mx.remote.test ESMTP\r\n")).bytes, "EHLO mail.example.test\r\n");
  EXPECT_EQ(t.receive(reply(kEhlo)).bytes, "STARTTLS\r\n");
  auto out = t.receive(reply("220 2.0.0 go ahead\r\n"));
  EXPECT_TRUE(out.start_tls);
  EXPECT_EQ(out.bytes, "");
  EXPECT_EQ(t.tls_started().bytes, "EHLO mail.example.test\r\n");
  // After TLS: no STARTTLS any more; MAIL, the RCPTs and DATA in one group.
  EXPECT_EQ(t.receive(reply(kEhlo)).bytes,
            "MAIL FROM:<alice@example.test> SIZE=1234\r\n"
            "RCPT TO:<a@remote.test>\r\nRCPT TO:<b@remote.test>\r\nRCPT TO:<c@remote.test>\r\n"
            "DATA\r\n");
  EXPECT_EQ(t.receive(reply("250 2.1.0 ok\r\n")).bytes, "");
  EXPECT_EQ(t.receive(reply("250 2.1.5 ok\r\n")).bytes, "");
  EXPECT_EQ(t.receive(reply("450 4.2.1 mailbox busy\r\n")).bytes, "");
  EXPECT_EQ(t.receive(reply("550 5.1.1 no such user\r\n")).bytes, "");
  out = t.receive(reply("354 go on\r\n"));
  EXPECT_TRUE(out.send_body);
  out = t.receive(reply("250 2.0.0 queued as X1\r\n"));
  EXPECT_EQ(out.bytes, "QUIT\r\n");
  EXPECT_TRUE(out.close);
  EXPECT_TRUE(t.is_done());
  EXPECT_TRUE(t.is_tls());
  const auto& r = t.results();
  EXPECT_EQ(r[0].status, Status::sent);
  EXPECT_EQ(r[0].reply, "250 2.0.0 queued as X1");
  EXPECT_EQ(r[1].status, Status::temporary);
  EXPECT_EQ(r[1].reply, "450 4.2.1 mailbox busy");
  EXPECT_EQ(r[2].status, Status::permanent);
  EXPECT_FALSE(t.try_next_server());  // this server decided: retry b later, bounce c
}

TEST(Transaction, OneCommandAtATimeWithoutPipeliningAndHeloForOldServers) {
  Transaction t(message({"a@remote.test", "b@remote.test"}), policy(true, false));
  t.receive(reply("220 old.remote.test\r\n"));
  EXPECT_EQ(t.receive(reply("502 what?\r\n")).bytes, "HELO mail.example.test\r\n");
  EXPECT_EQ(t.receive(reply("250 hello\r\n")).bytes, "MAIL FROM:<alice@example.test>\r\n");
  EXPECT_EQ(t.receive(reply("250 ok\r\n")).bytes, "RCPT TO:<a@remote.test>\r\n");
  EXPECT_EQ(t.receive(reply("550 no\r\n")).bytes, "RCPT TO:<b@remote.test>\r\n");
  EXPECT_EQ(t.receive(reply("250 ok\r\n")).bytes, "DATA\r\n");
  EXPECT_TRUE(t.receive(reply("354 go\r\n")).send_body);
  EXPECT_EQ(t.receive(reply("451 local error\r\n")).bytes, "QUIT\r\n");
  EXPECT_EQ(t.results()[0].status, Status::permanent);
  EXPECT_EQ(t.results()[1].status, Status::temporary);
  EXPECT_EQ(t.results()[1].reply, "451 local error");
}

TEST(Transaction, NoRecipientAcceptedMeansNoData) {
  Transaction t(message({"a@remote.test"}), policy(false, false));
  t.receive(reply("220 hi\r\n"));
  EXPECT_EQ(t.receive(reply("250-hi\r\n250 PIPELINING\r\n")).bytes,
            "MAIL FROM:<alice@example.test>\r\nRCPT TO:<a@remote.test>\r\nDATA\r\n");
  t.receive(reply("250 ok\r\n"));
  EXPECT_EQ(t.receive(reply("550 5.1.1 unknown\r\n")).bytes, "");
  auto out = t.receive(reply("554 5.5.1 no valid recipients\r\n"));  // the pipelined DATA
  EXPECT_EQ(out.bytes, "QUIT\r\n");
  EXPECT_FALSE(out.send_body);
  EXPECT_EQ(t.results()[0].status, Status::permanent);
  EXPECT_EQ(t.results()[0].reply, "550 5.1.1 unknown");
}

TEST(Transaction, GreetingOrMailRefusedTemporarilyTriesTheNextServer) {
  for (const auto& [greeting, at_mail] :
       std::vector<std::pair<std::string, std::string>>{{"421 busy\r\n", ""},
                                                        {"554 no service\r\n", ""},
                                                        {"220 hi\r\n", "451 4.3.2 later\r\n"}}) {
    Transaction t(message({"a@remote.test"}), policy(false, false));
    auto out = t.receive(reply(greeting));
    if (!at_mail.empty()) {
      t.receive(reply("250 hi\r\n"));
      out = t.receive(reply(at_mail));
    }
    EXPECT_TRUE(out.close);
    EXPECT_EQ(t.results()[0].status, Status::temporary) << greeting << at_mail;
    EXPECT_TRUE(t.try_next_server()) << greeting << at_mail;
  }
  Transaction refused(message({"a@remote.test"}), policy(false, false));
  refused.receive(reply("220 hi\r\n"));
  refused.receive(reply("250 hi\r\n"));
  refused.receive(reply("553 5.7.1 sender refused\r\n"));
  EXPECT_EQ(refused.results()[0].status, Status::permanent);
  EXPECT_FALSE(refused.try_next_server());
}

TEST(Transaction, WhatThePeerCannotTakeIsBouncedWithTheRightCode) {
  auto outcome = [](OutboundMessage m, const std::string& ehlo) {
    Transaction t(std::move(m), policy(false, false));
    t.receive(reply("220 hi\r\n"));
    auto out = t.receive(reply(ehlo));
    EXPECT_EQ(out.bytes, "QUIT\r\n");
    EXPECT_FALSE(t.try_next_server());
    return t.results()[0];
  };
  auto big = message({"a@remote.test"});
  big.size = 20000;
  auto r = outcome(big, "250-hi\r\n250 SIZE 10000\r\n");
  EXPECT_EQ(r.status, Status::permanent);
  EXPECT_TRUE(r.reply.starts_with("552 5.3.4 ")) << r.reply;
  auto eight = message({"a@remote.test"});
  eight.has_8bit = true;
  EXPECT_TRUE(outcome(eight, "250 hi\r\n").reply.starts_with("554 5.6.3 "));
  auto utf8 = message({"a@remote.test"});
  utf8.needs_smtputf8 = true;
  EXPECT_TRUE(outcome(utf8, "250-hi\r\n250 8BITMIME\r\n").reply.starts_with("553 5.6.7 "));
}

TEST(Transaction, RequiredTlsIsNeverSkipped) {
  Transaction none(message({"a@remote.test"}), policy(true, true));
  none.receive(reply("220 hi\r\n"));
  EXPECT_EQ(none.receive(reply("250 hi\r\n")).bytes, "QUIT\r\n");
  EXPECT_EQ(none.results()[0].status, Status::temporary);
  Transaction refused(message({"a@remote.test"}), policy(true, true));
  refused.receive(reply("220 hi\r\n"));
  EXPECT_EQ(refused.receive(reply("250-hi\r\n250 STARTTLS\r\n")).bytes, "STARTTLS\r\n");
  EXPECT_EQ(refused.receive(reply("454 4.7.0 TLS not available\r\n")).bytes, "QUIT\r\n");
  EXPECT_EQ(refused.results()[0].status, Status::temporary);
  // Not required: a refused STARTTLS goes on in the clear.
  Transaction optional(message({"a@remote.test"}), policy(true, false));
  optional.receive(reply("220 hi\r\n"));
  optional.receive(reply("250-hi\r\n250 STARTTLS\r\n"));
  EXPECT_EQ(optional.receive(reply("454 4.7.0 TLS not available\r\n")).bytes,
            "MAIL FROM:<alice@example.test>\r\n");
}

TEST(Transaction, DsnParametersGoOutAsXtextWhenThePeerTakesThem) {
  auto m = message({"a@remote.test"});
  m.recipients[0] = {"a@remote.test", "rfc822;A+B=c@remote.test", 4 | 8};
  m.envid = "id 1";
  m.ret = 2;
  m.has_8bit = true;
  Transaction t(m, policy(false, false));
  t.receive(reply("220 hi\r\n"));
  EXPECT_EQ(t.receive(reply("250-hi\r\n250-DSN\r\n250-8BITMIME\r\n250 SIZE\r\n")).bytes,
            "MAIL FROM:<alice@example.test> SIZE=1234 BODY=8BITMIME RET=HDRS ENVID=id+201\r\n");
  EXPECT_EQ(t.receive(reply("250 ok\r\n")).bytes,
            "RCPT TO:<a@remote.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;A+2BB+3Dc@remote.test\r\n");
}

TEST(Transaction, ADroppedConnectionLeavesEveryUndecidedRecipientForLater) {
  Transaction t(message({"a@remote.test", "b@remote.test"}), policy(false, false));
  t.receive(reply("220 hi\r\n"));
  t.receive(reply("250-hi\r\n250 PIPELINING\r\n"));
  t.receive(reply("250 ok\r\n"));
  t.receive(reply("550 no\r\n"));
  t.receive(reply("250 ok\r\n"));
  EXPECT_TRUE(t.receive(reply("354 go\r\n")).send_body);
  t.connection_failed("connection lost during DATA");
  EXPECT_TRUE(t.is_done());
  EXPECT_EQ(t.results()[0].status, Status::permanent);
  EXPECT_EQ(t.results()[1].status, Status::temporary);  // sent again later: never lost
  EXPECT_EQ(t.results()[1].reply, "connection lost during DATA");
}

}  // namespace
}  // namespace postino::smtp::client
