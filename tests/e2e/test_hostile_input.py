"""Replays of the RELIABILITY.md rows that apply to the greeting-level sessions:

- S09: over-long command lines (2049 bytes, 100 KB and 1 MB without CRLF).
- S10: HTTP and proxy lines sent to SMTP (221 and close at once), IMAP and POP3 (closed
  after at most 3 bad commands).
- H01: EHLO with a bare CR, over-long HELO: 501, never accepted.
- T03: before TLS, IMAP LOGIN answers NO [PRIVACYREQUIRED], SMTP EHLO lists no AUTH, POP3
  USER/PASS are refused.
- NUL bytes in commands.
- L05: junk commands end the session at the protocol's limit.
- T04: plaintext sent to implicit-TLS ports gets no protocol text and is closed within the
  TLS handshake timeout.

After every case a fresh client is still served on every protocol.
"""

import base64
import re
import socket
import time

import harness

HOST = "mx.e2e.test"
CONFIG = f'[server]\nhostname = "{HOST}"\n[tls]\nhandshake_timeout_seconds = 2\n'
FORBIDDEN = "221 2.7.0 Error: I can break rules, too. Goodbye."
HTTP_LINES = ["GET / HTTP/1.1", "POST / HTTP/1.1", "CONNECT x:25", "Host: x",
              "CONNECT mx.example.org:25 HTTP/1.1", "User-Agent: Mozilla/5.0"]


class HostileInputTest(harness.ServerTestCase):
    config = CONFIG

    def tearDown(self):
        self.assert_still_serving()

    def assert_still_serving(self):
        for protocol, command, reply in (("smtp", "NOOP\r\n", "250 2.0.0 Ok"),
                                         ("imap", "z NOOP\r\n", "z OK NOOP completed"),
                                         ("pop3", "NOOP\r\n", "+OK"),
                                         ("imaps", "z NOOP\r\n", "z OK NOOP completed")):
            c = self.server.connect(protocol)
            try:
                c.line()
                c.send(command)
                self.assertEqual(c.line(), reply, f"{protocol} no longer served")
            finally:
                c.close()

    def open(self, protocol):
        c = self.server.connect(protocol)
        greeting = c.line()
        self.assertRegex(greeting, r"^(220 |\* OK |\+OK )", protocol)
        return c

    # -- S09 --------------------------------------------------------------------------
    def test_s09_long_command_lines(self):
        c = self.open("smtp")
        c.send("A" * 2049 + "\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
        c.send("EHLO " + "a" * (100 * 1024))
        c.send("\r\nNOOP\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        # A 1 MB "line" whose tail looks like commands: none of it is executed.
        c.send("X" * (1024 * 1024 - 10) + "QUIT\rQUIT " + "\r\nNOOP\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        c.close()

    # -- S10 --------------------------------------------------------------------------
    def test_s10_http_lines_on_smtp_get_221_and_close_at_once(self):
        for line in HTTP_LINES + ["\x16\x03\x01\x02\x00", "<html>", "1 NOOP"]:
            with self.subTest(line=line):
                for proto in ("smtp", "submission"):
                    c = self.open(proto)
                    began = time.monotonic()
                    c.send(line + "\r\n")
                    self.assertEqual(c.line(), FORBIDDEN)
                    self.assertTrue(c.is_closed(wait=2), "left open")
                    self.assertLess(time.monotonic() - began, 2)
                    self.assertEqual(c.buffer, b"")
                    c.close()

    def test_s10_whole_http_request_on_smtp_gets_one_reply(self):
        c = self.open("smtp")
        c.send("POST / HTTP/1.1\r\nHost: mx\r\nContent-Length: 30\r\n\r\n"
               "EHLO x\r\nMAIL FROM:<a@b>\r\n")
        self.assertEqual(c.line(), FORBIDDEN)
        self.assertTrue(c.is_closed(wait=2))
        self.assertEqual(c.buffer, b"", "lines after the HTTP request were answered")
        c.close()

    def test_s10_http_after_ehlo_on_smtp(self):
        c = self.open("smtp")
        c.send("EHLO client.test\r\n")
        self.assertTrue(c.smtp_reply()[-1].startswith("250 "))
        c.send("GET / HTTP/1.1\r\n")
        self.assertEqual(c.line(), FORBIDDEN)
        self.assertTrue(c.is_closed(wait=2))
        c.close()

    def lines_until_closed(self, client, wait=5):
        """Every line the server sends until it closes; fails if it stays open."""
        client.sock.settimeout(wait)
        lines = []
        try:
            while True:
                line = client.line()
                if line == "":
                    return lines
                lines.append(line)
        except (ConnectionResetError, BrokenPipeError):
            return lines
        except socket.timeout:
            self.fail(f"still open {wait} s after: {lines}")

    def check_closed_after_three_bad(self, protocol, data, goodbye):
        c = self.open(protocol)
        c.send(data)
        lines = self.lines_until_closed(c)
        c.close()
        # At most three error replies, then the goodbye, then the close.
        self.assertTrue(lines, f"{protocol}: closed without a reply")
        self.assertEqual(lines[-1], goodbye, f"{protocol}: {lines}")
        self.assertLessEqual(len(lines), 4, f"{protocol}: {lines}")
        error = r"^\S+ BAD " if protocol == "imap" else r"^-ERR "
        for line in lines[:-1]:
            self.assertRegex(line, error)

    def test_s10_http_lines_on_imap_and_pop3(self):
        for line in HTTP_LINES:
            with self.subTest(line=line):
                self.check_closed_after_three_bad("imap", (line + "\r\n") * 3,
                                                  "* BYE Too many invalid commands.")
                self.check_closed_after_three_bad("pop3", (line + "\r\n") * 3,
                                                  "-ERR Too many bad commands, closing")

    def test_s10_whole_http_request_on_imap_and_pop3(self):
        request = ("GET / HTTP/1.1\r\nHost: mx.example.org\r\nUser-Agent: x\r\n"
                   "Accept: */*\r\nCookie: a=b\r\n\r\n")
        self.check_closed_after_three_bad("imap", request, "* BYE Too many invalid commands.")
        self.check_closed_after_three_bad("pop3", request, "-ERR Too many bad commands, closing")

    # -- H01 --------------------------------------------------------------------------
    def test_h01_ehlo_with_bare_cr_is_refused(self):
        c = self.open("smtp")
        c.send(b"EHLO evil\rX-Injected: 1\r\n")
        self.assertEqual(c.line(), "501 5.5.4 Syntax: EHLO hostname")
        c.send(b"HELO evil\rX-Injected: 1\r\n")
        self.assertEqual(c.line(), "501 5.5.4 Syntax: HELO hostname")
        c.send(b"EHLO evil\r\r\n")
        self.assertEqual(c.line(), "501 5.5.4 Syntax: EHLO hostname")
        c.send(b"HELO " + b"a" * 1000 + b"\r\n")
        self.assertEqual(c.line(), "501 5.5.4 Syntax: HELO hostname")
        c.send(b"EHLO " + b"a" * 256 + b"\r\n")
        self.assertEqual(c.line(), "501 5.5.4 Syntax: EHLO hostname")
        c.send(b"EHLO caf\xc3\xa9.example\r\n")
        self.assertEqual(c.line(), "501 5.5.4 Syntax: EHLO hostname")
        # The session is still usable, and a valid 255-octet name is accepted.
        c.send(b"EHLO " + b"a" * 255 + b"\r\n")
        reply = c.smtp_reply()
        self.assertEqual(reply[0], f"250-{HOST}")
        self.assertEqual(reply[-1], "250 STARTTLS")
        c.close()

    # -- T03 --------------------------------------------------------------------------
    def demo_password(self):
        m = re.search(r"demo account (\S+)\s+password (\S+)", self.server.banner)
        return m.group(1), m.group(2)

    def test_t03_imap_login_before_tls_is_refused(self):
        user, password = self.demo_password()
        c = self.open("imap")
        c.send("a CAPABILITY\r\n")
        self.assertEqual(c.line(), "* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE STARTTLS LOGINDISABLED")
        self.assertEqual(c.line(), "a OK CAPABILITY completed")
        c.send(f"b LOGIN {user} {password}\r\n")
        self.assertEqual(c.line(), "b NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS")
        c.send(f'c LOGIN "{user}" "wrong"\r\n')
        self.assertEqual(c.line(), "c NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS")
        # Still not authenticated: a command that needs a login is not run.
        c.send("d SELECT INBOX\r\n")
        self.assertRegex(c.line(), r"^d (BAD|NO) ")
        c.close()

    def test_t03_smtp_offers_no_auth_before_tls(self):
        user, password = self.demo_password()
        for proto in ("smtp", "submission"):
            c = self.open(proto)
            c.send("EHLO client.test\r\n")
            reply = c.smtp_reply()
            self.assertTrue(reply[-1].startswith("250 "), reply)
            self.assertFalse([l for l in reply if l[4:].upper().startswith("AUTH")], reply)
            self.assertIn("STARTTLS", [l[4:] for l in reply])
            token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
            c.send(f"AUTH PLAIN {token}\r\n")
            reply = c.smtp_reply()
            self.assertRegex(reply[-1], r"^5\d\d 5\.\d+\.\d+ ", "AUTH before TLS not refused")
            if proto == "submission":  # RFC 4954 §4 / RELIABILITY T03
                self.assertEqual(reply[-1], "530 5.7.0 Must issue a STARTTLS command first")
            c.close()

    def test_t03_pop3_user_pass_before_tls_is_refused(self):
        user, password = self.demo_password()
        c = self.open("pop3")
        c.send(f"USER {user}\r\n")
        self.assertTrue(c.line().startswith("-ERR"))
        c.send(f"PASS {password}\r\n")
        self.assertTrue(c.line().startswith("-ERR"))
        c.close()

    # -- NUL bytes --------------------------------------------------------------------
    def test_nul_bytes_in_smtp_commands(self):
        c = self.open("smtp")
        c.send(b"NO\0OP\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: control characters in command")
        c.send(b"NOOP\0\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: control characters in command")
        c.send(b"EHLO a\0b\r\n")
        self.assertEqual(c.line(), "501 5.5.4 Syntax: EHLO hostname")
        c.send(b"\0\r\n")
        self.assertEqual(c.line(), FORBIDDEN)
        self.assertTrue(c.is_closed(wait=2))
        c.close()

    def test_nul_bytes_in_imap_commands(self):
        c = self.open("imap")
        c.send(b"a\0 NOOP\r\n")
        self.assertEqual(c.line(), "* BAD Invalid tag")
        c.send(b"b NO\0OP\r\n")
        self.assertEqual(c.line(), "b BAD Invalid command name")
        c.send(b"c NOOP\r\n")
        self.assertEqual(c.line(), "c OK NOOP completed")
        c.send(b"d LOGIN \"a\\\0b\" x\r\n")
        self.assertRegex(c.line(), r"^d (BAD|NO) ")
        c.close()

    def test_nul_bytes_in_pop3_commands(self):
        c = self.open("pop3")
        c.send(b"NO\0OP\r\n")
        self.assertEqual(c.line(), "-ERR Unknown command")
        c.send(b"NOOP\r\n")
        self.assertEqual(c.line(), "+OK")
        c.send(b"CAPA\0\r\n")
        self.assertEqual(c.line(), "-ERR Unknown command")
        c.close()

    # -- L05 --------------------------------------------------------------------------
    def test_l05_junk_smtp_commands_end_the_session(self):
        c = self.open("smtp")
        c.send("".join(f"JUNK{i}\r\n" for i in range(200)))
        lines = self.lines_until_closed(c)
        self.assertEqual(lines[:20], ["500 5.5.2 Error: command not recognized"] * 20)
        self.assertEqual(lines[20:], [f"421 4.7.0 {HOST} Error: too many errors"])
        c.close()

    def test_l05_imap_bye_after_three_bad_commands(self):
        c = self.open("imap")
        c.send("a FOO\r\nb BAR\r\nc BAZ\r\nd NOOP\r\n")
        self.assertEqual([c.line() for _ in range(4)],
                         ["a BAD Unknown command", "b BAD Unknown command",
                          "c BAD Unknown command", "* BYE Too many invalid commands."])
        self.assertTrue(c.is_closed(wait=2))
        self.assertEqual(c.buffer, b"", "d NOOP was answered after BYE")
        c.close()

    def test_l05_pop3_closed_after_three_bad_commands(self):
        c = self.open("pop3")
        c.send("FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n")
        self.assertEqual([c.line() for _ in range(4)],
                         ["-ERR Unknown command"] * 3 + ["-ERR Too many bad commands, closing"])
        self.assertTrue(c.is_closed(wait=2))
        self.assertEqual(c.buffer, b"")
        c.close()

    # -- T04 --------------------------------------------------------------------------
    def read_until_closed(self, client, wait):
        began = time.monotonic()
        closed = client.is_closed(wait=wait)
        return closed, time.monotonic() - began, client.buffer

    def test_t04_plaintext_to_implicit_tls_ports(self):
        for protocol, text in (("submissions", b"EHLO x\r\n"), ("imaps", b"a CAPABILITY\r\n"),
                               ("pop3s", b"CAPA\r\n")):
            with self.subTest(protocol=protocol):
                c = self.server.connect_raw(protocol)
                c.send(text)
                closed, elapsed, data = self.read_until_closed(c, wait=5)
                c.close()
                self.assertTrue(closed, f"{protocol}: plaintext client left connected")
                self.assertLess(elapsed, 3)
                for marker in (b"220", b"ESMTP", b"* OK", b"+OK", b"CAPABILITY", b"BAD",
                               b"Postino"):
                    self.assertNotIn(marker, data, protocol)

    def test_t04_silent_client_on_implicit_tls_port_is_closed_at_handshake_timeout(self):
        for protocol, data in (("imaps", b""), ("pop3s", b"\x16\x03\x01\x00\xff\x01")):
            with self.subTest(protocol=protocol):
                c = self.server.connect_raw(protocol)
                if data:
                    c.send(data)
                closed, elapsed, received = self.read_until_closed(c, wait=6)
                c.close()
                self.assertTrue(closed, f"{protocol}: still open after 6 s")
                self.assertGreaterEqual(elapsed, 1.5, "closed before the handshake timeout")
                self.assertLess(elapsed, 4)
                self.assertNotIn(b"OK", received)

    def test_t04_garbage_handshake_after_starttls(self):
        c = self.open("submission")
        c.send("STARTTLS\r\n")
        self.assertEqual(c.line(), "220 2.0.0 Ready to start TLS")
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        closed, elapsed, data = self.read_until_closed(c, wait=5)
        self.assertTrue(closed)
        self.assertNotIn(b"250", data)
        self.assertNotIn(FORBIDDEN.encode(), data)
        c.close()


if __name__ == "__main__":
    harness.main()
