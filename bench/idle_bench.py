#!/usr/bin/python3
"""Memory of idle IMAP connections: N clients log in over TLS (port 993, SCRAM-SHA-256 so
that no password hash is computed per login), SELECT INBOX and IDLE; the server's
resident memory is read from /proc before and after, and one message delivered over SMTP
must reach every idling client.

    /usr/bin/python3 bench/idle_bench.py [--binary build/postino] [--connections 1000 10000]
                                         [--compress] [--server postino|dovecot]

--compress: each client turns on COMPRESS=DEFLATE (RFC 4978) after login, as K-9 Mail and
mbsync do, so the figure includes both zlib streams.

--server dovecot: the same clients against Debian's Dovecot 2.3 on its own loopback port
(implicit TLS, a static password, Maildir; its shipped defaults for the login and mail
processes, only the connection limits raised), measuring every Dovecot process: the sum
of their RSS, and of their PSS (shared pages divided among the processes that share
them), so that libraries shared by thousands of processes are not counted thousands of
times. New mail is one APPEND from another connection.

Prints, per N: RSS before, RSS with N idle connections, the difference per connection, and
how long the new-mail notification took to reach all N clients.
"""

import argparse
import base64
import imaplib
import os
import re
import resource
import selectors
import smtplib
import socket
import ssl
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import harness  # noqa: E402




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


def idle_client(port, ctx, user, password, compress=False, scram=True):
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    c = Client(ctx.wrap_socket(sock, server_hostname="localhost"))
    c.line()  # greeting
    if scram:
        scram = harness.ScramSha256Client(user, password)
        first = base64.b64encode(scram(b"")).decode()
        c.send(f"a AUTHENTICATE SCRAM-SHA-256 {first}\r\n".encode())
        challenge = c.line()
        c.send(base64.b64encode(scram(base64.b64decode(challenge[2:]))) + b"\r\n")
        final = c.line()
        scram(base64.b64decode(final[2:]))
        c.send(b"\r\n")
    else:
        plain = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        c.send(f"a AUTHENTICATE PLAIN {plain}\r\n".encode())
    line = c.line()
    while line.startswith(b"* "):
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
    assert c.line().startswith(b"+ idling"), "no IDLE"
    return c


def wait_for_exists(clients, count, deliver):
    """Seconds until every idling client has heard "EXISTS" after deliver(); how many did."""
    selector = selectors.DefaultSelector()
    for c in clients:
        c.sock.setblocking(False)
        selector.register(c.sock, selectors.EVENT_READ, c)
    sent = time.monotonic()
    deliver()
    heard = set()
    while len(heard) < count and time.monotonic() - sent < 60:
        for key, _ in selector.select(timeout=1):
            try:
                data = key.data.received(key.fileobj.recv(65536))
            except (BlockingIOError, OSError):
                continue
            if b"EXISTS" in data:
                heard.add(key.fileobj)
    return time.monotonic() - sent, len(heard)


def memory_kib(pids):
    """(sum of VmRSS, sum of Pss) of the processes, KiB."""
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                rss += int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))
            with open(f"/proc/{pid}/smaps_rollup") as f:
                pss += int(re.search(r"^Pss:\s+(\d+) kB", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            continue  # gone meanwhile, or a kernel thread
    return rss, pss


def run_dovecot(count, compress):
    from dovecot import Dovecot, PASSWORD
    limit = count + 100
    dovecot = Dovecot(tls=True, extra=f"""default_client_limit = {limit}
default_process_limit = {limit}
service imap {{
  process_limit = {limit}
}}
service imap-login {{
  process_limit = {limit}
}}
service auth {{
  client_limit = {3 * limit}
}}
service anvil {{
  client_limit = {3 * limit}
}}
protocol imap {{
  mail_max_userip_connections = {limit}
}}
""").start()
    try:
        ctx = ssl.create_default_context(cafile=dovecot.cert_file)
        idle_client(dovecot.port, ctx, "bench", PASSWORD, compress, scram=False).sock.close()
        time.sleep(0.5)
        before = memory_kib(dovecot.pids())
        began = time.monotonic()
        clients = [idle_client(dovecot.port, ctx, "bench", PASSWORD, compress, scram=False)
                   for _ in range(count)]
        opened = time.monotonic() - began
        time.sleep(1)
        pids = dovecot.pids()
        after = memory_kib(pids)

        def deliver():
            other = imaplib.IMAP4_SSL("localhost", dovecot.port, ssl_context=ctx)
            other.login("bench", PASSWORD)
            other.append("INBOX", None, None, b"Subject: ping\r\n\r\nping\r\n")
            other.logout()

        reached, heard = wait_for_exists(clients, count, deliver)
        for c in clients:
            c.sock.close()
        what = "compressed TLS" if compress else "TLS"
        print(f"dovecot: {count} idle {what} connections, {len(pids)} processes: "
              f"RSS {before[0]} KiB before, {after[0]} KiB with them: "
              f"{(after[0] - before[0]) / count:.1f} KiB each; "
              f"PSS {before[1]} KiB before, {after[1]} KiB with them: "
              f"{(after[1] - before[1]) / count:.1f} KiB each; opened in {opened:.1f} s; "
              f"new mail reached {heard}/{count} idling clients in {reached:.2f} s")
    finally:
        dovecot.stop()


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
        idle_client(server.ports["imaps"], ctx, user, password, compress).sock.close()
        time.sleep(0.5)
        before = harness.rss_kib(server.proc.pid)
        began = time.monotonic()
        clients = [idle_client(server.ports["imaps"], ctx, user, password, compress)
                   for _ in range(count)]
        opened = time.monotonic() - began
        time.sleep(1)
        after = harness.rss_kib(server.proc.pid)
        # One new message: every idling client must hear "* n EXISTS".
        def deliver():
            with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=60) as s:
                s.sendmail("bench@remote.test", [user], b"Subject: ping\r\n\r\nping\r\n")

        reached, heard = wait_for_exists(clients, count, deliver)
        pss = memory_kib([server.proc.pid])[1]
        for c in clients:
            c.sock.close()
        what = "compressed TLS" if compress else "TLS"
        print(f"{count} idle {what} connections: RSS {before} KiB before, {after} KiB with them: "
              f"{(after - before) / count:.1f} KiB each; opened in {opened:.1f} s; "
              f"(PSS {pss} KiB); new mail reached {heard}/{count} idling clients in {reached:.2f} s")
    finally:
        server.stop()
        server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="build/postino")
    parser.add_argument("--connections", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--compress", action="store_true")
    parser.add_argument("--server", choices=["postino", "dovecot"], default="postino")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it
    for count in args.connections:
        if args.server == "dovecot":
            run_dovecot(count, args.compress)
        else:
            run(os.path.abspath(args.binary), count, args.compress)


if __name__ == "__main__":
    main()
