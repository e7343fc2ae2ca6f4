"""Shared helpers for Postino's end-to-end tests.

Each test file is a unittest module run by Debian's /usr/bin/python3 through ctest. A
`DevServer` starts `postino serve --dev` on ephemeral ports (port 0, read back from the
banner), waits until it is ready, and stops it with SIGTERM, checking that it exits 0 and
that no sanitizer reported anything.
"""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BINARY = os.environ.get("POSTINO_BINARY", "")
SOURCE_DIR = os.environ.get("POSTINO_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
PROTOCOLS = ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s"]
LISTENERS = PROTOCOLS + ["http", "https"]  # every kind of listener `serve` has
IMPLICIT_TLS = {"submissions", "imaps", "pop3s", "https"}
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
TIMEOUT = 10  # seconds for any single network wait


def rss_kib(pid):
    """The resident memory of a process (VmRSS), KiB."""
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


class DevServer:
    """A `postino serve --dev` process on ephemeral loopback ports.

    config: extra TOML applied on top of the dev defaults (written to a file).
    listen: listeners to open (default: all nine of LISTENERS), each on 127.0.0.1:0.
    """

    def __init__(self, config="", listen=None, extra_args=None, data=None, dns="127.0.0.1:9"):
        self.dir = tempfile.mkdtemp(prefix="postino-e2e-")
        # dns: the resolver for outbound mail (--dns); the default, a closed loopback port,
        # fails every lookup at once, so that no test ever asks a DNS server outside this
        # machine. None leaves it to the configuration.
        self.dns = dns
        # data: an existing data directory to reuse (it is not deleted by close()).
        self.data = data or os.path.join(self.dir, "data")
        self.config = config
        self.listen = LISTENERS if listen is None else listen
        self.extra_args = extra_args or []
        self.ports = {}
        self.banner = ""
        self.proc = None
        self._stderr_lines = []
        self._stderr_thread = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self):
        args = [BINARY, "serve", "--dev", "--data", self.data]
        if self.config:
            path = os.path.join(self.dir, "postino.toml")
            with open(path, "w") as f:
                f.write(self.config)
            args += ["--config", path]
        for p in LISTENERS:
            args += ["--listen", f"{p}=127.0.0.1:0" if p in self.listen else f"{p}=off"]
        if self.dns:
            args += ["--dns", self.dns]
        args += self.extra_args
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, errors="replace")
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        deadline = time.monotonic() + 60  # the sanitizer build starts slowly under load
        lines = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("postino exited before it was ready:\n" + "".join(lines) +
                                   self.stderr())
            lines.append(line)
            m = re.match(r"^\s{4}(\w+)\s+(\S+):(\d+)\s+(STARTTLS|implicit TLS|no TLS)$",
                         line.rstrip("\n"))
            if m:
                self.ports[m.group(1)] = int(m.group(3))
            if line.strip() == "Ready.":
                self.banner = "".join(lines)
                threading.Thread(target=self.proc.stdout.read, daemon=True).start()
                return self
        raise RuntimeError("postino did not get ready in time:\n" + "".join(lines))

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self._stderr_lines.append(line)

    def stderr(self):
        return "".join(self._stderr_lines)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signals the server and waits; returns (exit code, seconds it took)."""
        if self.proc is None:
            return (None, 0.0)
        if self.proc.poll() is not None:
            if self._stderr_thread:
                self._stderr_thread.join(timeout=5)
            return (self.proc.returncode, 0.0)
        began = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        if self._stderr_thread:
            self._stderr_thread.join(timeout=5)
        return code, time.monotonic() - began

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- helpers -----------------------------------------------------------------------
    @property
    def cert_file(self):
        return os.path.join(self.data, "tls", "cert.pem")

    @property
    def key_file(self):
        return os.path.join(self.data, "tls", "key.pem")

    @property
    def hostname(self):
        """The host name the server announces, from the banner."""
        m = re.search(r"^\s+hostname\s+(\S+)$", self.banner, re.M)
        return m.group(1) if m else ""

    def demo_credentials(self):
        """(address, password) of the demo account, from the banner."""
        m = re.search(r"demo account (\S+)\s+password (\S+)", self.banner)
        return m.group(1), m.group(2)

    def log_lines(self):
        """The stderr lines so far (a snapshot)."""
        return list(self._stderr_lines)

    def wait_for_log(self, predicate, timeout=TIMEOUT):
        """The first stderr line for which predicate(line) holds; None after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            for line in list(self._stderr_lines):
                if predicate(line):
                    return line
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def connect_raw(self, protocol, timeout=TIMEOUT):
        """A plain TCP connection, never wrapped in TLS (for implicit-TLS ports too)."""
        sock = socket.create_connection(("127.0.0.1", self.ports[protocol]), timeout=timeout)
        return LineClient(sock, self)

    def client_tls_context(self):
        """A TLS client context that trusts exactly the dev server's certificate."""
        ctx = ssl.create_default_context(cafile=self.cert_file)
        ctx.check_hostname = True
        return ctx

    def connect(self, protocol):
        """A plain TCP connection to a listener (implicit-TLS ones are wrapped)."""
        sock = socket.create_connection(("127.0.0.1", self.ports[protocol]), timeout=TIMEOUT)
        if protocol in IMPLICIT_TLS:
            sock = self.client_tls_context().wrap_socket(sock, server_hostname="localhost")
        return LineClient(sock, self)


class LineClient:
    """A raw line-oriented client: send bytes, read CRLF lines, upgrade to TLS."""

    def __init__(self, sock, server):
        self.sock = sock
        self.server = server
        self.buffer = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        """The next line without CRLF, as str; '' at end of stream."""
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                rest, self.buffer = self.buffer, b""
                return rest.decode(errors="replace")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.rstrip(b"\r").decode(errors="replace")

    def smtp_reply(self):
        """All lines of one SMTP reply (up to the one with a space after the code)."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return lines

    def until(self, predicate):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if predicate(line) or line == "":
                return lines

    def starttls(self):
        """Upgrades to TLS. Bytes already buffered from the server must not exist."""
        assert self.buffer == b"", f"server sent bytes before the handshake: {self.buffer!r}"
        self.sock = self.server.client_tls_context().wrap_socket(self.sock,
                                                                server_hostname="localhost")

    def is_closed(self, wait=TIMEOUT):
        """True when the server closes the connection within `wait` seconds."""
        self.sock.settimeout(wait)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buffer += data
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class ScramSha256Client:
    """The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as a callable for
    imaplib's authenticate(): called with each decoded server challenge, returns the next
    response. Checks the server's signature; `verified` tells whether it was right."""

    def __init__(self, user, password, nonce=None):
        import base64 as b64
        import os as _os
        self.user, self.password = user, password
        self.nonce = nonce or b64.b64encode(_os.urandom(18)).decode()
        self.client_first_bare = f"n={user.replace('=', '=3D').replace(',', '=2C')},r={self.nonce}"
        self.step = 0
        self.verified = False
        self.server_signature = None

    def __call__(self, challenge):
        import base64 as b64
        import hashlib
        import hmac
        self.step += 1
        if self.step == 1:
            return ("n,," + self.client_first_bare).encode()
        if self.step == 2:
            server_first = challenge.decode()
            fields = dict(f.split("=", 1) for f in server_first.split(","))
            if not fields["r"].startswith(self.nonce):
                raise ValueError("server nonce does not extend ours")
            salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(),
                                         b64.b64decode(fields["s"]), int(fields["i"]))
            client_key = hmac.digest(salted, b"Client Key", "sha256")
            stored_key = hashlib.sha256(client_key).digest()
            final_bare = f"c=biws,r={fields['r']}"
            auth_message = f"{self.client_first_bare},{server_first},{final_bare}".encode()
            signature = hmac.digest(stored_key, auth_message, "sha256")
            proof = bytes(a ^ b for a, b in zip(client_key, signature))
            server_key = hmac.digest(salted, b"Server Key", "sha256")
            self.server_signature = hmac.digest(server_key, auth_message, "sha256")
            return f"{final_bare},p={b64.b64encode(proof).decode()}".encode()
        self.verified = challenge == b"v=" + b64.b64encode(self.server_signature)
        return b""


def stored(server, address, mailbox="INBOX"):
    """Every message in an account's mailbox, as bytes, in UID order, read from the store."""
    import glob
    import sqlite3
    db = sqlite3.connect(os.path.join(server.data, "store.db"))
    rows = db.execute(
        "SELECT m.blob_id, x.bytes, p.segment, p.offset, p.size FROM messages m "
        "JOIN mailboxes b ON b.id = m.mailbox_id "
        "JOIN accounts a ON a.id = b.account_id LEFT JOIN blob_bytes x ON x.blob_id = m.blob_id "
        "LEFT JOIN blob_places p ON p.blob_id = m.blob_id "
        "WHERE a.address = ? AND b.name = ? ORDER BY m.uid", (address, mailbox)).fetchall()
    db.close()
    out = []
    for (blob, inline, segment, offset, size) in rows:
        if inline is not None:  # a small body, kept in the database
            out.append(bytes(inline))
            continue
        if segment is not None:  # in the body log
            with open(os.path.join(server.data, "segments", f"{segment:010d}.seg"), "rb") as f:
                f.seek(offset)
                out.append(f.read(size))
            continue
        paths = glob.glob(os.path.join(server.data, "blobs", blob[:2], blob)) + \
            glob.glob(os.path.join(server.data, "blobs", "new", blob))
        with open(paths[0], "rb") as f:
            out.append(f.read())
    return out


def sanitizer_report(stderr_text):
    """The first sanitizer marker found in a server's stderr, or None."""
    for marker in SANITIZER_MARKERS:
        if marker in stderr_text:
            return marker
    return None


class ServerTestCase(unittest.TestCase):
    """Starts one DevServer per test class; fails a test that left sanitizer reports."""

    config = ""
    listen = None

    @classmethod
    def setUpClass(cls):
        cls.server = DevServer(config=cls.config, listen=cls.listen).start()

    @classmethod
    def tearDownClass(cls):
        code, _ = cls.server.stop()
        err = cls.server.stderr()
        cls.server.close()
        for marker in SANITIZER_MARKERS:
            if marker in err:
                raise AssertionError("sanitizer report in server stderr:\n" + err[-5000:])
        if code != 0:
            raise AssertionError(f"server exited with {code}:\n" + err[-3000:])


def main():
    if not BINARY or not os.path.exists(BINARY):
        print("POSTINO_BINARY must name the postino binary", file=sys.stderr)
        sys.exit(2)
    unittest.main(verbosity=2)
