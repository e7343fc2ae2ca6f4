"""Real IMAP clients against Postino, from Debian's packages. mbsync (isync): a full
two-way sync of several folders over port 993, a second run that changes nothing, flags
and deletions carried both ways, a message written locally uploaded, UIDVALIDITY stable.
offlineimap: the same account synced, flags both ways, an upload, a second run idle.
neomutt in tmux: a message opened in it is \\Seen for another IMAP session at once.
(fetchmail and getmail over IMAP: test_fetchmail.py, test_getmail.py.)"""

import glob
import imaplib
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import time

import harness


class ClientTest(harness.ServerTestCase):
    """A server on 993 (and 25 to deliver), the demo account, a scratch directory."""

    listen = ["imaps", "smtp"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user, cls.password = cls.server.demo_credentials()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postino-client-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.mail = os.path.join(self.dir, "mail")


class MbsyncTest(ClientTest):
    def setUp(self):
        super().setUp()
        os.makedirs(self.mail)
        self.rc = os.path.join(self.dir, "mbsyncrc")
        with open(self.rc, "w") as f:
            f.write(f"""IMAPAccount postino
Host localhost
Port {self.server.ports['imaps']}
User {self.user}
Pass {self.password}
SSLType IMAPS
CertificateFile {self.server.cert_file}

IMAPStore remote
Account postino

MaildirStore local
Path {self.mail}/
Inbox {self.mail}/INBOX
SubFolders Verbatim

Channel all
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")

    def mbsync(self):
        out = subprocess.run(["mbsync", "-c", self.rc, "-a", "-V"], capture_output=True,
                             text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return out.stdout + out.stderr

    def imap(self):
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context(), timeout=10)
        m.login(self.user, self.password)
        self.addCleanup(m.logout)
        return m

    def local(self, folder):
        """{subject: maildir flags} of a local folder."""
        out = {}
        for path in glob.glob(os.path.join(self.mail, folder, "*", "*")):
            with open(path, "rb") as f:
                subject = re.search(rb"Subject: (.*)\r?\n", f.read()).group(1).decode()
            out[subject] = path.rsplit(":2,", 1)[1] if ":2," in path else ""
        return out

    def remote(self, m, folder):
        """{subject: flags} of a server folder, and its UIDVALIDITY."""
        typ, data = m.select(folder)
        self.assertEqual(typ, "OK")
        validity = m.response("UIDVALIDITY")[1][0]
        out = {}
        typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for item in data:
            if isinstance(item, tuple):
                flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode()
                subject = re.search(rb"Subject: (.*)\r\n", item[1]).group(1).decode()
                out[subject] = flags
        return out, validity

    def test_two_way_sync_of_several_folders(self):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            for i in range(3):
                s.sendmail("a@remote.test", [self.user], f"Subject: inbox {i}\r\n\r\nx\r\n".encode())
        m = self.imap()
        self.assertEqual(m.create("Work")[0], "OK")
        for i in range(2):
            m.append("Work", None, None, f"Subject: work {i}\r\n\r\ny\r\n".encode())
        _, validity = self.remote(m, "INBOX")

        self.mbsync()
        # isync 1.4 turns on COMPRESS=DEFLATE (RFC 4978) when the server offers it.
        self.assertTrue(any("event=compress" in line for line in self.server.log_lines()))
        self.assertEqual(set(self.local("INBOX")), {"inbox 0", "inbox 1", "inbox 2"})
        self.assertEqual(set(self.local("Work")), {"work 0", "work 1"})
        for folder in ("Sent", "Drafts", "Trash"):
            self.assertTrue(os.path.isdir(os.path.join(self.mail, folder)), folder)

        # The second run changes nothing, on either side.
        files = sorted(glob.glob(os.path.join(self.mail, "*", "*", "*")))
        before = self.remote(m, "INBOX")
        self.mbsync()
        self.assertEqual(sorted(glob.glob(os.path.join(self.mail, "*", "*", "*"))), files)
        self.assertEqual(self.remote(m, "INBOX"), before)

        # Near → far: a flag set and a message deleted locally, a message written locally.
        path0 = self.local_path("INBOX", "inbox 0")
        os.rename(path0, os.path.join(self.mail, "INBOX", "cur",
                                      os.path.basename(path0).split(":2,")[0] + ":2,F"))
        os.remove(self.local_path("INBOX", "inbox 1"))
        with open(os.path.join(self.mail, "Work", "new", "1.local.postino"), "wb") as f:
            f.write(b"Subject: written here\r\n\r\nz\r\n")
        self.mbsync()
        flags, v = self.remote(m, "INBOX")
        self.assertEqual(v, validity)
        self.assertEqual(flags, {"inbox 0": "\\Flagged", "inbox 2": ""})
        work, _ = self.remote(m, "Work")
        self.assertEqual(set(work), {"work 0", "work 1", "written here"})

        # Far → near: a flag set and a message expunged on the server.
        m.select("INBOX")
        typ, data = m.search(None, "SUBJECT", '"inbox 2"')
        m.store(data[0].decode(), "+FLAGS", "(\\Seen)")
        typ, data = m.search(None, "SUBJECT", '"inbox 0"')
        m.store(data[0].decode(), "+FLAGS", "(\\Deleted)")
        m.expunge()
        self.mbsync()
        self.assertEqual(self.local("INBOX"), {"inbox 2": "S"})
        self.assertEqual(self.remote(m, "INBOX")[1], validity)

    def local_path(self, folder, subject):
        for path in glob.glob(os.path.join(self.mail, folder, "*", "*")):
            with open(path, "rb") as f:
                if re.search(rb"Subject: " + re.escape(subject.encode()) + rb"\r?\n", f.read()):
                    return path
        raise AssertionError(f"{subject} not in local {folder}")


class OfflineimapTest(ClientTest):
    def setUp(self):
        super().setUp()
        self.rc = os.path.join(self.dir, "offlineimaprc")
        with open(self.rc, "w") as f:
            f.write(f"""[general]
accounts = postino
metadata = {self.dir}/meta

[Account postino]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = {self.mail}

[Repository remote]
type = IMAP
remotehost = localhost
remoteport = {self.server.ports['imaps']}
remoteuser = {self.user}
remotepass = {self.password}
ssl = yes
sslcacertfile = {self.server.cert_file}
""")

    def offlineimap(self):
        out = subprocess.run(["offlineimap", "-c", self.rc, "-o", "-u", "basic"],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertNotIn("ERROR", out.stdout + out.stderr)
        return out.stdout + out.stderr

    def files(self, folder):
        return sorted(glob.glob(os.path.join(self.mail, folder, "*", "*")))

    def test_sync_of_the_account(self):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            for i in range(2):
                s.sendmail("a@remote.test", [self.user], f"Subject: oi {i}\r\n\r\nx\r\n".encode())
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context(), timeout=10)
        m.login(self.user, self.password)
        self.addCleanup(m.logout)
        m.create("Projects")
        m.append("Projects", None, None, b"Subject: plan\r\n\r\ny\r\n")
        self.offlineimap()
        self.assertEqual(len(self.files("INBOX")), 2)
        self.assertEqual(len(self.files("Projects")), 1)
        # A second run changes nothing.
        before = {f: self.files(f) for f in ("INBOX", "Projects")}
        out = self.offlineimap()
        self.assertNotIn("Copy message", out)
        self.assertEqual({f: self.files(f) for f in ("INBOX", "Projects")}, before)
        # Near → far: \Seen set locally, a message written locally.
        first = self.files("INBOX")[0]
        os.rename(first, os.path.join(self.mail, "INBOX", "cur", os.path.basename(first) + "S"))
        with open(os.path.join(self.mail, "Projects", "new", "1.local.postino"), "wb") as f:
            f.write(b"Subject: from here\r\n\r\nz\r\n")
        self.offlineimap()
        m.select("INBOX")
        typ, data = m.search(None, "SEEN")
        self.assertEqual(len(data[0].split()), 1)
        m.select("Projects")
        typ, data = m.search(None, "SUBJECT", '"from here"')
        self.assertEqual(len(data[0].split()), 1)
        # Far → near: \Flagged set on the server.
        m.select("INBOX")
        m.store("1:*", "+FLAGS", "(\\Flagged)")
        self.offlineimap()
        self.assertTrue(all(":2," in f and "F" in f.rsplit(":2,", 1)[1]
                            for f in self.files("INBOX")), self.files("INBOX"))


class NeomuttTest(ClientTest):
    def pane(self):
        out = subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-t", "nm", "-p"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout

    def wait_for_screen(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while text not in self.pane():
            if time.monotonic() > deadline:
                raise AssertionError(f"neomutt never showed {text!r}:\n" + self.pane())
            time.sleep(0.2)

    def test_reading_a_message_sets_seen_for_other_sessions_at_once(self):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("a@remote.test", [self.user],
                       b"From: a@remote.test\r\nSubject: hello neomutt\r\n\r\nread me\r\n")
        rc = os.path.join(self.dir, "muttrc")
        with open(rc, "w") as f:
            # imap_peek off: reading fetches BODY[], which sets \\Seen on the server there and
            # then rather than when neomutt next syncs the mailbox.
            f.write(f"""set folder = "imaps://{self.user}@localhost:{self.server.ports['imaps']}/"
set spoolfile = "+INBOX"
set imap_pass = "{self.password}"
set ssl_ca_certificates_file = "{self.server.cert_file}"
set certificate_file = "{self.dir}/certs"
set header_cache = ""
set message_cachedir = ""
set imap_peek = no
set mark_old = no
""")
        self.socket = "postino-" + os.path.basename(self.dir)
        env = dict(os.environ, HOME=self.dir, TERM="xterm")
        subprocess.run(["tmux", "-L", self.socket, "new-session", "-d", "-s", "nm", "-x", "120",
                        "-y", "30", f"neomutt -n -F {rc}"], check=True, env=env, timeout=10)
        self.addCleanup(subprocess.run, ["tmux", "-L", self.socket, "kill-server"],
                        capture_output=True, timeout=10)
        self.wait_for_screen("hello neomutt")
        m = imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"],
                              ssl_context=self.server.client_tls_context(), timeout=10)
        m.login(self.user, self.password)
        self.addCleanup(m.logout)
        m.select("INBOX")
        self.assertNotIn(b"\\Seen", m.fetch("1", "(FLAGS)")[1][0])
        subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", "nm", "Enter"], check=True,
                       timeout=10)
        self.wait_for_screen("read me")
        # The other session hears of it at its next NOOP (RFC 3501 §6.1.2).
        deadline = time.monotonic() + 2
        while True:
            m.noop()
            if b"\\Seen" in m.fetch("1", "(FLAGS)")[1][0]:
                break
            self.assertLess(time.monotonic(), deadline, "\\Seen did not reach the other session")
            time.sleep(0.1)


if __name__ == "__main__":
    harness.main()
