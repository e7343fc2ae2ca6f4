"""Shared pieces of the outbound end-to-end tests (test_outbound.py,
test_outbound_routing.py): waiting, reading the queue and the reports, and the peers a
test talks to (Postfix's smtp-sink, a recording SMTP server, a silent one)."""

import email
import email.policy
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import harness

WAIT = 20  # seconds for a queued message to reach its outcome


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=WAIT, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


stored = harness.stored


def postino(server, *args):
    out = subprocess.run([harness.BINARY, "--data", server.data, *args], capture_output=True,
                         text=True, timeout=60)
    return out


def queue_ids(server):
    out = postino(server, "queue", "list")
    assert out.returncode == 0, out.stderr
    return re.findall(r"^(\S+)  \d+ bytes ", out.stdout, re.M)


def demo_credentials(server):
    return server.demo_credentials()


def submit(server, rcpts, body, rcpt_options=(), sender=None):
    """Sends over submission with AUTH as the demo user."""
    import smtplib
    user, password = demo_credentials(server)
    with smtplib.SMTP("127.0.0.1", server.ports["submission"], timeout=10) as s:
        s.starttls(context=server.client_tls_context())
        s.login(user, password)
        s.sendmail(sender or user, rcpts, body, rcpt_options=list(rcpt_options))


def reports(server):
    """The delivery reports in the demo user's INBOX, parsed."""
    user, _ = demo_credentials(server)
    out = []
    for raw in stored(server, user):
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        if msg.get_content_type() == "multipart/report":
            out.append((raw, msg))
    return out


def report_fields(msg):
    """Per-recipient field dicts of a report's message/delivery-status part."""
    status = [p for p in msg.walk() if p.get_content_type() == "message/delivery-status"][0]
    blocks = status.get_payload()
    return [dict(b.items()) for b in blocks[1:]]


class Sink:
    """Postfix's smtp-sink on host:port with its options; saves what it accepts."""

    def __init__(self, args=(), host="127.0.0.1", port=None):
        self.dir = tempfile.mkdtemp(prefix="postino-sink-")
        os.chmod(self.dir, 0o777)
        self.host = host
        self.port = port or free_port(host)
        cmd = ["smtp-sink", "-d", os.path.join(self.dir, "m."), *args]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        cmd += [f"{host}:{self.port}", "50"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(self._listening, 10, "smtp-sink")

    def _listening(self):
        try:
            socket.create_connection((self.host, self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def messages(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "m.*"))):
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Listener:
    """A TCP listener on host:port (0: any free port) calling on_connection per client."""

    def __init__(self, host="127.0.0.1", port=0):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(10)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.on_connection(conn)

    def close(self):
        self.listener.close()


class RecordingServer(Listener):
    """An SMTP server without DSN that records every command and message. With `stall`,
    its first session takes the whole message and never answers it; later sessions
    accept."""

    def __init__(self, stall=False, greeting=b"220 peer.test ESMTP\r\n",
                 rcpt_reply=b"250 2.0.0 ok\r\n"):
        self.greeting = greeting
        self.rcpt_reply = rcpt_reply
        self.stall = stall
        self.sessions = 0
        self.got_first_body = threading.Event()
        self.accepted = []  # raw DATA bytes, up to and with the final ".\r\n"
        self.commands = []
        super().__init__()

    def on_connection(self, conn):
        self.sessions += 1
        threading.Thread(target=self._session, args=(conn, self.stall and self.sessions == 1),
                         daemon=True).start()

    def _session(self, conn, stall):
        f = conn.makefile("rb")
        try:
            conn.sendall(self.greeting)
        except OSError:
            return
        try:
            while True:
                line = f.readline()
                if not line:
                    return
                self.commands.append(line)
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250-peer.test\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go on\r\n")
                    body = b""
                    while not body.endswith(b"\r\n.\r\n"):
                        chunk = f.readline()
                        if not chunk:
                            return
                        body += chunk
                    if stall:
                        self.got_first_body.set()
                        time.sleep(60)
                        return
                    self.accepted.append(body)
                    conn.sendall(b"250 2.0.0 taken\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                elif verb == b"RCPT":
                    conn.sendall(self.rcpt_reply)
                else:
                    conn.sendall(b"250 2.0.0 ok\r\n")
        except OSError:
            return
        finally:
            conn.close()


class SilentServer(Listener):
    """Accepts TCP connections on host:port and never says a word."""

    def __init__(self, host, port):
        self.held = []
        super().__init__(host, port)

    def on_connection(self, conn):
        self.held.append(conn)

    def close(self):
        super().close()
        for conn in self.held:
            conn.close()


class Dnsmasq:
    """dnsmasq (binary only, from dnsmasq-base) answering `lines` of its configuration on a
    free loopback port; nothing it does not know is asked upstream (.test is local)."""

    def __init__(self, directory, lines, name="dnsmasq"):
        self.port = free_port()
        conf = os.path.join(directory, f"{name}.conf")
        with open(conf, "w") as f:
            f.write("\n".join([f"port={self.port}", "listen-address=127.0.0.1",
                               "bind-interfaces", "no-resolv", "no-hosts", "local=/test/",
                               *lines]) + "\n")
        args = ["dnsmasq", "-C", conf, "-k", "--pid-file=" + os.path.join(directory, name + ".pid")]
        if os.geteuid() == 0:
            args.append("--user=root")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.3)
        if self.proc.poll() is not None:
            raise RuntimeError("dnsmasq did not start: " + self.proc.stderr.read().decode())

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stderr.close()


class OutboundCase(unittest.TestCase):
    servers = []

    def add_bob(self, server):
        """The domain b.test with the account bob@b.test on `server`."""
        self.assertEqual(postino(server, "domain", "add", "b.test").returncode, 0)
        out = subprocess.run([harness.BINARY, "--data", server.data, "user", "add", "bob@b.test",
                              "--password-stdin"], input="pw\n", capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)

    def start(self, **kwargs):
        server = harness.DevServer(**kwargs).start()
        self.servers.append(server)
        return server

    def tearDown(self):
        while self.servers:
            server = self.servers.pop()
            code, _ = server.stop()
            err = server.stderr()
            server.close()
            marker = harness.sanitizer_report(err)
            if marker:
                raise AssertionError("sanitizer report in server stderr:\n" + err[-5000:])
            if code not in (0, -signal.SIGKILL):
                raise AssertionError(f"server exited with {code}:\n" + err[-3000:])
