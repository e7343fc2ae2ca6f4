"""POP3 end to end (RFC 1939, 2449, 5034, 2595, 8314) with Python's poplib and curl:
login over STLS and port 995, STAT/LIST/UIDL/RETR/TOP, DELE committed only by QUIT, a
dropped connection deleting nothing, one session per maildrop, UIDL stable across a
restart, malformed input answered with -ERR (RELIABILITY P01, T03)."""

import poplib
import re
import smtplib
import socket
import subprocess

import harness


class Pop3Test(harness.ServerTestCase):
    config = '[server]\nhostname = "mx.e2e.test"\n'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        m = re.search(r"demo account (\S+)\s+password (\S+)", cls.server.banner)
        cls.user, cls.password = m.group(1), m.group(2)

    def deliver(self, *subjects):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            for subject in subjects:
                s.sendmail("sender@remote.test", [self.user],
                           f"Subject: {subject}\r\n\r\n.starts with a dot\r\nbody of {subject}\r\n".encode())

    def login(self, ssl_port=True):
        ctx = self.server.client_tls_context()
        if ssl_port:
            p = poplib.POP3_SSL("localhost", self.server.ports["pop3s"], context=ctx, timeout=10)
        else:
            p = poplib.POP3("127.0.0.1", self.server.ports["pop3"], timeout=10)
            p.stls(context=ctx)
        p.user(self.user)
        p.pass_(self.password)
        return p

    def empty_the_maildrop(self):
        p = self.login()
        count, _ = p.stat()
        for i in range(1, count + 1):
            p.dele(i)
        p.quit()

    def test_retrieve_list_uidl_top_and_delete_with_quit(self):
        self.empty_the_maildrop()
        self.deliver("one", "two", "three")
        p = self.login(ssl_port=False)
        count, size = p.stat()
        self.assertEqual(count, 3)
        listing = p.list()[1]
        self.assertEqual(len(listing), 3)
        self.assertEqual(sum(int(l.split()[1]) for l in listing), size)
        self.assertEqual(p.list(2).split()[1], b"2")
        uidls = [l.split()[1] for l in p.uidl()[1]]
        self.assertEqual(len(set(uidls)), 3)
        resp, lines, octets = p.retr(1)
        self.assertIn(b"Subject: one", lines)
        self.assertIn(b".starts with a dot", lines)  # poplib removed our dot-stuffing
        self.assertGreater(octets, 0)
        top = p.top(2, 1)[1]
        self.assertIn(b"Subject: two", top)
        self.assertEqual(top[-1], b".starts with a dot")
        p.dele(1)
        with self.assertRaises(poplib.error_proto):
            p.retr(1)
        p.rset()
        p.dele(2)
        p.quit()
        q = self.login()
        self.assertEqual(q.stat()[0], 2)
        remaining = [l.split()[1] for l in q.uidl()[1]]
        self.assertEqual(remaining, [uidls[0], uidls[2]])  # UIDLs do not change
        q.quit()

    def test_dropped_connection_deletes_nothing_and_the_lock_is_released(self):
        self.empty_the_maildrop()
        self.deliver("keep me")
        p = self.login()
        p.dele(1)
        # A second session on the same maildrop is refused while the first holds it.
        with self.assertRaises(poplib.error_proto) as refused:
            self.login()
        self.assertIn(b"[IN-USE]", refused.exception.args[0])
        p.sock.shutdown(socket.SHUT_RDWR)  # the connection drops: no QUIT
        p.file.close()
        p.sock.close()
        q = None
        for _ in range(50):  # the server notices the close asynchronously
            try:
                q = self.login()
                break
            except poplib.error_proto:
                __import__("time").sleep(0.05)
        self.assertIsNotNone(q)
        self.assertEqual(q.stat()[0], 1)
        q.quit()

    def test_uidl_is_stable_across_a_restart(self):
        self.empty_the_maildrop()
        self.deliver("stable")
        p = self.login()
        before = p.uidl()[1]
        p.quit()
        data = self.server.data
        config = self.server.config
        again = harness.DevServer(config=config, data=data, listen=["pop3s"]).start()
        try:
            ctx = again.client_tls_context()
            q = poplib.POP3_SSL("localhost", again.ports["pop3s"], context=ctx, timeout=10)
            q.user(self.user)
            q.pass_(self.password)
            self.assertEqual(q.uidl()[1], before)
            q.quit()
        finally:
            again.stop()

    def test_plaintext_login_is_refused_before_stls(self):
        p = poplib.POP3("127.0.0.1", self.server.ports["pop3"], timeout=10)
        self.assertNotIn("USER", p.capa())
        with self.assertRaises(poplib.error_proto) as e:
            p.user(self.user)
        self.assertIn(b"[AUTH]", e.exception.args[0])
        p.quit()

    def test_wrong_password_and_bad_arguments(self):
        p = poplib.POP3_SSL("localhost", self.server.ports["pop3s"],
                            context=self.server.client_tls_context(), timeout=10)
        p.user(self.user)
        with self.assertRaises(poplib.error_proto) as e:
            p.pass_("wrong")
        self.assertIn(b"[AUTH]", e.exception.args[0])
        p.user(self.user)
        p.pass_(self.password)
        for command in ("RETR 0", "RETR 99999999999", "TOP 1 -1", "DELE", "LIST 1 2"):
            with self.assertRaises(poplib.error_proto, msg=command):
                p._shortcmd(command)
        p.quit()

    def test_pipelined_commands(self):
        self.empty_the_maildrop()
        self.deliver("piped")
        c = self.server.connect("pop3s")
        self.assertTrue(c.line().startswith("+OK"))
        c.send(f"USER {self.user}\r\nPASS {self.password}\r\nSTAT\r\nLIST 1\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n")
        lines = [c.line() for _ in range(7)]
        self.assertEqual(lines[0], "+OK Send your password")
        self.assertEqual(lines[1], "+OK Logged in")
        self.assertRegex(lines[2], r"^\+OK 1 \d+$")
        self.assertRegex(lines[3], r"^\+OK 1 \d+$")
        self.assertRegex(lines[4], r"^\+OK 1 [0-9A-F]{16}$")
        self.assertEqual(lines[5], "+OK")
        self.assertEqual(lines[6], "+OK Postino signing off")
        c.close()

    def test_a_large_message_arrives_whole(self):
        # Sent in 64 KB pieces by the server (never held whole); the bytes must be exact.
        self.empty_the_maildrop()
        line = b"0123456789" * 7 + b"\r\n"
        body = b"Subject: large\r\n\r\n" + line * (20 * 1024 * 1024 // len(line))
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=120) as s:
            s.sendmail("sender@remote.test", [self.user], body)
        p = self.login()
        resp, lines, octets = p.retr(1)
        self.assertTrue(resp.startswith(b"+OK"))
        got = b"\r\n".join(lines) + b"\r\n"
        self.assertTrue(got.endswith(body), (len(got), len(body)))
        p.quit()

    def test_curl_pop3_and_pop3s(self):
        self.empty_the_maildrop()
        self.deliver("curl")
        for url, extra in ((f"pop3://127.0.0.1:{self.server.ports['pop3']}/1", ["--ssl-reqd"]),
                           (f"pop3s://localhost:{self.server.ports['pop3s']}/1", [])):
            out = subprocess.run(["curl", "-sS", "--cacert", self.server.cert_file, *extra,
                                  "--user", f"{self.user}:{self.password}", url],
                                 capture_output=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn(b"Subject: curl", out.stdout)
            self.assertIn(b"body of curl", out.stdout)


if __name__ == "__main__":
    harness.main()
