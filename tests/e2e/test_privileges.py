"""Dropping root (server.user): started as root, the server binds its ports, then runs as
the unprivileged user for good; what it writes in the data directory belongs to that user,
so a restart works; a data directory of another owner or an unknown user is refused with
the command that fixes it. Needs root (CI runs as root); skipped otherwise."""

import imaplib
import os
import pwd
import shutil
import smtplib
import sqlite3
import subprocess
import tempfile
import unittest

import harness

USER = "nobody"


def ids(pid):
    """(real, effective, saved, fs) uids and gids of a process."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid"):
                out[key] = [int(v) for v in value.split()]
            if key == "Groups":
                out[key] = [int(v) for v in value.split()]
    return out


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class DropRootTest(unittest.TestCase):
    def setUp(self):
        self.pw = pwd.getpwnam(USER)
        self.dir = tempfile.mkdtemp(prefix="postino-priv-")
        os.chmod(self.dir, 0o755)  # the user must reach its data directory inside
        self.data = os.path.join(self.dir, "data")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def server(self):
        # Every body in the body log (segments/, which must be the user's too): the restart
        # below zeroes one on disk as root.
        return harness.DevServer(config=f'[server]\nuser = "{USER}"\n[store]\n'
                                        'inline_body_bytes = 0\nscrub_start_delay_seconds = 0\n',
                                 data=self.data,
                                 listen=["smtp", "imap", "imaps"])

    def test_runs_as_the_user_and_keeps_working_after_a_restart(self):
        for round_ in range(2):
            with self.subTest(start=round_):
                if round_ == 1:
                    # A body zeroed while the server was down: the start-up scrub of the
                    # restarted (unprivileged) server quarantines it, and what it writes in
                    # quarantine/ must be the user's too (checked at the end).
                    with sqlite3.connect(os.path.join(self.data, "store.db")) as db:
                        (blob, segment, offset, size) = db.execute(
                            "SELECT m.blob_id, p.segment, p.offset, p.size FROM messages m "
                            "JOIN blob_places p ON p.blob_id = m.blob_id").fetchone()
                    path = os.path.join(self.data, "segments", f"{segment:010d}.seg")
                    with open(path, "r+b") as f:
                        f.seek(offset)
                        f.write(b"\0" * size)
                server = self.server().start()
                try:
                    if round_ == 1:
                        finished = server.wait_for_log(
                            lambda line: "event=store.scrub_finished" in line)
                        self.assertIn("quarantined=1", finished or "")
                    got = ids(server.proc.pid)
                    self.assertEqual(got["Uid"], [self.pw.pw_uid] * 4)
                    self.assertEqual(got["Gid"], [self.pw.pw_gid] * 4)
                    self.assertNotIn(0, got["Groups"])
                    address, password = server.demo_credentials()
                    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
                        s.sendmail("a@remote.test", [address],
                                   f"Subject: round {round_}\r\n\r\nbody\r\n")
                    with imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"],
                                           ssl_context=server.client_tls_context()) as imap:
                        imap.login(address, password)
                        imap.select("INBOX")
                        typ, data = imap.search(None, "ALL")
                        self.assertEqual(len(data[0].split()), 1)  # round 0's was quarantined
                        typ, data = imap.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])")
                        self.assertIn(f"round {round_}".encode(), data[0][1])
                finally:
                    code, _ = server.stop()
                    err = server.stderr()
                    server.close()
                self.assertEqual(code, 0, err[-3000:])
                self.assertIsNone(harness.sanitizer_report(err), err[-3000:])
        # Admin commands run as root become the user too: a DKIM key written by root (0600)
        # could not be read by the server, a -wal file left by root not written.
        config = self.write_config(f'[server]\nuser = "{USER}"\n')
        for args, stdin in [(["user", "add", "carol@example.test", "--password-stdin"], "pw\n"),
                            (["dkim", "generate", "example.test"], None)]:
            out = subprocess.run([harness.BINARY, "--config", config, "--data", self.data, *args],
                                 input=stdin, capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.data, "dkim", "example.test")))
        self.assertTrue(os.path.exists(os.path.join(self.data, "quarantine", blob + ".txt")))
        # Every file the server and the commands wrote is the user's.
        for root, dirs, files in os.walk(self.data):
            for name in dirs + files:
                path = os.path.join(root, name)
                self.assertEqual(os.lstat(path).st_uid, self.pw.pw_uid, path)

    def test_a_data_directory_of_another_owner_is_refused(self):
        os.makedirs(self.data)
        server = self.server()
        with self.assertRaises(RuntimeError) as caught:
            server.start()
        server.close()
        self.assertIn(f"chown -R {USER}: {self.data}", str(caught.exception))

    def test_an_unknown_user_is_refused(self):
        out = subprocess.run([harness.BINARY, "serve", "--dev", "--data", self.data,
                              "--config", self.write_config('[server]\nuser = "no-such-user"\n')],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1)
        self.assertIn('server.user "no-such-user" is not a user of this system', out.stderr)
        self.assertIn("useradd --system", out.stderr)

    def test_root_as_the_user_is_refused(self):
        out = subprocess.run([harness.BINARY, "serve", "--dev", "--data", self.data,
                              "--config", self.write_config('[server]\nuser = "root"\n')],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1)
        self.assertIn('server.user "root" is root; name an unprivileged user', out.stderr)

    def write_config(self, text):
        path = os.path.join(self.dir, "postino.toml")
        with open(path, "w") as f:
            f.write(text)
        return path


if __name__ == "__main__":
    harness.main()
