#!/usr/bin/python3
"""Memory of idle IMAP connections: N clients log in over TLS (port 993, SCRAM-SHA-256 so
that no password hash is computed per login), SELECT INBOX and IDLE; the server's
resident memory is read from /proc before and after, and one message delivered over SMTP
must reach every idling client.

    /usr/bin/python3 bench/idle_bench.py [--binary build/postino] [--connections 1000 10000]
                                         [--compress]

--compress: each client turns on COMPRESS=DEFLATE (RFC 4978) after login, as K-9 Mail and
mbsync do, so the figure includes both zlib streams.

Prints, per N: RSS before, RSS with N idle connections, the difference per connection, and
how long the new-mail notification took to reach all N clients.
"""

import argparse
import base64
import os
import re
import resource
import selectors
import smtplib
import socket
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import harness  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


class Client:
    """One IMAP connection, compressed (RFC 4978) once compress() is called."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""
        self.out = self.inflate = None

    def compress(self):
        self.out = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.inflate = zlib.decompressobj(-15)

    def send(self, data):
        if self.out:
            data = self.out.compress(data) + self.out.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def received(self, chunk):
        return self.inflate.decompress(chunk) if self.inflate else chunk

    def line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += self.received(chunk)
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line


def idle_client(server, ctx, user, password, compress=False):
    sock = socket.create_connection(("127.0.0.1", server.ports["imaps"]), timeout=60)
    c = Client(ctx.wrap_socket(sock, server_hostname="localhost"))
    c.line()  # greeting
    scram = harness.ScramSha256Client(user, password)
    first = base64.b64encode(scram(b"")).decode()
    c.send(f"a AUTHENTICATE SCRAM-SHA-256 {first}\r\n".encode())
    challenge = c.line()
    c.send(base64.b64encode(scram(base64.b64decode(challenge[2:]))) + b"\r\n")
    final = c.line()
    scram(base64.b64decode(final[2:]))
    c.send(b"\r\n")
    line = c.line()
    assert line.startswith(b"a OK"), line
    if compress:
        c.send(b"z COMPRESS DEFLATE\r\n")
        assert c.line() == b"z OK DEFLATE active"
        c.compress()
    c.send(b"b SELECT INBOX\r\n")
    while not c.line().startswith(b"b OK"):
        pass
    c.send(b"c IDLE\r\n")
    assert c.line() == b"+ idling"
    return c


def run(binary, count, compress):
    config = f"""
[limits]
max_connections = {count + 100}
max_connections_per_ip = {count + 100}
max_new_connections_per_minute_per_ip = 0
"""
    harness.BINARY = binary
    server = harness.DevServer(config=config, listen=["imaps", "smtp"]).start()
    try:
        user, password = re.search(r"demo account (\S+)\s+password (\S+)",
                                   server.banner).groups()
        ctx = server.client_tls_context()
        # Warm up: one whole session, so that lazily made things exist before "before".
        idle_client(server, ctx, user, password, compress).sock.close()
        time.sleep(0.5)
        before = rss_kib(server.proc.pid)
        began = time.monotonic()
        clients = [idle_client(server, ctx, user, password, compress) for _ in range(count)]
        opened = time.monotonic() - began
        time.sleep(1)
        after = rss_kib(server.proc.pid)
        # One new message: every idling client must hear "* n EXISTS".
        selector = selectors.DefaultSelector()
        for c in clients:
            c.sock.setblocking(False)
            selector.register(c.sock, selectors.EVENT_READ, c)
        sent = time.monotonic()
        with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=60) as s:
            s.sendmail("bench@remote.test", [user], b"Subject: ping\r\n\r\nping\r\n")
        heard = set()
        while len(heard) < count and time.monotonic() - sent < 60:
            for key, _ in selector.select(timeout=1):
                try:
                    data = key.data.received(key.fileobj.recv(65536))
                except (BlockingIOError, OSError):
                    continue
                if b"EXISTS" in data:
                    heard.add(key.fileobj)
        reached = time.monotonic() - sent
        for c in clients:
            c.sock.close()
        what = "compressed TLS" if compress else "TLS"
        print(f"{count} idle {what} connections: RSS {before} KiB before, {after} KiB with them: "
              f"{(after - before) / count:.1f} KiB each; opened in {opened:.1f} s; "
              f"new mail reached {len(heard)}/{count} idling clients in {reached:.2f} s")
    finally:
        server.stop()
        server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="build/postino")
    parser.add_argument("--connections", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--compress", action="store_true")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it
    for count in args.connections:
        run(os.path.abspath(args.binary), count, args.compress)


if __name__ == "__main__":
    main()
