"""Connection limits, idle timeouts, line length limits and the SMTP error limit.

- limits.max_connections_per_ip: the connection past the limit gets the protocol's "too
  busy" reply (inside TLS on an implicit-TLS port) and is closed; the count is per address
  over all listeners; a freed slot is reused.
- limits.max_connections: the same over all clients, trusted ones included.
- limits.trusted_networks: loopback is exempt from the per-address limit by default.
- Idle timeouts (smtp.idle_timeout_seconds, imap.preauth_timeout_seconds,
  pop3.idle_timeout_seconds): the timeout reply arrives and the connection is closed.
- Line limits at their boundary (RELIABILITY S09): smtp.max_line_bytes (2048),
  imap.max_line_bytes_preauth (8192), pop3.max_line_bytes (512); a 100 KB or 1 MB line
  without CRLF gets one error reply and the session resynchronises at the next CRLF.
- smtp.max_errors at its boundary.
"""

import time

import harness

HOST = "mx.e2e.test"
SERVER_SECTION = f'[server]\nhostname = "{HOST}"\n'

BUSY = {
    "smtp": f"421 4.7.0 {HOST} Error: too many connections, try again later",
    "imap": "* BYE [UNAVAILABLE] Too many connections, try again later",
    "pop3": "-ERR [SYS/TEMP] Too many connections, try again later",
}
FAMILY = {"smtp": "smtp", "submission": "smtp", "submissions": "smtp", "imap": "imap",
          "imaps": "imap", "pop3": "pop3", "pop3s": "pop3"}
GREETING_PREFIX = {"smtp": f"220 {HOST} ESMTP", "imap": "* OK ", "pop3": "+OK "}


def is_greeting(protocol, line):
    return line.startswith(GREETING_PREFIX[FAMILY[protocol]])


class LimitTestCase(harness.ServerTestCase):
    """Helpers shared by the connection limit classes."""

    def open_served(self, protocol, seconds=5):
        """A new connection that gets a greeting. A connection the previous step closed is
        released by the server shortly after the client sees the close, so a busy reply is
        retried for a few seconds."""
        deadline = time.monotonic() + seconds
        while True:
            c = self.server.connect(protocol)
            line = c.line()
            if is_greeting(protocol, line):
                return c
            c.close()
            self.assertEqual(line, BUSY[FAMILY[protocol]], protocol)
            if time.monotonic() > deadline:
                self.fail(f"{protocol}: still busy {seconds} s after connections closed")
            time.sleep(0.05)

    def assert_busy(self, protocol):
        c = self.server.connect(protocol)
        try:
            self.assertEqual(c.line(), BUSY[FAMILY[protocol]], protocol)
            self.assertTrue(c.is_closed(wait=5), f"{protocol}: busy connection left open")
            self.assertEqual(c.buffer, b"", f"{protocol}: bytes after the busy reply")
        finally:
            c.close()


class PerAddressLimitTest(LimitTestCase):
    config = SERVER_SECTION + "[limits]\nmax_connections_per_ip = 2\ntrusted_networks = []\n"

    def check_third_connection_is_refused(self, protocol):
        a = self.open_served(protocol)
        b = self.open_served(protocol)
        try:
            self.assert_busy(protocol)
            # The two admitted sessions still work.
            for c in (a, b):
                c.send({"smtp": "NOOP\r\n", "imap": "n NOOP\r\n", "pop3": "NOOP\r\n"}[FAMILY[protocol]])
                self.assertIn(c.line(), ("250 2.0.0 Ok", "n OK NOOP completed", "+OK"))
            # A freed slot is given to the next client.
            a.close()
            self.open_served(protocol).close()
        finally:
            a.close()
            b.close()

    def test_smtp(self):
        self.check_third_connection_is_refused("smtp")

    def test_imap(self):
        self.check_third_connection_is_refused("imap")

    def test_pop3(self):
        self.check_third_connection_is_refused("pop3")

    def test_imaps_busy_reply_arrives_inside_tls(self):
        self.check_third_connection_is_refused("imaps")

    def test_other_listeners(self):
        for protocol in ("submission", "submissions", "pop3s"):
            with self.subTest(protocol=protocol):
                self.check_third_connection_is_refused(protocol)

    def test_limit_counts_connections_over_all_listeners(self):
        a = self.open_served("smtp")
        b = self.open_served("pop3s")
        try:
            self.assert_busy("imap")
            self.assert_busy("submissions")
        finally:
            a.close()
            b.close()

    def test_refused_connections_do_not_use_up_slots(self):
        a = self.open_served("imap")
        b = self.open_served("imap")
        for _ in range(5):
            self.assert_busy("smtp")
        a.close()
        b.close()
        c = self.open_served("pop3")
        d = self.open_served("imaps")
        c.close()
        d.close()


class TotalLimitTest(LimitTestCase):
    # Loopback stays trusted (the default), so only the total limit applies.
    config = SERVER_SECTION + "[limits]\nmax_connections = 3\n"

    def test_fourth_connection_is_refused(self):
        clients = [self.open_served(p) for p in ("smtp", "imap", "pop3")]
        try:
            self.assert_busy("submission")
            self.assert_busy("imaps")
            self.assert_busy("pop3")
            clients.pop(0).close()
            self.open_served("smtp").close()
        finally:
            for c in clients:
                c.close()


class ConnectionRateTest(LimitTestCase):
    config = SERVER_SECTION + ("[limits]\nmax_new_connections_per_minute_per_ip = 3\n"
                               "trusted_networks = []\n")

    def test_fourth_new_connection_in_a_minute_is_refused(self):
        for _ in range(3):
            self.open_served("smtp").close()
        self.assert_busy("smtp")
        self.assert_busy("imap")


class DataRateTest(harness.ServerTestCase):
    config = SERVER_SECTION + "[smtp]\nidle_timeout_seconds = 1\nmin_data_rate_bytes_per_second = 1000\n"

    def test_a_message_dripped_too_slowly_is_cut_off(self):
        # RELIABILITY L03: DATA at 10 bytes a second, below the 1000 B/s minimum.
        import socket
        c = self.server.connect("smtp")
        try:
            c.line()
            c.send("EHLO x\r\n")
            c.smtp_reply()
            c.send("MAIL FROM:<a@remote.test>\r\n")
            c.line()
            c.send("RCPT TO:<demo@example.test>\r\n")
            c.line()
            c.send("DATA\r\n")
            self.assertEqual(c.line()[:3], "354")
            began = time.monotonic()
            received = b""
            c.sock.settimeout(0.1)
            while b"\n" not in received and time.monotonic() - began < 5:
                try:
                    c.sock.sendall(b"x")
                    received += c.sock.recv(4096)
                except socket.timeout:
                    continue
                except OSError:
                    break
            self.assertEqual(received.split(b"\r\n")[0].decode(), f"421 4.4.2 {HOST} Error: timeout exceeded")
            self.assertLess(time.monotonic() - began, 2.5)
        finally:
            c.close()

    def test_a_message_at_a_good_rate_takes_longer_than_the_idle_timeout(self):
        c = self.server.connect("smtp")
        try:
            c.line()
            c.send("EHLO x\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<demo@example.test>\r\n")
            c.smtp_reply()
            c.line()
            c.line()
            c.send("DATA\r\n")
            self.assertEqual(c.line()[:3], "354")
            began = time.monotonic()
            while time.monotonic() - began < 1.6:  # longer than the 1 s timeout, 4000 B/s
                c.send(b"y" * 76 + b"\r\n" + b"z" * 320)
                time.sleep(0.1)
            c.send(b"\r\n.\r\n")
            self.assertRegex(c.line(), r"^250 2\.0\.0 Ok: queued as ")
        finally:
            c.close()


class TrustedNetworkTest(LimitTestCase):
    config = SERVER_SECTION + "[limits]\nmax_connections_per_ip = 1\n"

    def test_loopback_is_exempt_from_the_per_address_limit(self):
        clients = [self.open_served(p) for p in ("smtp", "smtp", "imap", "pop3s")]
        try:
            for c in clients[:2]:
                c.send("NOOP\r\n")
                self.assertEqual(c.line(), "250 2.0.0 Ok")
        finally:
            for c in clients:
                c.close()


class IdleTimeoutTest(harness.ServerTestCase):
    config = SERVER_SECTION + ("[smtp]\nidle_timeout_seconds = 1\n"
                               "[imap]\npreauth_timeout_seconds = 1\n"
                               "[pop3]\nidle_timeout_seconds = 1\n")

    def check_timeout(self, protocol, reply):
        began = time.monotonic()
        c = self.server.connect(protocol)
        try:
            self.assertTrue(is_greeting(protocol, c.line()))
            self.assertEqual(c.line(), reply, protocol)
            elapsed = time.monotonic() - began
            self.assertGreaterEqual(elapsed, 0.9, f"{protocol}: timed out too early")
            self.assertTrue(c.is_closed(wait=3), f"{protocol}: left open after the timeout")
            self.assertLess(time.monotonic() - began, 5, protocol)
        finally:
            c.close()

    def test_smtp_idle_timeout(self):
        self.check_timeout("smtp", f"421 4.4.2 {HOST} Error: timeout exceeded")

    def test_imap_preauth_timeout(self):
        self.check_timeout("imap", "* BYE Autologout; idle for too long")

    def test_pop3_idle_timeout(self):
        self.check_timeout("pop3", "-ERR Disconnected for inactivity")

    def test_timeout_on_implicit_tls_ports(self):
        self.check_timeout("imaps", "* BYE Autologout; idle for too long")
        self.check_timeout("pop3s", "-ERR Disconnected for inactivity")
        self.check_timeout("submissions", f"421 4.4.2 {HOST} Error: timeout exceeded")

    def test_commands_restart_the_idle_timer(self):
        c = self.server.connect("smtp")
        try:
            c.line()
            began = time.monotonic()
            while time.monotonic() - began < 2.2:  # over twice the timeout, never idle 1 s
                c.send("NOOP\r\n")
                self.assertEqual(c.line(), "250 2.0.0 Ok")
                time.sleep(0.25)
            self.assertEqual(c.line(), f"421 4.4.2 {HOST} Error: timeout exceeded")
            self.assertTrue(c.is_closed(wait=3))
        finally:
            c.close()


    def test_a_client_dripping_bytes_cannot_hold_the_session(self):
        # RELIABILITY L03: the timeout runs per command, not per read, so a client that
        # keeps sending one byte of an endless command line is cut off after the timeout.
        import socket
        for protocol, reply in (("smtp", f"421 4.4.2 {HOST} Error: timeout exceeded"),
                                ("imap", "* BYE Autologout; idle for too long"),
                                ("pop3", "-ERR Disconnected for inactivity")):
            c = self.server.connect(protocol)
            try:
                c.line()
                began = time.monotonic()
                received = b""
                c.sock.settimeout(0.2)
                while b"\n" not in received and time.monotonic() - began < 4:
                    try:
                        c.sock.sendall(b"N")
                        received += c.sock.recv(4096)
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                self.assertEqual(received.split(b"\r\n")[0].decode(), reply, protocol)
                self.assertLess(time.monotonic() - began, 2.5, protocol)
            finally:
                c.close()


class LineLimitTest(harness.ServerTestCase):
    config = SERVER_SECTION

    def smtp(self):
        c = self.server.connect("smtp")
        self.assertTrue(c.line().startswith("220 "))
        return c

    def test_smtp_2048_byte_line_is_accepted(self):
        c = self.smtp()
        line = "NOOP " + "x" * 2043
        self.assertEqual(len(line), 2048)
        c.send(line + "\r\n")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        c.close()

    def test_smtp_2048_byte_line_with_crlf_split_across_writes(self):
        # The CR arrives with the 2048 bytes, the LF later: still a 2048-byte line.
        c = self.smtp()
        c.send("NOOP " + "x" * 2043 + "\r")
        time.sleep(0.3)
        c.send("\n")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        c.close()

    def test_smtp_2049_byte_line_is_rejected_and_the_session_continues(self):
        c = self.smtp()
        c.send("NOOP " + "x" * 2044 + "\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
        c.send("NOOP\r\n")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        # 2049 'A' + CRLF (RELIABILITY S09's exact input).
        c.send("A" * 2049 + "\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
        # The 2049 bytes arrive first, the CRLF later.
        c.send("NOOP " + "x" * 2044)
        time.sleep(0.3)
        c.send("\r\nNOOP\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        c.close()

    def check_smtp_huge_line(self, size):
        c = self.smtp()
        c.send("NOOP " + "A" * (size - 5))
        c.send("\r\nNOOP\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
        # The rest of the long line was discarded: the next reply answers our NOOP, and a
        # second NOOP proves no other reply was queued in between.
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        c.send("NOOP\r\n")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        c.send("QUIT\r\n")
        self.assertEqual(c.line(), "221 2.0.0 Bye")
        self.assertTrue(c.is_closed(wait=5))
        c.close()

    def test_smtp_100_kb_line(self):
        self.check_smtp_huge_line(100 * 1024)

    def test_smtp_1_mb_line(self):
        self.check_smtp_huge_line(1024 * 1024)

    def test_smtp_long_line_reply_comes_before_the_line_ends(self):
        # The server does not buffer an over-long line until its end: the reply comes while
        # the client is still sending it.
        c = self.smtp()
        c.send("A" * 10000)
        c.sock.settimeout(5)
        self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
        c.send("A" * 10000 + "\r\nNOOP\r\n")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        c.close()

    def imap(self):
        c = self.server.connect("imap")
        self.assertTrue(c.line().startswith("* OK "))
        return c

    def test_imap_preauth_line_limit(self):
        c = self.imap()
        tag = "t" * (8192 - len(" NOOP"))
        c.send(tag + " NOOP\r\n")
        self.assertEqual(c.line(), tag + " OK NOOP completed")
        c.send("u" + tag + " NOOP\r\n")  # 8193 bytes
        self.assertEqual(c.line(), "* BAD Command line too long")
        c.send("a NOOP\r\n")
        self.assertEqual(c.line(), "a OK NOOP completed")
        c.close()

    def test_imap_100_kb_line(self):
        c = self.imap()
        c.send("a " + "X" * (100 * 1024) + "\r\nb NOOP\r\n")
        self.assertEqual(c.line(), "* BAD Command line too long")
        self.assertEqual(c.line(), "b OK NOOP completed")
        c.send("c NOOP\r\n")
        self.assertEqual(c.line(), "c OK NOOP completed")
        c.close()

    def pop3(self):
        c = self.server.connect("pop3")
        self.assertTrue(c.line().startswith("+OK"))
        return c

    def test_pop3_line_limit(self):
        c = self.pop3()
        c.send("NOOP" + " " * 508 + "\r\n")  # 512 bytes: a NOOP with trailing blanks
        self.assertEqual(c.line(), "+OK")
        c.send("NOOP" + " " * 509 + "\r\n")  # 513 bytes
        self.assertEqual(c.line(), "-ERR Line too long")
        c.send("NOOP\r\n")
        self.assertEqual(c.line(), "+OK")
        c.close()

    def test_pop3_100_kb_line(self):
        c = self.pop3()
        c.send("USER " + "u" * (100 * 1024) + "\r\nNOOP\r\n")
        self.assertEqual(c.line(), "-ERR Line too long")
        self.assertEqual(c.line(), "+OK")
        c.send("NOOP\r\n")
        self.assertEqual(c.line(), "+OK")
        c.close()


class SmtpErrorLimitTest(harness.ServerTestCase):
    config = SERVER_SECTION + "[smtp]\nmax_errors = 3\n"

    def smtp(self):
        c = self.server.connect("smtp")
        self.assertTrue(c.line().startswith("220 "))
        return c

    def test_two_errors_keep_the_session_the_third_closes_it(self):
        c = self.smtp()
        c.send("XYZZY\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: command not recognized")
        c.send("MAIL FROM:<a@example.org>\r\n")
        self.assertEqual(c.line(), "503 5.5.1 Error: send HELO/EHLO first")
        c.send("NOOP\r\n")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        c.send("EHLO\r\n")
        self.assertEqual(c.line(), "501 5.5.4 Syntax: EHLO hostname")
        self.assertEqual(c.line(), f"421 4.7.0 {HOST} Error: too many errors")
        self.assertTrue(c.is_closed(wait=5))
        self.assertEqual(c.buffer, b"")
        c.close()

    def test_long_lines_count_as_errors(self):
        c = self.smtp()
        c.send("A" * 3000 + "\r\n" + "B" * 3000 + "\r\nNOOP\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
        self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        c.send("C" * 3000 + "\r\n")
        self.assertEqual(c.line(), "500 5.5.2 Error: line too long")
        self.assertEqual(c.line(), f"421 4.7.0 {HOST} Error: too many errors")
        self.assertTrue(c.is_closed(wait=5))
        c.close()

    def test_pipelined_errors_stop_at_the_limit(self):
        c = self.smtp()
        c.send("X1\r\nX2\r\nX3\r\nNOOP\r\nX4\r\n")
        for _ in range(3):
            self.assertEqual(c.line(), "500 5.5.2 Error: command not recognized")
        self.assertEqual(c.line(), f"421 4.7.0 {HOST} Error: too many errors")
        self.assertTrue(c.is_closed(wait=5))
        self.assertEqual(c.buffer, b"", "commands after the 421 were answered")
        c.close()

    def test_the_error_count_is_per_session(self):
        for _ in range(2):
            c = self.smtp()
            c.send("X1\r\nX2\r\nNOOP\r\n")
            c.line()
            c.line()
            self.assertEqual(c.line(), "250 2.0.0 Ok")
            c.send("QUIT\r\n")
            self.assertEqual(c.line(), "221 2.0.0 Bye")
            c.close()


if __name__ == "__main__":
    harness.main()
