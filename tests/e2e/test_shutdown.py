"""Graceful shutdown: on SIGTERM or SIGINT the server stops accepting, tells every idle
session goodbye with its protocol's shutdown reply (inside TLS on implicit-TLS ports),
closes them and exits 0 within 5 seconds. A session in the middle of a line, or a client
stuck in a TLS handshake, does not hold the server past that deadline."""

import signal
import socket
import time
import unittest

import harness

HOST = "mx.e2e.test"
CONFIG = f'[server]\nhostname = "{HOST}"\n'
DEADLINE = 5.0  # seconds from the signal to the exit

SHUTDOWN = {
    "smtp": f"421 4.3.2 {HOST} Service shutting down",
    "submission": f"421 4.3.2 {HOST} Service shutting down",
    "submissions": f"421 4.3.2 {HOST} Service shutting down",
    "imap": "* BYE Server shutting down",
    "imaps": "* BYE Server shutting down",
    "pop3": "-ERR [SYS/TEMP] Server shutting down",
    "pop3s": "-ERR [SYS/TEMP] Server shutting down",
}
GREETING = {"smtp": "220 ", "submission": "220 ", "submissions": "220 ", "imap": "* OK ",
            "imaps": "* OK ", "pop3": "+OK ", "pop3s": "+OK "}


class ShutdownTest(unittest.TestCase):
    def setUp(self):
        self.server = harness.DevServer(config=CONFIG).start()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.server.close()
        marker = harness.sanitizer_report(self.server.stderr())
        self.assertIsNone(marker, "sanitizer report:\n" + self.server.stderr()[-5000:])

    def open(self, protocol):
        c = self.server.connect(protocol)
        self.clients.append(c)
        self.assertTrue(c.line().startswith(GREETING[protocol]), protocol)
        return c

    def signal_and_wait(self, sig):
        """Sends `sig`; returns (exit code, seconds) once the server has exited."""
        began = time.monotonic()
        self.server.proc.send_signal(sig)
        try:
            code = self.server.proc.wait(timeout=DEADLINE + 5)
        except Exception:
            self.server.proc.kill()
            self.server.proc.wait()
            self.fail(f"the server was still running {DEADLINE + 5} s after the signal")
        return code, time.monotonic() - began

    def assert_refused(self, protocol):
        with self.assertRaises(ConnectionRefusedError, msg=protocol):
            s = socket.create_connection(("127.0.0.1", self.server.ports[protocol]), timeout=5)
            s.close()

    def assert_goodbye(self, client, protocol):
        client.sock.settimeout(DEADLINE)
        self.assertEqual(client.line(), SHUTDOWN[protocol], protocol)
        self.assertTrue(client.is_closed(wait=DEADLINE), f"{protocol} left open")
        self.assertEqual(client.buffer, b"", f"{protocol}: bytes after the shutdown reply")

    def test_sigterm_says_goodbye_to_idle_sessions_and_exits_0(self):
        idle = {p: self.open(p) for p in harness.PROTOCOLS}
        # One session that already talked (SMTP after EHLO, IMAP after STARTTLS).
        c = self.open("submission")
        c.send("EHLO client.test\r\n")
        self.assertTrue(c.smtp_reply()[-1].startswith("250 "))
        i = self.open("imap")
        i.send("a STARTTLS\r\n")
        self.assertEqual(i.line(), "a OK Begin TLS negotiation now")
        i.starttls()
        i.send("b NOOP\r\n")
        self.assertEqual(i.line(), "b OK NOOP completed")

        began = time.monotonic()
        self.server.proc.send_signal(signal.SIGTERM)
        for protocol, client in idle.items():
            self.assert_goodbye(client, protocol)
        self.assert_goodbye(c, "submission")
        self.assert_goodbye(i, "imap")
        # Goodbyes were said: the listeners are closed already, even if the process has not
        # exited yet.
        for protocol in harness.PROTOCOLS:
            self.assert_refused(protocol)
        code = self.server.proc.wait(timeout=DEADLINE + 5)
        elapsed = time.monotonic() - began
        self.assertEqual(code, 0, self.server.stderr()[-3000:])
        self.assertLess(elapsed, DEADLINE)
        self.server.stop()  # joins the stderr reader
        self.assertIn("event=shutdown signal=SIGTERM", self.server.stderr())
        self.assertIn("event=stopped", self.server.stderr())

    def test_sigterm_with_no_open_connection(self):
        self.open("smtp").close()  # the server has served: its event loop is running
        code, elapsed = self.signal_and_wait(signal.SIGTERM)
        self.assertEqual(code, 0)
        self.assertLess(elapsed, DEADLINE)
        self.assert_refused("smtp")

    def test_sigterm_right_after_ready_exits_0(self):
        # "Ready." promises a running server: a supervisor may stop it at once. The signal
        # must be handled (exit 0), not kill the process (-SIGTERM).
        codes = []
        for _ in range(3):
            server = harness.DevServer(config=CONFIG, listen=["smtp"]).start()
            server.proc.send_signal(signal.SIGTERM)
            try:
                codes.append(server.proc.wait(timeout=DEADLINE + 5))
            finally:
                server.close()
            self.assertIsNone(harness.sanitizer_report(server.stderr()), server.stderr())
        self.assertEqual(codes, [0, 0, 0], "SIGTERM just after 'Ready.' killed the server")

    def test_sigint_exits_0(self):
        smtp = self.open("smtp")
        pop3s = self.open("pop3s")
        began = time.monotonic()
        self.server.proc.send_signal(signal.SIGINT)
        self.assert_goodbye(smtp, "smtp")
        self.assert_goodbye(pop3s, "pop3s")
        code = self.server.proc.wait(timeout=DEADLINE + 5)
        self.assertEqual(code, 0, self.server.stderr()[-3000:])
        self.assertLess(time.monotonic() - began, DEADLINE)
        self.server.stop()  # joins the stderr reader
        self.assertIn("event=shutdown signal=SIGINT", self.server.stderr())
        self.assert_refused("smtp")

    def test_sessions_in_the_middle_of_a_line_are_closed(self):
        partial = {"smtp": b"NOOP", "imap": b"a NO", "pop3": b"CA", "imaps": b"a CAPAB",
                   "submission": b"EHLO client.te"}
        clients = {}
        for protocol, data in partial.items():
            clients[protocol] = self.open(protocol)
            clients[protocol].send(data)
        # A long partial line too (under the SMTP limit, so it is still being buffered).
        clients["long"] = self.open("smtp")
        clients["long"].send(b"NOOP " + b"x" * 2000)
        time.sleep(0.3)  # let the server read the partial lines
        began = time.monotonic()
        self.server.proc.send_signal(signal.SIGTERM)
        for protocol, client in clients.items():
            client.sock.settimeout(DEADLINE)
            # The half line is never answered as a command: the shutdown reply comes first.
            self.assertEqual(client.line(), SHUTDOWN.get(protocol, SHUTDOWN["smtp"]), protocol)
            self.assertTrue(client.is_closed(wait=DEADLINE), protocol)
        code = self.server.proc.wait(timeout=DEADLINE + 5)
        self.assertEqual(code, 0, self.server.stderr()[-3000:])
        self.assertLess(time.monotonic() - began, DEADLINE)

    def test_a_client_stuck_in_the_tls_handshake_does_not_block_the_exit(self):
        # Connected to implicit-TLS ports but never sending a ClientHello, or sending half
        # of one; and a STARTTLS that is never followed by a handshake.
        stuck = [self.server.connect_raw("imaps"), self.server.connect_raw("submissions")]
        stuck[1].send(b"\x16\x03\x01\x00\xff\x01")  # a truncated TLS record
        s = self.open("pop3")
        s.send("STLS\r\n")
        self.assertEqual(s.line(), "+OK Begin TLS negotiation")
        stuck.append(s)
        idle = self.open("imap")
        self.clients.extend(stuck)
        time.sleep(0.3)
        began = time.monotonic()
        self.server.proc.send_signal(signal.SIGTERM)
        self.assert_goodbye(idle, "imap")
        code = self.server.proc.wait(timeout=DEADLINE + 5)
        elapsed = time.monotonic() - began
        self.assertEqual(code, 0, self.server.stderr()[-3000:])
        self.assertLess(elapsed, DEADLINE)
        for c in stuck:
            self.assertTrue(c.is_closed(wait=2), "a stuck client was left connected")


if __name__ == "__main__":
    harness.main()
