"""SELECT on the real server: it answers from the mailbox's counts and reads the message
list after its answer is sent, so a command pipelined behind it waits for the list and is
answered as of the SELECT. The list of a big mailbox (imap.list_file_messages, 5 here) is
saved in a file under <data_dir>/lists and read back after a restart, brought up to date
with what changed after it was saved."""

import glob
import os
import re
import shutil
import smtplib
import tempfile
import unittest

import harness
from test_imap_sync import Imap


class SelectTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postino-select-")
        self.data = os.path.join(self.dir, "data")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self):
        server = harness.DevServer(data=self.data, listen=["imaps", "smtp"],
                                   config="[imap]\nlist_file_messages = 5\n").start()
        self.addCleanup(server.close)
        return server

    @staticmethod
    def deliver(server, user, subject):
        with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
            s.sendmail("someone@remote.test", [user],
                       f"Subject: {subject}\r\n\r\nbody\r\n".encode())

    @staticmethod
    def uids_and_flags(lines):
        out = []
        for line in lines:
            m = re.match(r"\* (\d+) FETCH \(UID (\d+) FLAGS \(([^)]*)\)\)$", line)
            if m:
                out.append((int(m.group(1)), int(m.group(2)), m.group(3)))
        return out

    def test_pipelined_select_then_the_saved_list_across_a_restart(self):
        server = self.start()
        user, password = server.demo_credentials()
        for i in range(8):
            self.deliver(server, user, f"message {i}")
        a = Imap(server, user, password)
        # SELECT and FETCH in one write: the FETCH waits for the list SELECT reads after
        # its answer, and numbers the messages as SELECT told.
        a.send("p1 SELECT INBOX\r\np2 UID FETCH 1:* (FLAGS)")
        lines = []
        while not lines or not lines[-1].startswith("p2 "):
            lines.append(a.line())
        self.assertIn("* 8 EXISTS", lines)
        self.assertIn("* OK [UNSEEN 1] First unseen", lines)
        selected = [i for i, line in enumerate(lines) if line.startswith("p1 ")]
        self.assertEqual(len(selected), 1, lines)
        self.assertTrue(lines[selected[0]].startswith("p1 OK [READ-WRITE]"), lines)
        self.assertEqual(self.uids_and_flags(lines[selected[0]:]),
                         [(n, n, "") for n in range(1, 9)])
        self.assertEqual(lines[-1], "p2 OK UID FETCH completed")
        saved = glob.glob(os.path.join(self.data, "lists", "*.list"))
        self.assertEqual(len(saved), 1, os.listdir(self.data))
        # Changed after the file was saved: one message expunged, one seen, two new.
        b = Imap(server, user, password)
        b.command("SELECT INBOX")
        b.command("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
        b.command("UID EXPUNGE 2")
        b.command("UID STORE 3 +FLAGS.SILENT (\\Seen)")
        self.deliver(server, user, "message 8")
        self.deliver(server, user, "message 9")
        a.close()
        b.close()
        server.close()

        server = self.start()
        c = Imap(server, user, password)
        self.addCleanup(c.close)
        untagged, _ = c.command("SELECT INBOX")
        self.assertIn("* 9 EXISTS", untagged)
        untagged, _ = c.command("UID FETCH 1:* (FLAGS)")
        self.assertEqual(self.uids_and_flags(untagged),
                         [(1, 1, ""), (2, 3, "\\Seen")] + [(n - 1, n, "") for n in range(4, 11)])
        untagged, _ = c.command("FETCH 9 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn("Subject: message 9", untagged)


if __name__ == "__main__":
    unittest.main()
