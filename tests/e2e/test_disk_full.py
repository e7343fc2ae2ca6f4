"""A full disk (RELIABILITY F01), on a real one: the data directory is a small tmpfs,
filled by the test around the server. Short of space, MAIL is answered 452 4.3.1 before
any transfer; a write that fails during DATA is a temporary failure after the dot; IMAP
APPEND answers NO [UNAVAILABLE]; nothing half-written is left; once space is back the
same server delivers and appends again by itself, and fsck finds the store consistent.
Needs to mount a tmpfs (root, as `make test` runs here)."""

import imaplib
import os
import shutil
import smtplib
import subprocess
import tempfile
import unittest

import harness

MAX_MESSAGE = 256 * 1024  # smtp.max_message_bytes: MAIL needs 1.5 times this free

CONFIG = f"""
[smtp]
max_message_bytes = {MAX_MESSAGE}
"""


class DiskFullTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="postino-full-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.data = os.path.join(self.root, "data")
        os.makedirs(self.data)
        mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", self.data],
                               capture_output=True, text=True)
        if mount.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + mount.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", self.data], capture_output=True)
        self.filler = os.path.join(self.data, "filler")

    def free(self):
        st = os.statvfs(self.data)
        return st.f_bavail * st.f_frsize

    def leave_free(self, wanted):
        """Grows or shrinks the filler file until about `wanted` bytes are free."""
        if os.path.exists(self.filler):
            os.remove(self.filler)
        with open(self.filler, "wb") as f:
            chunk = b"\0" * 65536
            while self.free() - len(chunk) > wanted:
                f.write(chunk)
                f.flush()
                os.fsync(f.fileno())

    def message(self, subject, size):
        return f"Subject: {subject}\r\n\r\n" + ("x" * 78 + "\r\n") * (size // 80)

    def test_short_of_space_temporary_answers_and_back_by_itself(self):
        server = harness.DevServer(data=self.data, config=CONFIG,
                                   listen=["smtp", "imaps"]).start()
        try:
            user, password = server.demo_credentials()
            imap = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], timeout=10,
                                     ssl_context=server.client_tls_context())
            imap.login(user, password)

            # Less than 1.5 × max_message_bytes free: refused before the transfer.
            self.leave_free(MAX_MESSAGE)
            with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
                s.ehlo()
                code, text = s.mail("a@remote.test")
                self.assertEqual((code, text), (452, b"4.3.1 Insufficient system storage"))
                # APPEND of more than is free fails as the server's problem, not the user's.
                typ, data = imap.append("INBOX", None, None,
                                        self.message("append-full", 2 * MAX_MESSAGE).encode())
                self.assertEqual(typ, "NO")
                self.assertIn(b"[UNAVAILABLE]", data[0])

            # Enough space at MAIL, gone by the end of DATA: a temporary failure after it.
            self.leave_free(2 * MAX_MESSAGE)
            with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
                s.ehlo()
                self.assertEqual(s.mail("a@remote.test")[0], 250)
                self.assertEqual(s.rcpt(user)[0], 250)
                self.leave_free(16 * 1024)
                code, text = s.data(self.message("data-full", MAX_MESSAGE - 4096).encode())
                self.assertEqual(code // 100, 4, (code, text))
                self.assertTrue(text.startswith(b"4.3."), text)

            # Space is back: the same server works again, nothing half-written was kept.
            os.remove(self.filler)
            with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
                s.sendmail("a@remote.test", [user], self.message("after", 4096).encode())
            typ, data = imap.append("INBOX", None, None, self.message("append-after", 4096).encode())
            self.assertEqual(typ, "OK")
            imap.select("INBOX", readonly=True)
            typ, data = imap.search(None, "ALL")
            typ, subjects = imap.fetch(data[0].replace(b" ", b","),
                                       "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            found = sorted(s[1].decode().strip() for s in subjects if isinstance(s, tuple))
            self.assertEqual(found, ["Subject: after", "Subject: append-after"])
            imap.logout()
        finally:
            code, _ = server.stop()
            err = server.stderr()
            server.close()
        self.assertEqual(code, 0, err[-2000:])
        for marker in harness.SANITIZER_MARKERS:
            self.assertNotIn(marker, err)
        fsck = subprocess.run([harness.BINARY, "--data", self.data, "fsck"], capture_output=True,
                              text=True, timeout=120)
        self.assertEqual(fsck.returncode, 0, fsck.stdout + fsck.stderr)


if __name__ == "__main__":
    harness.main()
