"""Corruption at rest (RELIABILITY C05): with the server stopped, one message's body is
deleted, another's zeroed, and a stray temporary file and an orphan body file are left in
the blob directory. Three times: with the bodies in the database (small ones are, by
default: store.inline_body_bytes), in the body log (store.log_body_bytes) and with every
body a file of its own.

- With the scrub (the default), the server starts, serves the intact messages at once, and
  its first scrub pass finds the two damaged bodies: the zeroed file is moved to
  quarantine/ beside a note of what it was (the lost one gets a note), the two messages are
  expunged as any expunge (a client in the mailbox is told), an error is logged for each;
  the stray temporary file is gone and fsck finds nothing but the orphan, which waits out
  its grace period.
- Without it (store.scrub_bytes_per_second = 0), a message whose file is gone answers
  NO [SERVERBUG] and the session goes on (one zeroed in place is served as it is);
  `postino fsck` names each problem; `fsck --repair` takes the damaged messages out and
  the next start finds a consistent store with the rest intact and the strays gone."""

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
    return None


def body_place(data, blob_id):
    """(segment file, offset, size) of a body kept in the body log, or None."""
    with sqlite3.connect(os.path.join(data, "store.db")) as db:
        row = db.execute("SELECT segment, offset, size FROM blob_places WHERE blob_id = ?",
                         (blob_id,)).fetchone()
    if row is None:
        return None
    return os.path.join(data, "segments", f"{row[0]:010d}.seg"), row[1], row[2]


def lose(data, blob_id):
    """Deletes a body wherever it is kept: its row of bytes, its place in the body log (the
    segment's other bodies stay), or its file."""
    with sqlite3.connect(os.path.join(data, "store.db")) as db:
        gone = db.execute("DELETE FROM blob_bytes WHERE blob_id = ?", (blob_id,)).rowcount
        gone += db.execute("DELETE FROM blob_places WHERE blob_id = ?", (blob_id,)).rowcount
    if not gone:
        os.remove(blob_path(data, blob_id))


def zero(data, blob_id):
    """Zeroes a body in place, keeping its size."""
    with sqlite3.connect(os.path.join(data, "store.db")) as db:
        zeroed = db.execute("UPDATE blob_bytes SET bytes = zeroblob(length(bytes)) "
                            "WHERE blob_id = ?", (blob_id,)).rowcount
    if zeroed:
        return
    place = body_place(data, blob_id)
    if place:
        path, offset, size = place
        with open(path, "r+b") as f:
            f.seek(offset)
            f.write(b"\0" * size)
        return
    path = blob_path(data, blob_id)
    size = os.path.getsize(path)
    os.chmod(path, 0o600)
    with open(path, "wb") as f:
        f.write(b"\0" * size)


class CorruptionTest(unittest.TestCase):
    config = ""  # the default: these small bodies are kept in the database
    in_files = False
    def fsck(self, data, *args):
        return subprocess.run([harness.BINARY, "--data", data, "fsck", *args],
                              capture_output=True, text=True, timeout=120)

    def imap(self, server):
        c = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], timeout=10,
                              ssl_context=server.client_tls_context())
        c.login(*server.demo_credentials())
        return c

    def damaged_store(self):
        """A data directory whose INBOX holds m1..m4 with m2's body deleted and m3's zeroed,
        a stray temporary file and an orphan body; returns (data, {uid: blob}, stray)."""
        root = tempfile.mkdtemp(prefix="postino-corrupt-")
        self.addCleanup(shutil.rmtree, root, True)
        data = os.path.join(root, "data")
        server = harness.DevServer(data=data, listen=["smtp", "imaps"],
                                   config=self.config).start()
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
        in_files = [blob_path(data, b) is not None for b in blobs.values()]
        self.assertEqual(in_files, [self.in_files] * 4)
        lose(data, blobs[uids[1]])                                  # m2: gone
        zero(data, blobs[uids[2]])                                  # m3: zeroed
        os.makedirs(os.path.join(data, "blobs", "tmp"), exist_ok=True)
        stray = os.path.join(data, "blobs", "tmp", "blob.1.2")       # a save cut short
        with open(stray, "wb") as f:
            f.write(b"half a message")
        orphan = os.path.join(data, "blobs", "ff", "ff", "f" * 64)  # a body without a row
        os.makedirs(os.path.dirname(orphan), exist_ok=True)
        with open(orphan, "wb") as f:
            f.write(b"Subject: orphan\r\n\r\nx\r\n")
        return data, blobs, stray

    def test_the_scrub_quarantines_damaged_bodies_at_start_and_serves_the_rest(self):
        data, blobs, stray = self.damaged_store()
        uids = sorted(blobs)
        user = None
        # The first pass starts a second after start-up (store.scrub_start_delay_seconds;
        # a minute by default, off the restart's cold reads).
        server = harness.DevServer(data=data, listen=["imaps"],
                                   config="[store]\nscrub_start_delay_seconds = 1\n").start()
        try:
            user = server.demo_credentials()[0]
            c = self.imap(server)
            # Served at once: the scrub runs beside the server, not before it.
            self.assertEqual(c.select("INBOX")[0], "OK")
            finished = server.wait_for_log(lambda line: "event=store.scrub_finished" in line)
            self.assertIn("quarantined=2", finished)
            quarantined = [line for line in server.log_lines() if "event=store.quarantined" in line]
            self.assertEqual(len(quarantined), 2, quarantined)
            self.assertTrue(any(f"blob {blobs[uids[1]]} is missing: message UID {uids[1]} in INBOX"
                                f" of {user}: expunged" in line for line in quarantined))
            self.assertTrue(any(f"blob {blobs[uids[2]]} does not match its hash: message UID "
                                f"{uids[2]} in INBOX of {user}: expunged" in line
                                for line in quarantined))
            self.assertTrue(all(" level=error " in f" {line} " or "[error]" in line
                                for line in quarantined))
            # The selected session is told, as of any expunge, at its next command.
            typ, _ = c.noop()
            self.assertEqual(typ, "OK")
            typ, got = c.fetch("1:*", "(UID BODY.PEEK[TEXT])")
            self.assertEqual([g[1] for g in got if isinstance(g, tuple)],
                             [b"body 1\r\n", b"body 4\r\n"])
            c.logout()
        finally:
            code, _ = server.stop()
            err = server.stderr()
            server.close()
        self.assertEqual(code, 0, err[-2000:])
        self.assertFalse(harness.sanitizer_report(err), err[-3000:])
        self.assertFalse(os.path.exists(stray), "the stray temporary file was left")
        # The zeroed file is kept in quarantine/ with a note; the lost one has its note.
        quarantine = os.path.join(data, "quarantine")
        with open(os.path.join(quarantine, blobs[uids[2]]), "rb") as f:
            self.assertEqual(set(f.read()), {0})
        with open(os.path.join(quarantine, blobs[uids[2]] + ".txt")) as f:
            self.assertIn(f"message UID {uids[2]} in INBOX of {user}: expunged", f.read())
        self.assertTrue(os.path.exists(os.path.join(quarantine, blobs[uids[1]] + ".txt")))
        # Consistent but for the orphan, which waits out its grace period.
        report = self.fsck(data)
        problems = [line for line in report.stdout.splitlines() if line.startswith("problem:")]
        self.assertEqual(problems, [f"problem: blob file {'f' * 64} has no row"], report.stdout)

    def test_without_the_scrub_damage_answers_no_and_fsck_repairs_it(self):
        data, blobs, stray = self.damaged_store()
        uids = sorted(blobs)
        no_scrub = "[store]\nscrub_bytes_per_second = 0\n"

        # The server starts and serves what is intact; a damaged message answers NO.
        server = harness.DevServer(data=data, listen=["imaps"], config=no_scrub).start()
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

        server = harness.DevServer(data=data, listen=["imaps"], config=no_scrub).start()
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


class CorruptionOfFilesTest(CorruptionTest):
    config = "[store]\ninline_body_bytes = 0\nlog_body_bytes = 0\n"
    in_files = True


class CorruptionOfTheBodyLogTest(CorruptionTest):
    config = "[store]\ninline_body_bytes = 0\n"  # every body in the body log

    def damaged_store(self):
        data, blobs, stray = super().damaged_store()
        # The four bodies share a segment; the damage is to two of them alone.
        self.assertEqual(len({body_place(data, b)[0] for b in blobs.values()
                              if body_place(data, b)}), 1)
        return data, blobs, stray


if __name__ == "__main__":
    harness.main()
