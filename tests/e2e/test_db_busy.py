"""A database held by another process (RELIABILITY F03): while something else holds the
store's write lock (a backup tool, an administrator's sqlite3 shell), a message whose save
cannot get the lock within store.busy_timeout_seconds is refused for now, never lost and
never refused for good: SMTP DATA answers 451 4.3.0 (the sender retries) and IMAP APPEND
NO [UNAVAILABLE]; nothing half-saved is left; the same session succeeds once the lock is
gone; and a lock that clears within the timeout only delays the 250."""

import imaplib
import os
import smtplib
import sqlite3
import subprocess
import threading
import time

import harness

CONFIG = "[store]\nbusy_timeout_seconds = 2\n"


class DatabaseBusyTest(harness.ServerTestCase):
    config = CONFIG
    listen = ["smtp", "imaps"]

    def lock(self):
        """Another process's connection holding the write lock until closed."""
        db = sqlite3.connect(os.path.join(self.server.data, "store.db"), isolation_level=None,
                             timeout=10, check_same_thread=False)
        db.execute("BEGIN EXCLUSIVE")
        return db

    def imap(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imaps"], timeout=20,
                              ssl_context=self.server.client_tls_context())
        c.login(*self.server.demo_credentials())
        return c

    def inbox_count(self, c):
        typ, data = c.select("INBOX")
        self.assertEqual(typ, "OK")
        return int(data[0])

    def test_a_held_lock_gives_temporary_failures_then_service_resumes(self):
        user = self.server.demo_credentials()[0]
        c = self.imap()
        before = self.inbox_count(c)
        s = smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=20)
        s.ehlo("client.test")
        held = self.lock()
        try:
            s.mail("a@remote.test")
            s.rcpt(user)
            began = time.monotonic()
            code, text = s.data(b"Subject: during the lock\r\n\r\nx\r\n")
            waited = time.monotonic() - began
            self.assertEqual(code, 451, text)
            self.assertTrue(text.startswith(b"4.3.0"), text)
            self.assertGreaterEqual(waited, 1.5)  # it waited for the lock before giving up
            typ, data = c.append("INBOX", None, None, b"Subject: append\r\n\r\ny\r\n")
            self.assertEqual(typ, "NO")
            self.assertIn(b"[UNAVAILABLE]", data[0])
        finally:
            held.execute("ROLLBACK")
            held.close()
        # Nothing from the refused attempts; the same sessions work now.
        self.assertEqual(self.inbox_count(c), before)
        s.mail("a@remote.test")
        s.rcpt(user)
        code, text = s.data(b"Subject: after the lock\r\n\r\nx\r\n")
        self.assertEqual(code, 250, text)
        typ, data = c.append("INBOX", None, None, b"Subject: append\r\n\r\ny\r\n")
        self.assertEqual(typ, "OK", data)
        self.assertEqual(self.inbox_count(c), before + 2)
        s.quit()
        c.logout()

    def test_a_lock_that_clears_within_the_timeout_only_delays_the_reply(self):
        user = self.server.demo_credentials()[0]
        held = self.lock()
        threading.Timer(0.7, lambda: (held.execute("ROLLBACK"), held.close())).start()
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=20) as s:
            began = time.monotonic()
            s.sendmail("a@remote.test", [user], b"Subject: delayed\r\n\r\nz\r\n")
            self.assertGreaterEqual(time.monotonic() - began, 0.5)
        self.assertIn(b"Subject: delayed\r\n\r\nz\r\n",
                      [m[m.index(b"Subject:"):] for m in harness.stored(self.server, user)])

    @classmethod
    def tearDownClass(cls):
        data = cls.server.data
        super().tearDownClass()
        report = subprocess.run([harness.BINARY, "--data", data, "fsck"], capture_output=True,
                                text=True, timeout=60)
        assert report.returncode == 0, report.stdout + report.stderr


if __name__ == "__main__":
    harness.main()
