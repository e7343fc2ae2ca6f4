"""Postfix and Dovecot from Debian's packages as the reference mail system, on loopback
ports of their own, the way the issue's comparison wants them: Postfix receives SMTP and
delivers through Dovecot's LMTP into Maildirs; Dovecot serves IMAP and POP3 from them.
Everything lives under one temporary directory; stop() ends both and removes it.

Used by the benchmarks (bench/smtp_bench.py); needs `scripts/install-bench-deps`.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from dovecot import Dovecot, free_port, process_tree  # noqa: E402

DOMAIN = "bench.test"

MASTER_CF = """\
{smtp} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Reference:
    """Postfix (SMTP on `smtp_port`) → LMTP → Dovecot (IMAP on `imap_port`, POP3 on
    `pop3_port`), users `NAME@bench.test` with Dovecot's static password."""

    def __init__(self, extra=""):
        """`extra`: more Dovecot configuration (a passdb of the benchmark's own, say)."""
        self.lmtp_port = free_port()
        self.pop3_port = free_port()
        self.smtp_port = free_port()
        self.dovecot = Dovecot(extra=f"""
protocols = imap pop3 lmtp
mail_fsync = optimized
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
protocol lmtp {{
  auth_username_format = %Ln
}}
{extra}""")
        self.dir = tempfile.mkdtemp(prefix="postino-postfix-")
        os.chmod(self.dir, 0o755)

    @property
    def imap_port(self):
        return self.dovecot.port

    def start(self):
        self.dovecot.start()
        etc = os.path.join(self.dir, "etc")
        os.makedirs(etc)
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {self.dir}/queue
data_directory = {self.dir}/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.{DOMAIN}
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
virtual_mailbox_domains = {DOMAIN}
virtual_transport = lmtp:inet:127.0.0.1:{self.lmtp_port}
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
maillog_file = {self.dir}/maillog
maillog_file_prefixes = {self.dir}
biff = no
alias_maps =
alias_database =
append_dot_mydomain = no
smtputf8_enable = no
""")
        with open(os.path.join(etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(smtp=f"127.0.0.1:{self.smtp_port}"))
        for d in ("queue", "data"):
            os.makedirs(os.path.join(self.dir, d))
        postfix = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.dir, "data"), postfix.pw_uid, postfix.pw_gid)
        # Postfix writes its errors to stderr only on a terminal: give it one (script(1)).
        out = subprocess.run(["script", "-qec", f"postfix -c {etc} start", "/dev/null"],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             start_new_session=True)
        if out.returncode != 0:
            raise RuntimeError("postfix did not start: " + out.stdout + out.stderr)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.smtp_port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("postfix does not answer: " + self.maillog())
                time.sleep(0.1)

    def maillog(self):
        try:
            with open(os.path.join(self.dir, "maillog")) as f:
                return f.read()
        except OSError:
            return ""

    def maildir(self, user):
        return os.path.join(self.dovecot.dir, "home", user, "Maildir")

    def delivered(self, user):
        """Messages in the user's Maildir (new/ and cur/)."""
        base = self.maildir(user)
        n = 0
        for sub in ("new", "cur"):
            try:
                n += len(os.listdir(os.path.join(base, sub)))
            except FileNotFoundError:
                pass
        return n

    def pids(self):
        """Every process of both: Postfix's master and children, Dovecot's."""
        out = list(self.dovecot.pids())
        try:
            with open(os.path.join(self.dir, "queue", "pid", "master.pid")) as f:
                return out + process_tree(int(f.read().strip()))
        except (OSError, ValueError):
            return out

    def stop(self):
        subprocess.run(["postfix", "-c", os.path.join(self.dir, "etc"), "stop"],
                       stdin=subprocess.DEVNULL, capture_output=True)
        self.dovecot.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
