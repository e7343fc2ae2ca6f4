// Tests for delivery status notifications (RFC 3464).
#include "smtp/dsn.hpp"

#include <gtest/gtest.h>

namespace postino::smtp {
namespace {

using Action = DsnRecipient::Action;

DsnInput input() {
  DsnInput in;
  in.reporting_mta = "mail.example.test";
  in.sender = "alice@example.test";
  in.queue_id = "Q1";
  in.arrival = std::chrono::system_clock::from_time_t(1796000000);
  in.now = in.arrival + std::chrono::hours(1);
  in.retry_until = in.arrival + std::chrono::hours(120);
  in.original = "Subject: hello\r\nFrom: alice@example.test\r\n\r\nthe body\r\n";
  in.boundary = "=_b1";
  in.message_id = "<dsn1@mail.example.test>";
  return in;
}

TEST(Dsn, StatusComesFromTheEnhancedCodeOrTheReplyClass) {
  EXPECT_EQ(dsn_status({"a@x", "", Action::failed, "550 5.1.1 no such user", "mx"}), "5.1.1");
  EXPECT_EQ(dsn_status({"a@x", "", Action::failed, "550 no such user", "mx"}), "5.0.0");
  EXPECT_EQ(dsn_status({"a@x", "", Action::failed, "450 4.2.1 busy", "mx"}), "4.2.1");
  EXPECT_EQ(dsn_status({"a@x", "", Action::failed, "550 4.1.1 mismatched", "mx"}), "5.0.0");
  EXPECT_EQ(dsn_status({"a@x", "", Action::failed, "550 5.1.", "mx"}), "5.0.0");
  EXPECT_EQ(dsn_status({"a@x", "", Action::delayed, "connection refused", ""}), "4.0.0");
  EXPECT_EQ(dsn_status({"a@x", "", Action::failed, "message expired", ""}), "5.0.0");
}

TEST(Dsn, AFailureReportCarriesEachRecipientAndTheWholeOriginal) {
  auto in = input();
  in.envid = "env-1";
  in.recipients = {{"bob@remote.test", "rfc822;Bob@remote.test", Action::failed,
                    "550 5.1.1 <bob@remote.test>: no such user \xc3\xa9", "mx.remote.test"},
                   {"carol@remote.test", "", Action::delayed, "connection timed out", ""}};
  const auto dsn = compose_dsn(in);
  EXPECT_TRUE(
      dsn.starts_with("From: Mail Delivery System <MAILER-DAEMON@mail.example.test>\r\n"
                      "To: <alice@example.test>\r\n"
                      "Subject: Undelivered Mail Returned to Sender\r\n"))
      << dsn;
  EXPECT_NE(dsn.find("Auto-Submitted: auto-replied\r\n"), std::string::npos);
  EXPECT_NE(dsn.find("Content-Type: multipart/report; report-type=delivery-status;\r\n"
                     "\tboundary=\"=_b1\"\r\n"),
            std::string::npos);
  EXPECT_NE(dsn.find("<bob@remote.test>: host mx.remote.test said: 550 5.1.1 "
                     "<bob@remote.test>: no such user ??\r\n"),
            std::string::npos);
  EXPECT_NE(dsn.find("Reporting-MTA: dns; mail.example.test\r\nX-Postino-Queue-ID: Q1\r\n"
                     "Original-Envelope-Id: env-1\r\n"
                     "Arrival-Date: Mon, 30 Nov 2026 00:53:20 +0000\r\n"
                     "\r\nFinal-Recipient: rfc822; bob@remote.test\r\n"
                     "Original-Recipient: rfc822; Bob@remote.test\r\n"
                     "Action: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.remote.test\r\n"
                     "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.test>: no such user ??\r\n"),
            std::string::npos)
      << dsn;
  EXPECT_NE(dsn.find("Final-Recipient: rfc822; carol@remote.test\r\nAction: delayed\r\n"
                     "Status: 4.0.0\r\nDiagnostic-Code: x-postino; connection timed out\r\n"),
            std::string::npos);
  EXPECT_NE(dsn.find("Will-Retry-Until: Sat, 05 Dec 2026 00:53:20 +0000\r\n"), std::string::npos);
  EXPECT_TRUE(
      dsn.ends_with("Content-Type: message/rfc822\r\n\r\n"
                    "Subject: hello\r\nFrom: alice@example.test\r\n\r\nthe body\r\n"
                    "\r\n--=_b1--\r\n"))
      << dsn;
}

TEST(Dsn, HeadersOnlyForRetHdrsAndForLargeOriginals) {
  auto in = input();
  in.recipients = {{"bob@remote.test", "", Action::failed, "550 5.1.1 no", "mx"}};
  in.ret = 2;
  auto dsn = compose_dsn(in);
  EXPECT_TRUE(
      dsn.ends_with("Content-Type: text/rfc822-headers\r\n\r\n"
                    "Subject: hello\r\nFrom: alice@example.test\r\n\r\n\r\n--=_b1--\r\n"))
      << dsn;
  in.ret = 1;
  in.max_returned_bytes = 10;
  EXPECT_NE(compose_dsn(in).find("text/rfc822-headers"), std::string::npos);
}

TEST(Dsn, DelayAndSuccessReportsSaySo) {
  auto in = input();
  in.recipients = {{"bob@remote.test", "", Action::delayed, "451 4.3.0 later", "mx"}};
  auto delayed = compose_dsn(in);
  EXPECT_NE(delayed.find("Subject: Delayed Mail (still being retried)\r\n"), std::string::npos);
  EXPECT_NE(delayed.find("keep\r\ntrying until Sat, 05 Dec 2026 00:53:20 +0000."),
            std::string::npos);
  in.recipients = {{"bob@remote.test", "", Action::delivered, "250 2.0.0 ok", "mx"}};
  auto delivered = compose_dsn(in);
  EXPECT_NE(delivered.find("Subject: Successful Mail Delivery Report\r\n"), std::string::npos);
  EXPECT_NE(delivered.find("Action: delivered\r\nStatus: 2.0.0\r\n"), std::string::npos);
}

}  // namespace
}  // namespace postino::smtp
