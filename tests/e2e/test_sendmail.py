"""`postino sendmail` and a `sendmail` link, as cron and scripts call them, beside a running
server on the same store: local delivery with the missing header fields added, a bare name
(cron's "root") qualified with the first domain and refused until it exists, -t with Bcc
kept out of the copies, a remote recipient queued and delivered by the running server's
scheduler, a lone dot, and the exit codes of sysexits(3)."""

import os
import pwd
import subprocess

import harness
from outbound_support import OutboundCase, Sink, postino, wait_until


class SendmailTest(OutboundCase):
    def setUp(self):
        self.sink = Sink()
        self.server = self.start(extra_args=["--route", f"remote.test=127.0.0.1:{self.sink.port}"])
        self.config = os.path.join(self.server.dir, "sendmail.toml")
        with open(self.config, "w") as f:
            f.write(f'[server]\nhostname = "mail.example.test"\ndata_dir = "{self.server.data}"\n')
        self.user = self.server.demo_credentials()[0]

    def tearDown(self):
        super().tearDown()
        self.sink.close()

    def sendmail(self, *args, stdin, expect=0, program=None):
        cmd = [program] if program else [harness.BINARY, "sendmail"]
        out = subprocess.run(cmd + ["-C", self.config, *args], input=stdin.encode(),
                             capture_output=True, timeout=60)
        self.assertEqual(out.returncode, expect, out.stderr.decode())
        return out

    def inbox(self):
        return harness.stored(self.server, self.user)

    def test_local_delivery_adds_what_is_missing(self):
        out = self.sendmail(self.user, stdin="Subject: disk\n\n/ is 91% full\n")
        self.assertEqual(out.stdout, b"")  # quiet, as sendmail is
        [message] = self.inbox()
        login = pwd.getpwuid(os.getuid()).pw_name.encode()
        self.assertTrue(message.startswith(b"Return-Path: <" + login + b"@example.test>\r\n"
                                           b"Received: by mail.example.test (Postino sendmail, "),
                        message[:200])
        for field in (b"\r\nFrom: " + login + b"@example.test\r\n", b"\r\nDate: ", b"\r\nMessage-ID: <",
                      b"\r\nSubject: disk\r\n\r\n/ is 91% full\r\n"):
            self.assertIn(field, message)

    def test_a_bare_name_is_qualified_and_must_exist(self):
        out = self.sendmail("root", stdin="Subject: cron\n\nout\n", expect=67)
        self.assertIn(b"root@example.test: no such user here", out.stderr)
        self.assertEqual(self.inbox(), [])
        self.assertEqual(postino(self.server, "alias", "add", "root@example.test",
                                 self.user).returncode, 0)
        self.sendmail("-f", "cron", "-F", "Cron Daemon", "root", stdin="Subject: cron\n\nout\n")
        [message] = self.inbox()
        self.assertIn(b"Return-Path: <cron@example.test>", message)
        self.assertIn(b'From: "Cron Daemon" <cron@example.test>', message)

    def test_dash_t_with_bcc_and_a_remote_recipient_delivered_by_the_server(self):
        self.sendmail("-t", "-oi", stdin=(
            f"To: {self.user}\nCc: Far <far@remote.test>\nBcc: hidden@remote.test\n"
            "Subject: report\n\nline\n.\nafter the dot\n"))
        [local] = self.inbox()
        self.assertNotIn(b"hidden@remote.test", local)
        self.assertIn(b"line\r\n.\r\nafter the dot\r\n", local)
        # smtp-sink writes its file as the message arrives: wait for the whole of it.
        wait_until(lambda: any(b"after the dot\n" in m for m in self.sink.messages()), 20,
                   "the remote copy at the sink")
        [relayed] = self.sink.messages()
        self.assertIn(b"Subject: report", relayed)
        self.assertNotIn(b"Bcc:", relayed)

    def test_a_lone_dot_ends_the_message_without_dash_i(self):
        self.sendmail(self.user, stdin="Subject: dot\n\nbefore\n.\nafter\n")
        [message] = self.inbox()
        self.assertIn(b"before\r\n", message)
        self.assertNotIn(b"after", message)

    def test_as_a_link_named_sendmail(self):
        link = os.path.join(self.server.dir, "sendmail")
        os.symlink(os.path.realpath(harness.BINARY), link)
        self.sendmail("-i", self.user, stdin="Subject: link\n\nvia the link\n", program=link)
        self.assertIn(b"via the link", self.inbox()[0])

    def test_errors_have_their_exit_codes(self):
        self.sendmail("-bs", stdin="", expect=64)
        self.sendmail(stdin="Subject: x\n\n", expect=64)  # no recipient
        small = os.path.join(self.server.dir, "small.toml")
        with open(small, "w") as f:
            f.write(f'[server]\ndata_dir = "{self.server.data}"\n[smtp]\nmax_message_bytes = 1024\n')
        out = subprocess.run([harness.BINARY, "sendmail", "-C", small, self.user],
                             input=b"Subject: big\n\n" + b"x" * 2000 + b"\n", capture_output=True,
                             timeout=60)
        self.assertEqual(out.returncode, 65, out.stderr)
        self.assertIn(b"larger than smtp.max_message_bytes (1024)", out.stderr)
        self.assertEqual(self.inbox(), [])
        out = subprocess.run([harness.BINARY, "sendmail", "-C", "/nonexistent.toml", self.user],
                             input=b"x\n", capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 78, out.stderr)


if __name__ == "__main__":
    harness.main()
