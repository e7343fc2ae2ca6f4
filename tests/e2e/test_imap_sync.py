"""IMAP for several devices at once (RFC 3501 §5.2, §7.4.1; RFC 2177 IDLE): two sessions
on one mailbox, side by side, with the exact untagged responses each is owed: new mail
delivered by SMTP, flags set and messages expunged by the other session, reaching an
idling client within a second of the commit; nothing but DONE ends IDLE."""

import re
import smtplib
import socket
import time

import harness

WITHIN = 1.0  # seconds: a change reaches an idling client this fast (issue: one second)


class Imap:
    """A raw IMAP session over TLS (port 993) that reads responses line by line."""

    def __init__(self, server, user, password):
        sock = socket.create_connection(("127.0.0.1", server.ports["imaps"]), timeout=10)
        self.sock = server.client_tls_context().wrap_socket(sock, server_hostname="localhost")
        self.buffer = b""
        self.next_tag = 0
        self.line()  # greeting
        self.command(f'LOGIN "{user}" "{password}"')

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def line(self, timeout=10):
        self.sock.settimeout(timeout)
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode()

    def command(self, text):
        """Sends a tagged command; returns (untagged lines, tagged line)."""
        self.next_tag += 1
        tag = f"t{self.next_tag}"
        self.send(f"{tag} {text}")
        untagged = []
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                assert line.startswith(tag + " OK"), line
                return untagged, line
            untagged.append(line)

    def untagged_within(self, seconds, count):
        """The untagged lines that arrive within `seconds`, until `count` have come."""
        got = []
        deadline = time.monotonic() + seconds
        while len(got) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                got.append(self.line(timeout=left))
            except (socket.timeout, TimeoutError):
                break
        return got

    def close(self):
        try:
            self.command("LOGOUT")
        except (OSError, AssertionError, ConnectionError):
            pass
        self.sock.close()


class ImapSyncTest(harness.ServerTestCase):
    listen = ["imaps", "smtp"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user, cls.password = cls.server.demo_credentials()

    def deliver(self, subject):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("someone@remote.test", [self.user],
                       f"Subject: {subject}\r\n\r\nbody\r\n".encode())

    def setUp(self):
        # Each test starts from an empty INBOX.
        a = Imap(self.server, self.user, self.password)
        a.command("SELECT INBOX")
        if self.count(a):
            a.command("STORE 1:* +FLAGS.SILENT (\\Deleted)")
            a.command("EXPUNGE")
        a.close()

    @staticmethod
    def count(session):
        untagged, _ = session.command("STATUS INBOX (MESSAGES)")
        return int(re.search(r"MESSAGES (\d+)", untagged[0]).group(1))

    def test_idle_hears_new_mail_flags_and_expunges_within_a_second(self):
        a = Imap(self.server, self.user, self.password)
        b = Imap(self.server, self.user, self.password)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        self.assertIn("IDLE", a.command("CAPABILITY")[0][0])
        self.deliver("first")
        untagged, _ = a.command("SELECT INBOX")
        self.assertIn("* 1 EXISTS", untagged)
        b.command("SELECT INBOX")

        a.send("i1 IDLE")
        self.assertEqual(a.line(), "+ idling")
        # New mail over SMTP.
        began = time.monotonic()
        self.deliver("second")
        self.assertEqual(a.untagged_within(WITHIN, 1), ["* 2 EXISTS"])
        self.assertLess(time.monotonic() - began, WITHIN + 0.5)
        # A flag set by the other session.
        b.command("STORE 1 +FLAGS.SILENT (\\Seen)")
        self.assertEqual(a.untagged_within(WITHIN, 1), ["* 1 FETCH (FLAGS (\\Seen))"])
        # A message expunged by the other session.
        b.command("STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.command("EXPUNGE")
        got = a.untagged_within(WITHIN, 1)
        if got and got[0].startswith("* 1 FETCH"):
            # The flag change may be seen on its own, before the expunge is committed.
            self.assertEqual(got, ["* 1 FETCH (FLAGS (\\Seen \\Deleted))"])
            got = a.untagged_within(WITHIN, 1)
        self.assertEqual(got, ["* 1 EXPUNGE"])
        a.send("DONE")
        self.assertEqual(a.line(), "i1 OK IDLE terminated")
        # Sequence numbers moved on: message 1 is now "second".
        untagged, _ = a.command("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn("Subject: second", untagged)

    def test_a_session_that_does_not_idle_hears_of_changes_at_noop_only(self):
        a = Imap(self.server, self.user, self.password)
        b = Imap(self.server, self.user, self.password)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        self.deliver("one")
        a.command("SELECT INBOX")
        b.command("SELECT INBOX")
        b.command("STORE 1 +FLAGS.SILENT (\\Flagged)")
        self.deliver("two")
        # Nothing arrives unasked (RFC 3501 §5.2: at a command's end, not in between).
        self.assertEqual(a.untagged_within(0.5, 1), [])
        untagged, _ = a.command("NOOP")
        self.assertEqual(untagged, ["* 1 FETCH (FLAGS (\\Flagged))", "* 2 EXISTS"])
        # FETCH, STORE and SEARCH never carry an EXPUNGE; NOOP does.
        b.command("STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.command("EXPUNGE")
        untagged, _ = a.command("FETCH 2 (FLAGS)")
        self.assertFalse([u for u in untagged if u.endswith("EXPUNGE")], untagged)
        untagged, _ = a.command("NOOP")
        self.assertIn("* 1 EXPUNGE", untagged)

    def test_a_fetch_of_a_message_another_session_expunged_is_refused_never_cut(self):
        a = Imap(self.server, self.user, self.password)
        b = Imap(self.server, self.user, self.password)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        self.deliver("one")
        self.deliver("two")
        a.command("SELECT INBOX")
        b.command("SELECT INBOX")
        b.command("STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.command("EXPUNGE")
        # RFC 5530: the message this session still numbers 1 is gone: NO [EXPUNGEISSUED],
        # no EXPUNGE in the middle of a FETCH (RFC 3501 §7.4.1), no partial literal.
        a.send("f1 FETCH 1:2 (BODY.PEEK[])")
        self.assertEqual(a.line(), "f1 NO [EXPUNGEISSUED] Some messages were expunged")
        untagged, _ = a.command("NOOP")
        self.assertEqual(untagged, ["* 1 EXPUNGE"])
        untagged, _ = a.command("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn("Subject: two", untagged)

    def test_a_device_that_was_away_resyncs_with_qresync(self):
        phone = Imap(self.server, self.user, self.password)
        laptop = Imap(self.server, self.user, self.password)
        self.addCleanup(phone.close)
        self.addCleanup(laptop.close)
        for subject in ("q1", "q2", "q3"):
            self.deliver(subject)
        self.assertEqual(phone.command("ENABLE QRESYNC")[0], ["* ENABLED QRESYNC"])
        untagged, _ = phone.command("SELECT INBOX")
        validity = re.search(r"UIDVALIDITY (\d+)", " ".join(untagged)).group(1)
        modseq = int(re.search(r"HIGHESTMODSEQ (\d+)", " ".join(untagged)).group(1))
        uids = [int(u) for u in re.findall(r"UID (\d+)", " ".join(phone.command("FETCH 1:* (UID)")[0]))]
        phone.command("LOGOUT")
        # While the phone is away, the laptop flags one message and deletes another.
        laptop.command("SELECT INBOX")
        laptop.command(f"UID STORE {uids[2]} +FLAGS.SILENT (\\Answered)")
        laptop.command(f"UID STORE {uids[0]} +FLAGS.SILENT (\\Deleted)")
        laptop.command("EXPUNGE")
        # The phone comes back: only what changed, in one round trip (RFC 7162 §3.2.5).
        back = Imap(self.server, self.user, self.password)
        self.addCleanup(back.close)
        back.command("ENABLE QRESYNC")
        untagged, _ = back.command(f"SELECT INBOX (QRESYNC ({validity} {modseq} "
                                   f"{uids[0]}:{uids[2]}))")
        self.assertIn(f"* VANISHED (EARLIER) {uids[0]}", untagged)
        changed = [u for u in untagged if "FETCH" in u]
        self.assertEqual(len(changed), 1, untagged)
        self.assertRegex(changed[0], rf"^\* 2 FETCH \(UID {uids[2]} FLAGS \(\\Answered\) "
                                     r"MODSEQ \(\d+\)\)$")
        # And from then on expunges come as VANISHED.
        laptop.command(f"UID STORE {uids[1]} +FLAGS.SILENT (\\Deleted)")
        laptop.command("EXPUNGE")
        untagged, _ = back.command("NOOP")
        self.assertIn(f"* VANISHED {uids[1]}", untagged)

    def test_imaplib2_idle_callback_hears_new_mail(self):
        """python3-imaplib2, a client library built around IDLE, as a mail notifier uses it."""
        import threading
        import imaplib2
        m = imaplib2.IMAP4_SSL("localhost", self.server.ports["imaps"],
                               ca_certs=self.server.cert_file, timeout=10)
        self.addCleanup(m.logout)
        m.login(self.user, self.password)
        m.select("INBOX")
        heard = threading.Event()
        result = {}

        def callback(args):
            result["args"] = args
            heard.set()

        m.idle(timeout=30, callback=callback)
        time.sleep(0.3)  # the IDLE is under way
        began = time.monotonic()
        self.deliver("for imaplib2")
        self.assertTrue(heard.wait(10), "IDLE did not end on new mail")
        self.assertLess(time.monotonic() - began, 2 * WITHIN)
        typ, data = result["args"][0]
        self.assertEqual(typ, "OK")
        self.assertTrue(m.response("EXISTS")[1][0])

    def test_idle_ends_with_done_only(self):
        a = Imap(self.server, self.user, self.password)
        self.addCleanup(a.close)
        a.command("SELECT INBOX")
        a.send("i1 IDLE")
        self.assertEqual(a.line(), "+ idling")
        a.send("NOOP")
        self.assertEqual(a.line(), "i1 BAD Expected DONE to end IDLE")
        a.command("NOOP")  # the session goes on
        # IDLE with nothing selected: allowed, nothing to report.
        c = Imap(self.server, self.user, self.password)
        self.addCleanup(c.close)
        c.send("i2 IDLE")
        self.assertEqual(c.line(), "+ idling")
        c.send("done")
        self.assertEqual(c.line(), "i2 OK IDLE terminated")


if __name__ == "__main__":
    harness.main()
