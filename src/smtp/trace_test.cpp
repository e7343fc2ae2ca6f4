// Tests for trace headers, hop counting and header field removal.
#include "smtp/trace.hpp"

#include <gtest/gtest.h>

namespace postino::smtp {
namespace {

TEST(Trace, ReceivedHeaderNamesProtocolTlsAndRecipient) {
  TraceInfo t;
  t.helo = "client.example";
  t.client_address = "192.0.2.7";
  t.hostname = "mx.example.test";
  t.is_tls = true;
  t.is_authenticated = true;
  t.tls_version = "TLSv1.3";
  t.tls_cipher = "TLS_AES_256_GCM_SHA384";
  t.queue_id = "S1.1";
  t.recipient = "demo@example.test";
  t.when = std::chrono::system_clock::from_time_t(1795550000);
  EXPECT_EQ(received_header(t),
            "Received: from client.example ([192.0.2.7])\r\n\tby mx.example.test (Postino) with "
            "ESMTPSA (TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n\tid S1.1\r\n\tfor "
            "<demo@example.test>; " +
                rfc5322_date(t.when) + "\r\n");
  t.is_tls = false;
  t.is_authenticated = false;
  t.recipient.clear();
  EXPECT_NE(received_header(t).find("with ESMTP\r\n\tid S1.1;"), std::string::npos);
  EXPECT_EQ(rfc5322_date(std::chrono::system_clock::from_time_t(0)),
            "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(Trace, CountsReceivedOnlyInTheHeader) {
  std::string msg;
  for (int i = 0; i < 3; ++i) msg += "Received: from a\r\n\tby b; date\r\n";
  msg += "Subject: x\r\n\r\nReceived: in the body\r\n";
  EXPECT_EQ(count_received(msg), 3u);
}

TEST(Trace, RemovesBccWithContinuationsButNotFromTheBody) {
  const std::string msg =
      "From: a@x\r\nBcc: secret@x,\r\n other@x\r\nTo: b@x\r\nbcc: x@y\r\n\r\nBcc: body line\r\n";
  EXPECT_EQ(remove_header_fields(msg, {"Bcc", "Resent-Bcc"}),
            "From: a@x\r\nTo: b@x\r\n\r\nBcc: body line\r\n");
}

}  // namespace
}  // namespace postino::smtp
