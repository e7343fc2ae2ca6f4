"""Corruption at rest (RELIABILITY C05): with the server stopped, one message's body file
is deleted, another's zeroed, and a stray temporary file and an orphan body file are left
in the blob directory. The server starts and serves the intact messages; a message whose
file is gone answers NO [SERVERBUG] and the session goes on (one zeroed in place is served
as it is: only fsck reads every file against its hash); `postino fsck` names each problem; `fsck --repair`
takes the damaged messages out (named in its report, the quarantine record) and the next
start finds a consistent store with the rest intact and the strays gone."""

import imaplib
import os
import shutil
import signal
import smtplib
import sqlite3
import subprocess
import tempfile
import unittest

import harness


def blob_path(data, blob_id):
    for path in (os.path.join(data, "blobs", "new", blob_id),
                 os.path.join(data, "blobs", blob_id[:2], blob_id)):
        if os.path.exists(path):
            return path
    raise AssertionError(f"no file for blob {blob_id}")


class CorruptionTest(unittest.TestCase):
    def fsck(self, data, *args):
        return subprocess.run([harness.BINARY, "--data", data, "fsck", *args],
                              capture_output=True, text=True, timeout=120)

    def imap(self, server):
        c = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], timeout=10,
                              ssl_context=server.client_tls_context())
        c.login(*server.demo_credentials())
        return c

    def test_damaged_bodies_are_found_and_quarantined_the_rest_is_served(self):
        root = tempfile.mkdtemp(prefix="postino-corrupt-")
        self.addCleanup(shutil.rmtree, root, True)
        data = os.path.join(root, "data")
        server = harness.DevServer(data=data, listen=["smtp", "imaps"]).start()
        user = server.demo_credentials()[0]
        with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
            for i in range(1, 5):
                s.sendmail("a@remote.test", [user], f"Subject: m{i}\r\n\r\nbody {i}\r\n".encode())
        server.stop(sig=signal.SIGTERM)
        server.close()

        with sqlite3.connect(os.path.join(data, "store.db")) as db:
            blobs = dict(db.execute(
                "SELECT m.uid, m.blob_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id "
                "WHERE b.name = 'INBOX' ORDER BY m.uid"))
        self.assertEqual(len(blobs), 4)
        uids = sorted(blobs)
        os.remove(blob_path(data, blobs[uids[1]]))                  # m2: gone
        zeroed = blob_path(data, blobs[uids[2]])                    # m3: zeroed
        size = os.path.getsize(zeroed)
        os.chmod(zeroed, 0o600)
        with open(zeroed, "wb") as f:
            f.write(b"\0" * size)
        os.makedirs(os.path.join(data, "blobs", "tmp"), exist_ok=True)
        stray = os.path.join(data, "blobs", "tmp", "blob.1.2")       # a save cut short
        with open(stray, "wb") as f:
            f.write(b"half a message")
        orphan = os.path.join(data, "blobs", "ff", "ff", "f" * 64)  # a body without a row
        os.makedirs(os.path.dirname(orphan), exist_ok=True)
        with open(orphan, "wb") as f:
            f.write(b"Subject: orphan\r\n\r\nx\r\n")

        # The server starts and serves what is intact; a damaged message answers NO.
        server = harness.DevServer(data=data, listen=["imaps"]).start()
        try:
            c = self.imap(server)
            typ, data_ = c.select("INBOX")
            self.assertEqual(data_, [b"4"])
            typ, got = c.fetch("1", "(BODY.PEEK[TEXT])")
            self.assertEqual((typ, got[0][1]), ("OK", b"body 1\r\n"))
            typ, got = c.fetch("2", "(BODY.PEEK[TEXT])")
            self.assertEqual(typ, "NO")
            self.assertIn(b"[SERVERBUG]", got[0])
            self.assertEqual(c.noop()[0], "OK")  # the session goes on
            typ, got = c.fetch("4", "(BODY.PEEK[TEXT])")
            self.assertEqual((typ, got[0][1]), ("OK", b"body 4\r\n"))
            c.logout()
        finally:
            code, _ = server.stop()
            err = server.stderr()
            server.close()
        self.assertEqual(code, 0, err[-2000:])
        self.assertFalse(os.path.exists(stray), "the stray temporary file was left")

        report = self.fsck(data)
        self.assertNotEqual(report.returncode, 0)
        self.assertIn(f"blob {blobs[uids[1]]} is missing", report.stdout)
        self.assertIn(f"blob {blobs[uids[2]]} does not match its hash", report.stdout)
        self.assertIn(f"blob file {'f' * 64} has no row", report.stdout)
        repaired = self.fsck(data, "--repair")
        self.assertIn(f"removed message UID {uids[1]} in INBOX", repaired.stdout)
        self.assertIn(f"removed message UID {uids[2]} in INBOX", repaired.stdout)
        self.assertIn(f"removed damaged blob file {blobs[uids[2]]}", repaired.stdout)

        server = harness.DevServer(data=data, listen=["imaps"]).start()
        try:
            c = self.imap(server)
            typ, data_ = c.select("INBOX")
            self.assertEqual(data_, [b"2"])
            typ, got = c.fetch("1:*", "(BODY.PEEK[TEXT])")
            self.assertEqual([g[1] for g in got if isinstance(g, tuple)],
                             [b"body 1\r\n", b"body 4\r\n"])
            c.logout()
        finally:
            server.stop()
            server.close()
        # Clean but for the orphan, which waits out its grace period (store.blob_grace).
        again = self.fsck(data)
        self.assertNotIn("is missing", again.stdout)
        self.assertNotIn("does not match", again.stdout)


if __name__ == "__main__":
    harness.main()
