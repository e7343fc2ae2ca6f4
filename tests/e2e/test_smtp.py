"""SMTP end to end with real clients (RFC 5321, 6409, 4954, 3030): Python smtplib over
plain, STARTTLS and implicit TLS with AUTH PLAIN and LOGIN, swaks, curl; every delivered
message is read back from the store and compared byte for byte with what was sent plus
the trace headers. Negative cases: relay attempts, unknown users, AUTH before TLS,
limits, smuggling, NUL bytes, BDAT."""

import os
import re
import smtplib
import sqlite3
import subprocess
import threading

import harness

CONFIG = """
[server]
hostname = "mx.e2e.test"
[smtp]
max_message_bytes = 200000
max_recipients = 100
"""


class SmtpTest(harness.ServerTestCase):
    config = CONFIG

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        m = re.search(r"demo account (\S+)\s+password (\S+)", cls.server.banner)
        cls.user, cls.password = m.group(1), m.group(2)
        out = subprocess.run([harness.BINARY, "--data", cls.server.data, "user", "add",
                              "bob@example.test", "--password-stdin"], input="bobpw\n",
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr

    # -- reading the store back ---------------------------------------------------------
    def stored(self, address):
        """Every message in the account's INBOX, as bytes, in UID order."""
        return harness.stored(self.server, address)

    def queue(self):
        db = sqlite3.connect(os.path.join(self.server.data, "store.db"))
        rows = db.execute("SELECT q.queue_id, q.sender, r.address FROM queue q JOIN "
                          "queue_recipients r ON r.queue_row = q.id ORDER BY q.id").fetchall()
        db.close()
        return rows

    def assert_delivered(self, address, sent, sender, before):
        messages = self.stored(address)
        self.assertEqual(len(messages), before + 1)
        got = messages[-1]
        self.assertTrue(got.startswith(b"Return-Path: <" + sender.encode() + b">\r\nReceived: from "), got[:200])
        self.assertTrue(got.endswith(sent), (got[-200:], sent[-200:]))
        header = got[: len(got) - len(sent)]
        self.assertRegex(header.decode(), r"by mx\.e2e\.test \(Postino\) with E?SMTP")
        return got

    # -- real clients -------------------------------------------------------------------
    def test_smtplib_plain_delivery_byte_for_byte(self):
        before = len(self.stored("demo@example.test"))
        body = (b"From: Alice <alice@remote.test>\r\nTo: demo@example.test\r\nSubject: plain\r\n\r\n"
                b".leading dot\r\nline two\r\n" + "caf\u00e9".encode() + b"\r\n")
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.ehlo("client.remote.test")
            self.assertTrue(s.has_extn("pipelining") and s.has_extn("8bitmime") and s.has_extn("chunking"))
            self.assertEqual(s.esmtp_features["size"], "200000")
            refused = s.sendmail("alice@remote.test", ["demo@example.test"], body, mail_options=["BODY=8BITMIME"])
            self.assertEqual(refused, {})
        got = self.assert_delivered("demo@example.test", body, "alice@remote.test", before)
        self.assertIn(b"with ESMTP\r\n", got)

    def test_starttls_on_port_25_is_recorded_in_received(self):
        before = len(self.stored("demo@example.test"))
        body = b"Subject: tls\r\n\r\nover TLS\r\n"
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.starttls(context=self.server.client_tls_context())
            s.sendmail("alice@remote.test", ["demo@example.test"], body)
        got = self.assert_delivered("demo@example.test", body, "alice@remote.test", before)
        self.assertRegex(got.decode(), r"with ESMTPS \(TLSv1\.[23] with cipher \S+\)")

    def test_submission_with_auth_plain_and_login_and_smtps(self):
        before = len(self.stored("bob@example.test"))
        ctx = self.server.client_tls_context()
        with smtplib.SMTP("127.0.0.1", self.server.ports["submission"], timeout=10) as s:
            s.starttls(context=ctx)
            s.ehlo()
            self.assertIn("PLAIN", s.esmtp_features["auth"])
            s.user, s.password = self.user, self.password
            code, reply = s.auth("PLAIN", s.auth_plain)
            self.assertEqual(code, 235, reply)
            s.sendmail(self.user, ["bob@example.test"],
                       b"Subject: plain auth\r\nBcc: secret@remote.test\r\n\r\nhi bob\r\n")
        with smtplib.SMTP_SSL("localhost", self.server.ports["submissions"], context=ctx, timeout=10) as s:
            s.ehlo()  # AUTH before EHLO gets 503 5.5.1, as from Postfix
            s.user, s.password = self.user, self.password
            code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
            self.assertEqual(code, 235)
            s.sendmail(self.user, ["bob@example.test"], b"Subject: login auth\r\n\r\nagain\r\n")
        messages = self.stored("bob@example.test")
        self.assertEqual(len(messages), before + 2)
        self.assertNotIn(b"secret@remote.test", messages[-2])  # Bcc removed on submission
        self.assertIn(b"with ESMTPSA", messages[-2])
        self.assertTrue(messages[-1].endswith(b"Subject: login auth\r\n\r\nagain\r\n"))

    def test_submission_to_a_remote_domain_is_queued(self):
        with smtplib.SMTP_SSL("localhost", self.server.ports["submissions"],
                              context=self.server.client_tls_context(), timeout=10) as s:
            s.login(self.user, self.password)
            s.sendmail(self.user, ["far@remote.test"], b"Subject: out\r\n\r\nto the world\r\n",
                       rcpt_options=["NOTIFY=FAILURE,DELAY"])
        self.assertIn((self.user, "far@remote.test"), [(q[1], q[2]) for q in self.queue()])

    def test_swaks_pipelining_and_auth(self):
        before = len(self.stored("demo@example.test"))
        out = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.server.ports['smtp']}",
                              "--to", "demo@example.test", "--from", "swaks@remote.test",
                              "--pipeline", "--helo", "swaks.test", "--body", "piped"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(len(self.stored("demo@example.test")), before + 1)
        out = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.server.ports['submission']}",
                              "--tls", "--auth", "LOGIN", "--auth-user", self.user,
                              "--auth-password", self.password, "--to", "demo@example.test",
                              "--from", self.user], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("235 2.7.0", out.stdout)
        out = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.server.ports['submission']}",
                              "--tls", "--auth", "PLAIN", "--auth-user", self.user,
                              "--auth-password", "wrong", "--to", "demo@example.test"],
                             capture_output=True, text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("535 5.7.8", out.stdout)
        out = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.server.ports['smtp']}",
                              "--to", "nobody@example.test"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("550 5.1.1", out.stdout)

    def test_swaks_implicit_tls_and_a_long_line(self):
        # RELIABILITY S09: a 150 KB line inside the size limit is stored whole, never split
        # into new header lines.
        before = len(self.stored("demo@example.test"))
        long_line = "L" * 150000
        data = os.path.join(self.server.dir, "long.eml")
        with open(data, "w") as f:
            f.write(f"Subject: long\r\n\r\n{long_line}\r\nend\r\n")
        out = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.server.ports['submissions']}",
                              "--tlsc", "--auth", "PLAIN", "--auth-user", self.user,
                              "--auth-password", self.password, "--to", "demo@example.test",
                              "--from", self.user, "--data", "@" + data],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout[-2000:] + out.stderr)
        messages = self.stored("demo@example.test")
        self.assertEqual(len(messages), before + 1)
        self.assertIn(b"\r\n" + long_line.encode() + b"\r\nend\r\n", messages[-1])

    def test_curl_smtp_and_smtps(self):
        before = len(self.stored("demo@example.test"))
        mail = os.path.join(self.server.dir, "curl.eml")
        with open(mail, "wb") as f:
            f.write(b"Subject: curl\r\n\r\nsent by curl\r\n")
        out = subprocess.run(["curl", "-sS", f"smtp://127.0.0.1:{self.server.ports['smtp']}",
                              "--mail-from", "curl@remote.test", "--mail-rcpt", "demo@example.test",
                              "--upload-file", mail], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        out = subprocess.run(["curl", "-sS", "--cacert", self.server.cert_file,
                              f"smtps://localhost:{self.server.ports['submissions']}",
                              "--user", f"{self.user}:{self.password}", "--mail-from", self.user,
                              "--mail-rcpt", "demo@example.test", "--upload-file", mail],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        messages = self.stored("demo@example.test")
        self.assertEqual(len(messages), before + 2)
        self.assertTrue(all(m.endswith(b"Subject: curl\r\n\r\nsent by curl\r\n") for m in messages[-2:]))

    def test_many_sessions_at_once(self):
        before = len(self.stored("bob@example.test"))
        errors = []

        def send(i):
            try:
                with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=20) as s:
                    for k in range(3):
                        s.sendmail("load@remote.test", ["bob@example.test"],
                                   f"Subject: load {i}-{k}\r\n\r\nx\r\n".encode())
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(len(self.stored("bob@example.test")), before + 60)

    # -- hostile and negative ---------------------------------------------------------
    def raw(self, proto="smtp"):
        c = self.server.connect(proto)
        self.assertTrue(c.line().startswith("220 "))
        return c

    def test_open_relay_attempts_are_refused(self):
        c = self.raw()
        c.send("EHLO x\r\nMAIL FROM:<a@remote.test>\r\n")
        c.smtp_reply()
        self.assertEqual(c.smtp_reply(), ["250 2.1.0 Ok"])
        for rcpt in ("v@external.example", "v@[203.0.113.5]", "@example.test:v@external.example"):
            c.send(f"RCPT TO:<{rcpt}>\r\n")
            self.assertRegex(c.line(), r"^554 5\.7\.1 <.*>: Relay access denied$")
        for rcpt in ('"v@external.example"', "v@external.example@example.test", "external.example!v"):
            c.send(f"RCPT TO:<{rcpt}>\r\n")
            self.assertRegex(c.line(), r"^501 5\.1\.3 ")
        c.send("RCPT TO:<v%external.example@example.test>\r\n")
        self.assertRegex(c.line(), r"^550 5\.1\.1 ")
        c.send("VRFY demo\r\nEXPN x\r\n")
        self.assertEqual(c.line()[:3], "252")
        self.assertEqual(c.line()[:3], "502")
        c.close()
        # Submission without AUTH cannot send anywhere.
        d = self.raw("submission")
        d.send("EHLO x\r\nSTARTTLS\r\n")
        d.smtp_reply()
        d.smtp_reply()
        d.starttls()
        d.send("EHLO x\r\nMAIL FROM:<demo@example.test>\r\n")
        d.smtp_reply()
        self.assertEqual(d.line(), "530 5.7.0 Authentication required")
        d.close()

    def test_limits_recipients_and_size(self):
        c = self.raw()
        c.send("EHLO x\r\nMAIL FROM:<a@remote.test>\r\n")
        c.smtp_reply()
        c.smtp_reply()
        c.send("".join(f"RCPT TO:<demo+{i}@example.test>\r\n" for i in range(103)))
        replies = [c.line() for _ in range(103)]
        self.assertEqual(replies[:100], ["250 2.1.5 Ok"] * 100)
        self.assertEqual(replies[100:], ["452 4.5.3 Error: too many recipients"] * 3)
        c.send("RSET\r\nMAIL FROM:<a@remote.test> SIZE=999999999999\r\n")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        self.assertEqual(c.line(), "552 5.3.4 Message size exceeds fixed limit")
        c.send("MAIL FROM:<a@remote.test>\r\nRCPT TO:<demo@example.test>\r\n")
        c.line()
        c.line()
        c.send("DATA\r\n")
        self.assertEqual(c.line()[:3], "354")
        c.send(b"x" * 300000 + b"\r\n.\r\n")
        self.assertEqual(c.line(), "552 5.3.4 Error: message file too big")
        c.send("NOOP\r\n")
        self.assertEqual(c.line(), "250 2.0.0 Ok")
        c.close()

    def test_smuggling_delivers_exactly_one_message(self):
        before = len(self.stored("bob@example.test"))
        variants = [b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r", b"\r.\n", b"\n.\r",
                    b"\r\n\x00.\r\n", b"\r\n.\r\r\n"]
        for fake in variants:
            c = self.raw()
            c.send("EHLO x\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<bob@example.test>\r\n")
            c.smtp_reply()
            c.line()
            c.line()
            c.send("DATA\r\n")
            self.assertEqual(c.line()[:3], "354")
            c.send(b"x" + fake + b"MAIL FROM:<s@x>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
                   b"Subject: smuggled\r\n\r\ny\r\n.\r\n")
            self.assertRegex(c.line(), r"^250 2\.0\.0 Ok: queued as ")
            c.send("QUIT\r\n")
            self.assertEqual(c.line(), "221 2.0.0 Bye")
            c.close()
        messages = self.stored("bob@example.test")
        self.assertEqual(len(messages), before + len(variants))
        self.assertFalse(any(b"Subject: smuggled\r\n" in m.split(b"\r\n\r\n", 1)[0] for m in messages))

    def test_pipelining_past_data_is_refused_without_auth(self):
        c = self.raw()
        c.send("EHLO x\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
               "body\r\n.\r\nMAIL FROM:<b@remote.test>\r\n")
        lines = c.until(lambda l: l.startswith("554") or l.startswith("354"))
        self.assertEqual(lines[-1], "554 5.5.0 Error: SMTP protocol synchronization")
        self.assertTrue(c.is_closed())

    def test_nul_bytes_and_bad_parameters(self):
        c = self.raw()
        c.send(b"EHLO x\r\nMAIL FROM:<a\x00b@x>\r\n")
        c.smtp_reply()
        self.assertRegex(c.line(), r"^50[01] 5\.")
        for arg in ("<a@b> AUTH=Raven+0AReyes", "<a@b> ENVID=a+00b", "<a@b> X=\"", "<a@b> =",
                    "<a@b> SIZE=99999999999999999999999"):
            c.send(f"MAIL FROM:{arg}\r\n")
            self.assertRegex(c.line(), r"^5(01|55) 5\.5\.4 ", arg)
        c.send("MAIL FROM:<a@b>\r\n")
        self.assertEqual(c.line(), "250 2.1.0 Ok")
        c.send("RCPT TO:<demo@example.test> NOTIFY=FAILURE ORCPT=rfc822;x+0D+0AX-Injected:+201\r\n")
        self.assertEqual(c.line(), "501 5.5.4 Syntax error in parameters")
        c.close()

    def test_bdat(self):
        before = len(self.stored("demo@example.test"))
        c = self.raw()
        c.send("EHLO x\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<demo@example.test>\r\n")
        c.smtp_reply()
        c.line()
        c.line()
        c.send(b"BDAT 14\r\nSubject: b\r\n\r\nBDAT 4 LAST\r\nbody")
        self.assertEqual(c.line(), "250 2.0.0 14 octets received")
        self.assertRegex(c.line(), r"^250 2\.0\.0 Ok: queued as ")
        c.send(b"MAIL FROM:<a@remote.test>\r\nRCPT TO:<demo@example.test>\r\nBDAT 300000\r\n" + b"z" * 300000)
        c.line()
        c.line()
        self.assertEqual(c.line(), "552 5.3.4 Error: message file too big")
        c.send("BDAT -1\r\nBDAT 0 LAST\r\n")
        self.assertEqual(c.line(), "501 5.5.4 Syntax: BDAT size [LAST]")
        self.assertEqual(c.line(), "503 5.5.1 Error: need MAIL command")
        c.close()
        messages = self.stored("demo@example.test")
        self.assertEqual(len(messages), before + 1)
        self.assertTrue(messages[-1].endswith(b"Subject: b\r\n\r\nbody"))


if __name__ == "__main__":
    harness.main()
