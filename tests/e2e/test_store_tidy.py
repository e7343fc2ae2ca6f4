"""The running server gives the space of deleted mail back (store.tidy_interval_seconds):
bodies deleted over IMAP are collected and the body-log segment they filled is removed,
with no restart; the server's log says so."""

import imaplib
import os
import smtplib
import sqlite3
import time

import harness


def segments(data):
    return sorted(os.listdir(os.path.join(data, "segments")))


def bodies(data):
    with sqlite3.connect(f"file:{data}/store.db?mode=ro", uri=True, timeout=10) as db:
        return db.execute("SELECT count(*) FROM blobs").fetchone()[0]


def send_three_large_messages(server):
    """m1, m2, m3 of about 650 KB each: with segments of 1 MiB, m1 and m2 fill the first."""
    user = server.demo_credentials()[0]
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
        for i in range(1, 4):
            body = (f"line {i} " * 40 + "\r\n") * 2300
            s.sendmail("a@remote.test", [user], f"Subject: m{i}\r\n\r\n{body}".encode())


def inbox_session(server):
    c = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], timeout=10,
                          ssl_context=server.client_tls_context())
    c.login(*server.demo_credentials())
    c.select("INBOX")
    return c


class TidyWhileRunningTest(harness.ServerTestCase):
    # Segments of 1 MiB (the smallest): two 650 KB messages fill the first.
    config = ("[store]\nblob_grace_seconds = 0\ntidy_interval_seconds = 1\n"
              "log_segment_bytes = 1048576\n")
    listen = ["smtp", "imaps"]

    def test_deleted_mail_gives_its_segment_back_without_a_restart(self):
        server = self.server
        send_three_large_messages(server)
        self.assertEqual(len(segments(server.data)), 2)
        self.assertEqual(bodies(server.data), 3)
        first = segments(server.data)[0]

        c = inbox_session(server)
        c.store("1:2", "+FLAGS", "(\\Deleted)")
        c.expunge()

        deadline = time.monotonic() + 15
        while first in segments(server.data) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertNotIn(first, segments(server.data))
        self.assertEqual(bodies(server.data), 1)
        self.assertIsNotNone(server.wait_for_log(
            lambda line: "store.tidied" in line and "body segments nothing refers to" in line))
        # The message kept reads back whole.
        typ, data = c.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)] RFC822.SIZE)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"Subject: m3", data[0][1])
        c.logout()


class PacedCompactionTest(harness.ServerTestCase):
    """store.tidy_bytes_per_second reaches the running server's tidying: a compaction that
    copied 650 KB at 64 KiB a second pauses some ten seconds before it removes the segment
    it emptied (unpaced, it goes at once)."""
    config = ("[store]\nblob_grace_seconds = 0\ntidy_interval_seconds = 1\n"
              "log_segment_bytes = 1048576\nlog_compact_percent = 75\n"
              "tidy_bytes_per_second = 65536\n")
    listen = ["smtp", "imaps"]

    def test_a_compaction_is_held_to_the_configured_rate(self):
        server = self.server
        send_three_large_messages(server)
        first = segments(server.data)[0]

        def others_bytes():
            return sum(os.path.getsize(os.path.join(server.data, "segments", name))
                       for name in segments(server.data) if name != first)

        before = others_bytes()
        c = inbox_session(server)
        c.store("1", "+FLAGS", "(\\Deleted)")  # the first segment half dead: compacted
        c.expunge()
        # m2 is copied out of the first segment within a tidying or two...
        deadline = time.monotonic() + 15
        while others_bytes() < before + 600000 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertGreaterEqual(others_bytes(), before + 600000)
        copied = time.monotonic()
        # ...and the segment stays while the pause its 650 KB earned at 64 KiB/s runs.
        time.sleep(3)
        self.assertIn(first, segments(server.data))
        deadline = time.monotonic() + 20
        while first in segments(server.data) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertNotIn(first, segments(server.data))
        self.assertGreater(time.monotonic() - copied, 6)
        typ, data = c.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        self.assertIn(b"Subject: m2", data[0][1])
        c.logout()


if __name__ == "__main__":
    harness.main()
