"""Crash safety of the whole server (RELIABILITY C01-C04): SMTP delivery to a local
mailbox, submission of mail for another domain (queued: the test's resolver answers
nothing) and IMAP APPEND run at once while the server is killed with SIGKILL at random
moments, twenty times, each time restarted on the same data. Afterwards every message
that was acknowledged (250, or OK [APPENDUID]) is there and intact, the queue holds every
acknowledged remote recipient, UIDs are unique and below UIDNEXT, UIDVALIDITY never
changed, and `postino fsck` finds nothing wrong. A message whose acknowledgement was lost
may be there twice; none may be missing."""

import imaplib
import json
import os
import random
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness

KILLS = 20


def body_of(token):
    return "".join(f"{token} line {i}\r\n" for i in range(40))


class Load:
    """Clients that keep sending until stopped, recording what the server acknowledged."""

    def __init__(self, server, seed):
        self.server = server
        self.user, self.password = server.demo_credentials()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.local, self.remote, self.appended = set(), set(), set()
        self.seed = seed
        self.threads = [threading.Thread(target=f, daemon=True)
                        for f in (self.smtp, self.submission, self.append)]

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def token(self, kind, n):
        return f"{kind}-{self.seed}-{n}"

    def smtp(self):
        n = 0
        while not self.stop.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=5) as s:
                    while not self.stop.is_set():
                        n += 1
                        t = self.token("local", n)
                        s.sendmail("load@remote.test", [self.user],
                                   f"Subject: {t}\r\n\r\n{body_of(t)}".encode())
                        with self.lock:
                            self.local.add(t)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.02)

    def submission(self):
        n = 0
        while not self.stop.is_set():
            try:
                with smtplib.SMTP_SSL("127.0.0.1", self.server.ports["submissions"], timeout=5,
                                      context=self.server.client_tls_context()) as s:
                    s.login(self.user, self.password)
                    while not self.stop.is_set():
                        n += 1
                        t = self.token("remote", n)
                        s.sendmail(self.user, [f"{t}@remote.test"],
                                   f"Subject: {t}\r\n\r\n{body_of(t)}".encode())
                        with self.lock:
                            self.remote.add(t)
            except (OSError, smtplib.SMTPException):
                time.sleep(0.02)

    def append(self):
        n = 0
        while not self.stop.is_set():
            try:
                c = imaplib.IMAP4_SSL("127.0.0.1", self.server.ports["imaps"], timeout=5,
                                      ssl_context=self.server.client_tls_context())
                c.login(self.user, self.password)
                while not self.stop.is_set():
                    n += 1
                    t = self.token("append", n)
                    typ, data = c.append("INBOX", None, None,
                                         f"Subject: {t}\r\n\r\n{body_of(t)}".encode())
                    if typ == "OK" and b"APPENDUID" in data[0]:
                        with self.lock:
                            self.appended.add(t)
            except (OSError, imaplib.IMAP4.error, ValueError):
                time.sleep(0.02)


class CrashSafetyTest(unittest.TestCase):
    def test_acknowledged_mail_survives_twenty_sigkills(self):
        root = tempfile.mkdtemp(prefix="postino-crash-")
        self.addCleanup(shutil.rmtree, root, True)
        data = os.path.join(root, "data")
        listen = ["smtp", "submissions", "imaps"]
        rng = random.Random(20261201)
        local, remote, appended = set(), set(), set()
        uid_validity = None
        for round_ in range(KILLS):
            server = harness.DevServer(data=data, listen=listen).start()
            if uid_validity is None:
                c = self.imap(server)
                uid_validity = self.status(c)["UIDVALIDITY"]
                c.logout()
            load = Load(server, round_)
            load.start()
            time.sleep(rng.uniform(0.3, 1.5))
            server.stop(sig=signal.SIGKILL)
            load.finish()
            local |= load.local
            remote |= load.remote
            appended |= load.appended
            server.close()
        self.assertGreater(len(local), KILLS)
        self.assertGreater(len(remote), KILLS)
        self.assertGreater(len(appended), KILLS)

        server = harness.DevServer(data=data, listen=listen).start()
        try:
            c = self.imap(server)
            status = self.status(c)
            self.assertEqual(status["UIDVALIDITY"], uid_validity)
            c.select("INBOX", readonly=True)
            typ, items = c.fetch("1:*", "(UID BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            uids, seen = [], {}
            for item in items:
                if not isinstance(item, tuple):
                    continue
                uids.append(int(re.search(rb"UID (\d+)", item[0]).group(1)))
                message = item[1].decode()
                subject = re.search(r"^Subject: (\S+)\r$", message, re.M).group(1)
                # Intact: the body is exactly what was sent.
                self.assertEqual(message.split("\r\n\r\n", 1)[1], body_of(subject), subject)
                seen[subject] = seen.get(subject, 0) + 1
            self.assertEqual(len(uids), len(set(uids)), "UIDs repeat")
            self.assertTrue(all(u < status["UIDNEXT"] for u in uids))
            twice = sum(1 for n in seen.values() if n > 1)
            print(f"\n{KILLS} kills: {len(local)} delivered, {len(appended)} appended and "
                  f"{len(remote)} queued were acknowledged; {len(uids)} messages in INBOX, "
                  f"{twice} of them twice", file=sys.stderr)
            missing = (local | appended) - set(seen)
            self.assertEqual(missing, set(), f"{len(missing)} acknowledged messages lost")
            c.logout()
            queued = json.loads(subprocess.run(
                [harness.BINARY, "--data", data, "queue", "list", "--json"], capture_output=True,
                text=True, timeout=60, check=True).stdout)
            addresses = {r["address"].split("@")[0] for e in queued for r in e["recipients"]}
            self.assertEqual(remote - addresses, set(), "acknowledged remote mail lost")
        finally:
            code, _ = server.stop()
            err = server.stderr()
            server.close()
        self.assertEqual(code, 0, err[-3000:])
        for marker in harness.SANITIZER_MARKERS:
            self.assertNotIn(marker, err)
        fsck = subprocess.run([harness.BINARY, "--data", data, "fsck"], capture_output=True,
                              text=True, timeout=120)
        self.assertEqual(fsck.returncode, 0, fsck.stdout + fsck.stderr)

    @staticmethod
    def imap(server):
        c = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], timeout=10,
                              ssl_context=server.client_tls_context())
        c.login(*server.demo_credentials())
        return c

    @staticmethod
    def status(c):
        typ, data = c.status("INBOX", "(UIDVALIDITY UIDNEXT MESSAGES)")
        return {k.decode(): int(v)
                for k, v in re.findall(rb"(UIDVALIDITY|UIDNEXT|MESSAGES) (\d+)", data[0])}


if __name__ == "__main__":
    harness.main()
