"""fetchmail against Postino's POP3 (RFC 1939, 8314): keep mode with UIDL tracking
(the second run downloads nothing), then flush mode (the messages are removed)."""

import os
import re
import smtplib
import subprocess

import harness


class FetchmailTest(harness.ServerTestCase):
    listen = ["smtp", "pop3s"]

    def fetch(self, *options):
        d = self.server.dir
        rc = os.path.join(d, "fetchmailrc")
        user, password = re.search(r"demo account (\S+)\s+password (\S+)", self.server.banner).groups()
        with open(rc, "w") as f:
            f.write(f'poll localhost protocol pop3 port {self.server.ports["pop3s"]} uidl\n'
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
        user = re.search(r"demo account (\S+)", self.server.banner).group(1)
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


if __name__ == "__main__":
    harness.main()
