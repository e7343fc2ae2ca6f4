"""fetchmail against Postino over TLS. POP3 (RFC 1939, 8314): keep mode with UIDL tracking
(the second run downloads nothing), then flush mode (the messages are removed). IMAP
(RFC 3501): keep mode (fetched messages are \\Seen, the second run fetches nothing new),
then delete mode (the mailbox is empty after)."""

import os
import smtplib
import subprocess

import harness


class FetchmailTest(harness.ServerTestCase):
    listen = ["smtp", "pop3s"]
    poll = "protocol pop3 port {pop3s} uidl"

    def fetch(self, *options):
        d = self.server.dir
        rc = os.path.join(d, "fetchmailrc")
        user, password = self.server.demo_credentials()
        with open(rc, "w") as f:
            f.write(f'poll localhost {self.poll.format(**self.server.ports)}\n'
                    f'  user "{user}" password "{password}"\n'
                    f'  ssl sslcertck sslcertfile "{self.server.cert_file}"\n'
                    f'  {" ".join(options)} mda "/bin/sh -c \'cat >> {d}/mbox\'"\n')
        os.chmod(rc, 0o600)
        env = dict(os.environ, HOME=d, FETCHMAILHOME=d)
        out = subprocess.run(["fetchmail", "--nodetach", "--fetchmailrc", rc, "--idfile",
                              os.path.join(d, "fetchids")], capture_output=True, text=True,
                             timeout=60, env=env)
        # fetchmail exits 1 when there was no mail: not an error here.
        self.assertIn(out.returncode, (0, 1), out.stdout + out.stderr)
        return out

    def mbox(self):
        path = os.path.join(self.server.dir, "mbox")
        if not os.path.exists(path):
            return b""
        with open(path, "rb") as f:
            return f.read()

    def test_keep_then_flush(self):
        user, _ = self.server.demo_credentials()
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            for i in range(3):
                s.sendmail("a@remote.test", [user], f"Subject: fetch {i}\r\n\r\nbody {i}\r\n".encode())
        self.fetch("keep")
        first = self.mbox()
        self.assertEqual(first.count(b"Subject: fetch"), 3)
        self.fetch("keep")  # UIDL tracking: nothing new
        self.assertEqual(self.mbox().count(b"Subject: fetch"), 3)
        self.fetch("fetchall", "flush")
        self.assertEqual(self.mbox().count(b"Subject: fetch"), 6)
        out = self.fetch("fetchall")
        self.assertEqual(self.mbox().count(b"Subject: fetch"), 6, out.stdout + out.stderr)


class FetchmailImapTest(FetchmailTest):
    listen = ["smtp", "imaps"]
    poll = "protocol imap port {imaps}"

    def test_keep_then_flush(self):
        user, _ = self.server.demo_credentials()
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            for i in range(3):
                s.sendmail("a@remote.test", [user], f"Subject: fetch {i}\r\n\r\nb\r\n".encode())
        self.fetch("keep")
        self.assertEqual(self.mbox().count(b"Subject: fetch"), 3)
        self.fetch("keep")  # fetched messages are \\Seen now: nothing new
        self.assertEqual(self.mbox().count(b"Subject: fetch"), 3)
        self.fetch("fetchall")  # without keep: fetched, then deleted on the server
        self.assertEqual(self.mbox().count(b"Subject: fetch"), 6)
        self.assertEqual(harness.stored(self.server, user), [])


if __name__ == "__main__":
    harness.main()
