"""A Dovecot IMAP server (Debian's package) on a loopback port, as a reference.

Postino's answers are compared with Dovecot's where RFC 5256 and friends leave room for
reading (SORT, THREAD); the benchmarks run against the same setup. Dovecot keeps its
state under a temporary directory, listens on one free loopback port (implicit TLS with
a self-signed certificate when `tls`), accepts any user with the password "secret" (a
static passdb) and keeps Maildirs there; `extra` is appended to its configuration.
stop() ends it.
"""

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

PASSWORD = "secret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree(root):
    """A process and every process below it (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


class Dovecot:
    def __init__(self, tls=False, extra=""):
        self.dir = tempfile.mkdtemp(prefix="postino-dovecot-")
        self.port = free_port()
        self.config = os.path.join(self.dir, "dovecot.conf")
        self.tls = tls
        self.extra = extra
        self.master_pid = None

    def start(self):
        home = os.path.join(self.dir, "home")
        os.makedirs(home)
        os.chmod(self.dir, 0o755)  # mkdtemp's 0700 would keep the mail user out
        if os.getuid() == 0:
            # Dovecot never runs mail processes as root: the users are nobody's.
            user = "nobody"
            os.chown(home, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
            users = "default_login_user = dovenull\ndefault_internal_user = dovecot\n"
        else:
            user = pwd.getpwuid(os.getuid()).pw_name
            users = f"default_login_user = {user}\ndefault_internal_user = {user}\n"
        group = "nogroup" if user == "nobody" else user
        if self.tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                            "/CN=localhost", "-keyout", os.path.join(self.dir, "key.pem"),
                            "-out", os.path.join(self.dir, "cert.pem")],
                           check=True, capture_output=True)
            ssl = (f"ssl = required\nssl_cert = <{self.dir}/cert.pem\n"
                   f"ssl_key = <{self.dir}/key.pem\n")
            listeners = f"""  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}"""
        else:
            ssl = "ssl = no\n"
            listeners = f"""  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}"""
        with open(self.config, "w") as f:
            f.write(f"""protocols = imap
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/log
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:~/Maildir
first_valid_uid = 1
{users}
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={home}/%u
}}
service imap-login {{
{listeners}
}}
{self.extra}
""")
        subprocess.run(["dovecot", "-c", self.config], check=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                with open(os.path.join(self.dir, "run", "master.pid")) as f:
                    self.master_pid = int(f.read().strip())
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("dovecot did not start: " + self.log())
                time.sleep(0.05)

    def log(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()
        except OSError:
            return ""

    @property
    def cert_file(self):
        return os.path.join(self.dir, "cert.pem")

    def pids(self):
        """The master and every process below it."""
        return process_tree(self.master_pid)

    def imap(self, user="user"):
        c = imaplib.IMAP4("127.0.0.1", self.port)
        c.login(user, PASSWORD)
        return c

    def stop(self):
        subprocess.run(["dovecot", "-c", self.config, "stop"], capture_output=True)
        deadline = time.monotonic() + 10
        while os.path.exists(os.path.join(self.dir, "run", "master.pid")):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)
