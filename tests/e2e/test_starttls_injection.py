"""STARTTLS command injection (CVE-2011-0411 class, RELIABILITY.md T01): commands the
client pipelines after STARTTLS in the same packet are never answered after the
handshake. Also T02: SMTP state is reset by STARTTLS and a second STARTTLS is refused."""

import harness


class StartTlsInjectionTest(harness.ServerTestCase):
    def test_smtp_injected_command_is_never_answered(self):
        for proto in ("smtp", "submission"):
            c = self.server.connect(proto)
            self.assertTrue(c.line().startswith("220 "))
            c.send(b"EHLO x\r\nSTARTTLS\r\nXINJECT\r\n")
            ehlo = c.smtp_reply()
            self.assertTrue(ehlo[-1].startswith("250 "))
            self.assertEqual(c.smtp_reply(), ["220 2.0.0 Ready to start TLS"])
            c.starttls()
            c.send(b"NOOP\r\n")
            # The first reply inside TLS answers our NOOP, not the injected XINJECT.
            self.assertEqual(c.smtp_reply(), ["250 2.0.0 Ok"], proto)
            c.send(b"QUIT\r\n")
            self.assertEqual(c.smtp_reply(), ["221 2.0.0 Bye"])
            c.close()

    def test_imap_injected_command_is_never_answered(self):
        c = self.server.connect("imap")
        self.assertTrue(c.line().startswith("* OK"))
        c.send(b"a STARTTLS\r\nb NOOP\r\n")
        self.assertEqual(c.line(), "a OK Begin TLS negotiation now")
        c.starttls()
        c.send(b"c NOOP\r\n")
        self.assertEqual(c.line(), "c OK NOOP completed")
        c.close()

    def test_pop3_injected_command_is_never_answered(self):
        c = self.server.connect("pop3")
        self.assertTrue(c.line().startswith("+OK"))
        c.send(b"STLS\r\nCAPA\r\n")
        self.assertEqual(c.line(), "+OK Begin TLS negotiation")
        c.starttls()
        c.send(b"NOOP\r\n")
        self.assertEqual(c.line(), "+OK")
        c.close()

    def test_smtp_starttls_resets_state_and_refuses_a_second_starttls(self):
        c = self.server.connect("submission")
        c.line()
        c.send(b"EHLO x\r\n")
        c.smtp_reply()
        c.send(b"STARTTLS\r\n")
        self.assertEqual(c.smtp_reply(), ["220 2.0.0 Ready to start TLS"])
        c.starttls()
        c.send(b"STARTTLS\r\n")
        self.assertEqual(c.smtp_reply(), ["503 5.5.1 Error: TLS already active"])
        c.send(b"EHLO x\r\n")
        reply = c.smtp_reply()
        self.assertNotIn("250-STARTTLS", reply)
        c.close()

    def test_garbage_instead_of_a_handshake_closes_the_connection(self):
        c = self.server.connect("pop3")
        c.line()
        c.send(b"STLS\r\n")
        self.assertEqual(c.line(), "+OK Begin TLS negotiation")
        c.send(b"this is not a TLS ClientHello\r\n")
        self.assertTrue(c.is_closed())
        # The server still serves the next client.
        d = self.server.connect("pop3")
        self.assertTrue(d.line().startswith("+OK"))
        d.close()


if __name__ == "__main__":
    harness.main()
