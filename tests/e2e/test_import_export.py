"""`postino import` and `postino export` against Python's mailbox module (the reference for
both formats): a Maildir++ tree and an mbox file written by Python are imported into an
account beside a running server and read back through IMAP (folders, flags, keywords,
INTERNALDATE, bytes); then exported and read by Python again."""

import email.utils
import imaplib
import mailbox
import os
import re
import shutil
import subprocess
import tempfile
import time

import harness

DAY = 86400
T0 = 1767225600  # 2026-01-01 00:00:00 UTC


def message(subject, body="hello\n"):
    return f"From: a@remote.test\nTo: demo@example.test\nSubject: {subject}\n\n{body}"


class ImportExportTest(harness.ServerTestCase):
    listen = ["imaps"]

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postino-import-")
        self.user, self.password = self.server.demo_credentials()

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def cli(self, *args, expect=0):
        out = subprocess.run([harness.BINARY, "--data", self.server.data, *args],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, expect, out.stdout + out.stderr)
        return out

    def imap(self):
        c = imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context())
        c.login(self.user, self.password)
        return c

    def fetch_all(self, c, mailbox):
        """[(flags, internaldate, bytes)] of a mailbox in UID order."""
        typ, _ = c.select(f'"{mailbox}"', readonly=True)
        self.assertEqual(typ, "OK", mailbox)
        typ, data = c.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
        out = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            head = item[0].decode()
            flags = set(re.search(r"FLAGS \(([^)]*)\)", head).group(1).split())
            date = re.search(r'INTERNALDATE "([^"]+)"', head).group(1)
            when = email.utils.mktime_tz(email.utils.parsedate_tz(
                time.strftime("%a, ", time.gmtime(0)) + date.replace("-", " ", 2)))
            out.append((flags, when, item[1]))
        return out

    def test_maildir_and_mbox_in_and_out(self):
        # A Maildir++ tree as Python writes it.
        md = mailbox.Maildir(os.path.join(self.dir, "Maildir"), create=True)
        for i, (flags, subdir) in enumerate([("S", "cur"), ("RSF", "cur"), ("", "new"),
                                             ("DT", "cur")]):
            m = mailbox.MaildirMessage(message(f"inbox {i}"))
            m.set_subdir(subdir)
            if subdir == "cur":
                m.set_flags(flags)
            m.set_date(T0 + i * DAY)
            md.add(m)
        sent = md.add_folder("Sent")
        m = mailbox.MaildirMessage(message("sent 0", "From the desk\n"))
        m.set_subdir("cur")
        m.set_flags("S")
        m.set_date(T0 + 10 * DAY)
        sent.add(m)
        nested = md.add_folder("Archive.2024")
        m = mailbox.MaildirMessage(message("archived"))
        m.set_subdir("cur")
        m.set_date(T0 + 20 * DAY)
        nested.add(m)

        out = self.cli("import", "maildir", os.path.join(self.dir, "Maildir"), "--user", self.user)
        self.assertRegex(out.stdout, r"^imported 6 messages into 3 mailbox\(es\) of "
                                     r"demo@example\.test in [\d.]+ s \(\d+/s\)\n$")
        # An mbox as Python writes it, into a new mailbox.
        mb = mailbox.mbox(os.path.join(self.dir, "old.mbox"), create=True)
        for i in range(3):
            # Python writes mboxo: "From " lines become ">From ", read back as "From ".
            # (A line that began with ">From " comes back without its '>': mboxo cannot
            # tell them apart; mboxrd files, which quote those too, round-trip.)
            m = mailbox.mboxMessage(message(f"mbox {i}", "body\nFrom the past\n"))
            m.set_from("a@remote.test", time.gmtime(T0 + 30 * DAY + i * DAY))
            m.set_flags("RA" if i == 0 else "O")
            mb.add(m)
        mb.flush()
        mb.close()
        self.cli("import", "mbox", os.path.join(self.dir, "old.mbox"), "--user", self.user,
                 "--mailbox", "Old/Mbox")

        with self.imap() as c:
            typ, listed = c.list()
            names = {re.search(rb'"?([^" ]*)"?$', l).group(1).decode() for l in listed}
            self.assertLessEqual({"INBOX", "Sent", "Archive/2024", "Old", "Old/Mbox"}, names)
            inbox = self.fetch_all(c, "INBOX")
            self.assertEqual([f for f, _, _ in inbox],
                             [{"\\Seen"}, {"\\Seen", "\\Answered", "\\Flagged"}, set(),
                              {"\\Draft", "\\Deleted"}])
            self.assertEqual([d for _, d, _ in inbox], [T0 + i * DAY for i in range(4)])
            self.assertEqual(inbox[1][2], message("inbox 1").replace("\n", "\r\n").encode())
            [(flags, when, body)] = self.fetch_all(c, "Sent")
            self.assertEqual((flags, when), ({"\\Seen"}, T0 + 10 * DAY))
            self.assertIn(b"\r\n\r\nFrom the desk\r\n", body)
            self.assertEqual(len(self.fetch_all(c, "Archive/2024")), 1)
            old = self.fetch_all(c, "Old/Mbox")
            self.assertEqual([f for f, _, _ in old], [{"\\Seen", "\\Answered"}, set(), set()])
            self.assertEqual([d for _, d, _ in old], [T0 + (30 + i) * DAY for i in range(3)])
            self.assertTrue(old[0][2].endswith(b"\r\n\r\nbody\r\nFrom the past\r\n"), old[0][2])
            self.assertNotIn(b"Status:", old[0][2])

        # Out again, read by Python.
        out = self.cli("export", "maildir", os.path.join(self.dir, "out"), "--user", self.user)
        self.assertIn("exported ", out.stdout)
        exported = mailbox.Maildir(os.path.join(self.dir, "out"), create=False)
        self.assertLessEqual({"Sent", "Archive.2024", "Old.Mbox"}, set(exported.list_folders()))
        inbox_out = sorted(exported.values(), key=lambda m: m.get_date())
        self.assertEqual([m["Subject"] for m in inbox_out], [f"inbox {i}" for i in range(4)])
        self.assertEqual([set(m.get_flags()) for m in inbox_out],
                         [{"S"}, {"F", "R", "S"}, set(), {"D", "T"}])
        self.assertEqual([int(m.get_date()) for m in inbox_out], [T0 + i * DAY for i in range(4)])
        self.cli("export", "mbox", os.path.join(self.dir, "mbox-out"), "--user", self.user,
                 "--mailbox", "Old/Mbox")
        back = mailbox.mbox(os.path.join(self.dir, "mbox-out", "Old", "Mbox.mbox"), create=False)
        messages = list(back)
        self.assertEqual([m["Subject"] for m in messages], [f"mbox {i}" for i in range(3)])
        self.assertEqual(set(messages[0].get_flags()), {"R", "O", "A"})
        # Ours is mboxrd-quoted; Python reads the quote as it is.
        self.assertEqual(messages[0].get_payload(), "body\n>From the past\n")

    def test_errors(self):
        out = self.cli("import", "maildir", self.dir, "--user", self.user, expect=1)
        self.assertIn("is not a Maildir", out.stderr)
        out = self.cli("import", "mbox", self.dir, "--user", "nobody@example.test", expect=1)
        self.assertIn("nobody@example.test", out.stderr)
        self.cli("export", "mbox", self.dir, "--user", self.user, "--mailbox", "Nope", expect=1)


if __name__ == "__main__":
    harness.main()
